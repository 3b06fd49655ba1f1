import t from 'tap';
import { startTestServer, waitFor } from '../helpers/server.js';

t.test('lookups of rooms that are not open spawn nothing', async (t) => {
  const ts = await startTestServer(t, { adminToken: 'a'.repeat(32), ratePerSec: 100_000, rateBurst: 100_000 });
  const v = await ts.connect(1);
  const before = ts.server.internals.actorsAlive().room;
  const answers = await Promise.allSettled(Array.from({ length: 500 }, (_, i) => v.request('room.viewers', { roomId: 10_000 + i, page: 1, pageSize: 10 })));
  t.ok(answers.every((a) => a.status === 'rejected' && (a.reason as { code: number }).code === 731), 'every one is 731');
  await t.rejects(v.request('room.enter', { roomId: 123_456 }), { code: 731 });
  const res = await fetch(`${ts.http}/admin/rooms/777/close`, { method: 'POST', headers: { authorization: `Bearer ${'a'.repeat(32)}` } });
  t.equal(res.status, 404);
  t.equal(ts.server.internals.actorsAlive().room, before, 'no room actor was spawned');
});

t.test('closed rooms leave a history row with totals and no journal; actors go; the user journal is compacted', async (t) => {
  const ts = await startTestServer(t, { snapshotEvery: 5, ratePerSec: 100_000, rateBurst: 100_000 });
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  for (let i = 0; i < 30; i++) {
    const { roomId } = await host.request('room.open', { title: `live ${i}` });
    await v.request('room.enter', { roomId });
    await host.request('room.close', {});
  }
  const { db } = ts.server.internals;
  const rows = db.prepare('SELECT closed_at IS NOT NULL AS closed, totals FROM rooms').all() as Array<{ closed: number; totals: string }>;
  t.equal(rows.length, 30);
  t.ok(rows.every((r) => r.closed === 1), 'every row closed');
  t.match(JSON.parse(rows[0]!.totals), { peakViewers: 1, totalViewers: 1, likes: 0, gifts: 0, credits: 0 });
  t.equal(db.prepare("SELECT count(*) FROM journal WHERE key LIKE 'room:%'").pluck().get(), 0, 'no journal rows of closed rooms');
  t.equal(db.prepare("SELECT count(*) FROM snapshots WHERE key LIKE 'room:%'").pluck().get(), 0, 'no snapshots of closed rooms');
  t.equal(db.prepare('SELECT count(*) FROM actor_deadlines').pluck().get(), 0);
  await waitFor(() => ts.server.internals.actorsAlive().room === 0, 'closed room actors to leave memory');

  // 31 logins of user 1 with a snapshot every 5: the journal keeps only what follows the last snapshot.
  for (let i = 0; i < 30; i++) await (await ts.connect(1)).request('session.ping', {});
  const journal = db.prepare("SELECT count(*) FROM journal WHERE key = 'user:1'").pluck().get() as number;
  t.ok(journal < 5, `${journal} journal rows left for user 1 after 31 logins`);
  t.match(await (await ts.connect(1)).request('session.whoami', {}), { logins: 32 }, 'nothing lost by compacting');
});
