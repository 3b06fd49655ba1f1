import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint } from '../helpers/server.js';

t.test('kill -9 with a pending co-host request, a call and a match to answer: each deadline fires on time after the restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-cohost-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  const token = (userId: number, role: 'host' | 'viewer' = 'viewer') => mint(userId, role, { issuedAt: T0 / 1000 });
  const env = {
    LIVE_DB_PATH: join(dir, 'live.db'),
    LIVE_CALL_REQUEST_TTL_MS: '30000',
    LIVE_CALL_CONFIRM_MS: '6000',
    LIVE_MATCH_ACCEPT_MS: '15000',
    LIVE_ROOM_HOST_GRACE_MS: '600000',
  };
  const connect = (url: string, userId: number, role?: 'host' | 'viewer') => LiveClient.connect(url, { token: token(userId, role) });

  const first = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0) });
  t.teardown(() => void first.child.kill('SIGKILL'));
  const [host, v1, v2, h101, v3] = await Promise.all([
    connect(first.url, 100, 'host'), connect(first.url, 1), connect(first.url, 2), connect(first.url, 101, 'host'), connect(first.url, 3),
  ]);
  const { roomId } = await host.request('room.open', { title: 'co-host' });
  await v1.request('room.enter', { roomId });
  await v2.request('room.enter', { roomId });
  const req = await v1.request('call.request', {});
  t.equal(req.expiresAt, T0 + 30_000);
  await v2.request('call.request', {});
  await host.request('call.accept', { userId: 2 });
  t.match(await v2.request('call.confirm', {}), { status: 'connected' });
  await v3.request('match.start', {});
  const found = h101.next('match.found');
  await h101.request('match.start', {});
  const f = await found;
  t.equal(f.expiresAt, T0 + 15_000);
  await h101.request('match.accept', { matchId: f.matchId });

  first.child.kill('SIGKILL');
  await exited(first.child);

  const second = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0 + 10_000) });
  t.teardown(() => void second.child.kill('SIGKILL'));
  const [host2, w1, w2, g101, w3] = await Promise.all([
    connect(second.url, 100, 'host'), connect(second.url, 1), connect(second.url, 2), connect(second.url, 101, 'host'), connect(second.url, 3),
  ]);
  t.match(await w1.request('room.enter', { roomId }), { call: { userId: 2, status: 0 } }, 'the call is back, to be confirmed again');
  const queue = await host2.request('call.queue', {});
  t.match(queue, { roomId, queue: [{ viewer: { userId: 1 }, expiresAt: T0 + 30_000 }], call: { viewer: { userId: 2 }, status: 'joining', confirmBy: T0 + 16_000 } },
    'the pending request kept its deadline; the call must be confirmed within LIVE_CALL_CONFIRM_MS of the restart');
  await t.rejects(g101.request('match.start', {}), { code: 786 }, 'the match is still there to answer');

  const matchEnded = [g101.next('match.ended'), w3.next('match.ended')];
  await second.advance(5000); // T0 + 15 s: the match window closes
  const [mh, mv] = await Promise.all(matchEnded);
  t.same(mh, { matchId: f.matchId, reason: 'expired', waiting: true }, 'the host had accepted before the crash');
  t.same(mv, { matchId: f.matchId, reason: 'expired', waiting: false });

  const callEnded = [host2.next('call.ended'), w2.next('call.ended')];
  await second.advance(1000); // T0 + 16 s: the co-host did not confirm again
  for (const e of await Promise.all(callEnded)) t.same(e, { roomId, viewerId: 2, reason: 'not_confirmed', call: true });

  await second.advance(13_999);
  t.match(await host2.request('call.queue', {}), { queue: [{ viewer: { userId: 1 } }] }, 'not before its time');
  const expired = [host2.next('call.ended'), w1.next('call.ended')];
  await second.advance(1); // T0 + 30 s
  for (const e of await Promise.all(expired)) t.same(e, { roomId, viewerId: 1, reason: 'expired', call: false });
  t.match(await host2.request('call.queue', {}), { queue: [], call: null });

  second.child.kill('SIGTERM');
  t.match(await exited(second.child), { code: 0 });
});
