import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint } from '../helpers/server.js';

t.test('kill -9: acked messages, read marks, counts and blocks survive; a keyed retry after the restart stores nothing twice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-messages-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  const token = (userId: number, role: 'host' | 'viewer' = 'viewer') => mint(userId, role, { issuedAt: T0 / 1000 });
  const env = { LIVE_DB_PATH: join(dir, 'live.db'), LIVE_TEST_CLOCK_START: String(T0) };
  const connect = (url: string, userId: number, role?: 'host' | 'viewer') => LiveClient.connect(url, { token: token(userId, role) });

  const first = await spawnServer(env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  const [a, b, c] = await Promise.all([connect(first.url, 1), connect(first.url, 100, 'host'), connect(first.url, 3)]);
  const sent = [];
  for (let i = 1; i <= 3; i++) sent.push(await a.request('message.send', { userId: 100, text: `before the crash ${i}`, key: `k${i}` }));
  await c.request('message.send', { userId: 100, text: 'from three' });
  const conversationId = sent[0]!.conversationId;
  t.same(await b.request('message.read', { conversationId, upTo: sent[0]!.messageId }), { conversationId, readUpTo: sent[0]!.messageId, unread: 2, total: 3 });
  await b.request('block.add', { userId: 3 });

  first.child.kill('SIGKILL');
  await exited(first.child);

  const second = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0 + 60_000) });
  t.teardown(() => void second.child.kill('SIGKILL'));
  const b2 = LiveClient.create(second.url, { token: token(100, 'host') });
  const counted = b2.next('message.unread_count');
  await b2.start();
  t.teardown(() => void b2.drop().catch(() => {}));
  t.same(await counted, { total: 3 }, 'the count after the welcome is the stored one');
  const [a2, c2] = await Promise.all([connect(second.url, 1), connect(second.url, 3)]);
  t.teardown(() => void a2.drop().catch(() => {}));
  t.teardown(() => void c2.drop().catch(() => {}));

  const history = await b2.request('message.history', { conversationId });
  t.same(history.messages.map((m) => m.text), ['before the crash 3', 'before the crash 2', 'before the crash 1']);
  t.equal(history.messages[0]!.at, T0, 'stored with the time it was sent');
  t.match(await b2.request('message.conversations', {}), {
    conversations: [
      { peerId: 3, unread: 1 },
      { conversationId, peerId: 1, unread: 2, readUpTo: sent[0]!.messageId },
    ],
  });
  t.same(await a2.request('message.send', { userId: 100, text: 'before the crash 2', key: 'k2' }), sent[1], 'a retry after the restart: the first reply');
  await t.rejects(c2.request('message.send', { userId: 100, text: 'still blocked?' }), { code: 25 }, 'the block survived');
  const fresh = await a2.request('message.send', { userId: 100, text: 'after the restart' });
  t.ok(fresh.messageId > sent[2]!.messageId, 'ids continue after the stored ones');
  t.same(await b2.request('message.unread', {}), { total: 4, conversations: 2 });
  second.child.kill('SIGTERM');
  t.match(await exited(second.child), { code: 0 });
});
