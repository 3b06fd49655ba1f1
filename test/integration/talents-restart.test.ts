import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { ADMIN_TOKEN } from '../helpers/admin.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint, until } from '../helpers/server.js';

t.test('kill -9 with talent requests pending: the one past its expiry is refunded at start-up, the other on time; nothing is paid twice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-talent-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  const token = (userId: number, role: 'host' | 'viewer' = 'viewer') => mint(userId, role, { issuedAt: T0 / 1000 });
  const env = { LIVE_DB_PATH: join(dir, 'live.db'), LIVE_TALENT_TTL_MS: '60000', LIVE_ADMIN_TOKEN: ADMIN_TOKEN, LIVE_HOUSE_CUT_PCT: '30' };
  const connect = (url: string, userId: number, role?: 'host' | 'viewer') => LiveClient.connect(url, { token: token(userId, role) });
  const topUp = (port: number, userId: number, amount: number) =>
    fetch(`http://127.0.0.1:${port}/admin/users/${userId}/topup`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ orderId: `o${userId}`, amount }),
    });

  const first = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0) });
  t.teardown(() => void first.child.kill('SIGKILL'));
  await topUp(first.port, 1, 1000);
  const [host, viewer] = await Promise.all([connect(first.url, 100, 'host'), connect(first.url, 1)]);
  const room = await host.request('room.open', { title: 'talents' });
  await viewer.request('room.enter', { roomId: room.roomId });
  await host.request('talent.set', { name: 'song', price: 100 });
  const early = await viewer.request('talent.request', { talentId: 1, key: 'early' });
  await first.advance(30_000);
  const late = await viewer.request('talent.request', { talentId: 1, key: 'late' });
  t.equal(late.credits, 800);
  t.same([early.request.expiresAt, late.request.expiresAt], [T0 + 60_000, T0 + 90_000]);

  first.child.kill('SIGKILL');
  await exited(first.child);

  // Down for 40 s: the first request's expiry fell due while down, the second's is ahead.
  const second = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0 + 70_000) });
  t.teardown(() => void second.child.kill('SIGKILL'));
  const [host2, viewer2] = await Promise.all([connect(second.url, 100, 'host'), connect(second.url, 1)]);
  const credit = () => viewer2.request('wallet.balance', {}).then((r) => r.credits);
  await until(() => second.advance(0).then(credit), (n) => n === 900, 'the overdue expiry to refund at start-up');
  t.match(await viewer2.request('talent.request', { talentId: 1, key: 'early' }), { credits: 900, request: { requestId: early.request.requestId, status: 'expired' } },
    'its key answers the expired request and holds nothing');
  await t.rejects(host2.request('talent.accept', { requestId: early.request.requestId }), { code: 791 });

  await second.advance(19_999);
  t.equal(await credit(), 900, 'the second not refunded before its time');
  const answered = viewer2.next('talent.answered');
  await second.advance(1);
  t.match(await answered, { requestId: late.request.requestId, outcome: 'expired', refunded: 100 });
  await until(credit, (n) => n === 1000, 'the second refund');
  await second.advance(60_000);
  t.equal(await credit(), 1000, 'refunded once');
  const audit = (await (await fetch(`http://127.0.0.1:${second.port}/admin/ledger/audit`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Record<string, unknown>;
  t.match(audit, { ok: true, held: 0, minted: 1000, house: 0 });
  second.child.kill('SIGTERM');
  t.match(await exited(second.child), { code: 0 });

  const db = new Database(join(dir, 'live.db'), { readonly: true });
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT id, status, ended_at AS endedAt FROM talent_requests ORDER BY id').all(), [
    { id: early.request.requestId, status: 'expired', endedAt: T0 + 70_000 },
    { id: late.request.requestId, status: 'expired', endedAt: T0 + 90_000 },
  ]);
  t.same(db.prepare("SELECT count(*) AS n FROM actor_deadlines WHERE key LIKE 'talent:%'").get(), { n: 0 }, 'no deadline left behind');
});
