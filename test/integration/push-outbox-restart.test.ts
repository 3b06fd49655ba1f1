import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { exited, spawnServer } from '../helpers/child.js';
import { PushReceiver } from '../helpers/push-receiver.js';
import { mint, waitFor } from '../helpers/server.js';

interface Row {
  id: number;
  user_id: number;
  attempts: number;
  status: string;
  next_attempt_at: number | null;
}

t.test('kill -9 with one item waiting for its retry and one in flight: after the restart both go, with the same ids, the retry at its time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-push-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = await PushReceiver.start();
  t.teardown(() => receiver.close());
  const T0 = 1_800_000_000_000;
  const path = join(dir, 'live.db');
  const env = {
    LIVE_DB_PATH: path,
    LIVE_PUSH_WEBHOOK_URL: receiver.url,
    LIVE_PUSH_BACKOFF_BASE_MS: '1000',
    LIVE_PUSH_BACKOFF_MAX_MS: '1000',
    LIVE_TEST_CLOCK_START: String(T0),
  };
  const connect = (url: string, userId: number, role: 'host' | 'viewer' = 'viewer') => LiveClient.connect(url, { token: mint(userId, role, { issuedAt: T0 / 1000 }) });

  const first = await spawnServer(env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  for (const id of [100, 101]) await (await connect(first.url, id, 'host')).close();
  receiver.rule = (p) => (p.userId === 100 ? 500 : 'hold');
  const viewer = await connect(first.url, 1);
  await viewer.request('booking.create', { userId: 100, startsAt: T0 + 600_000 });
  await viewer.request('booking.create', { userId: 101, startsAt: T0 + 1_200_000 });
  await waitFor(() => receiver.received.length === 2 && first.output().includes('push attempt failed, will retry'), 'a failed attempt recorded and one in flight', 10_000);
  first.child.kill('SIGKILL');
  await exited(first.child);

  const stored = () => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT id, user_id, attempts, status, next_attempt_at FROM outbox ORDER BY id').all() as Row[];
    } finally {
      db.close();
    }
  };
  const [retrying, inFlight] = stored();
  t.match(retrying, { id: 1, user_id: 100, attempts: 1, status: 'pending' }, 'the failure was stored');
  t.ok(retrying!.next_attempt_at! > T0 && retrying!.next_attempt_at! <= T0 + 1000, 'with its retry time');
  t.match(inFlight, { id: 2, user_id: 101, attempts: 0, status: 'pending', next_attempt_at: T0 }, 'the item in flight is still pending');

  receiver.rule = () => 200;
  const second = await spawnServer(env);
  t.teardown(() => void second.child.kill('SIGKILL'));
  await waitFor(() => receiver.of(101).length === 2, 'the item in flight sent again at start', 10_000);
  t.match(receiver.of(101).map((p) => p.body), [{ id: 2, attempt: 1 }, { id: 2, attempt: 1 }], 'the same id: the gateway can tell it is a duplicate');
  t.equal(receiver.of(100).length, 1, 'the retry is not due yet');
  await second.advance(1000);
  await waitFor(() => receiver.of(100).length === 2, 'the retry at its time', 10_000);
  t.match(receiver.of(100)[1]!.body, { id: 1, attempt: 2 });

  second.child.kill('SIGTERM');
  t.match(await exited(second.child), { code: 0 });
  t.same(stored().map((r) => [r.id, r.status]), [[1, 'delivered'], [2, 'delivered']], 'both delivered, nothing lost');
});
