import t from 'tap';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer, until } from '../helpers/server.js';

const DAY = 86_400_000;

t.test('intimacy grows with watch time, gifts and paid talents, pushes level-ups, and decays over a simulated week on the clock', async (t) => {
  const ts = await startTestServer(t, {
    adminToken: ADMIN, houseCutPct: 30, intimacyLevels: [10, 100, 500, 2000], intimacyDecayPct: 10, intimacyPerMinute: 2, intimacyPerCredit: 1,
  });
  const api = adminApi(ts);
  t.equal((await api.call('PUT', '/admin/gifts/1', { name: 'Rose', price: 10, image: 'https://cdn.example/r.gif', icon: 'https://cdn.example/r.png', type: 1 })).status, 200);
  await api.post('/admin/users/1/topup', { orderId: 'seed', amount: 2000 });
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const room = await host.request('room.open', { title: 'close friends' });
  t.same(await viewer.request('intimacy.get', { userId: 100 }), { viewerId: 1, hostId: 100, points: 0, level: 0, nextLevelAt: 10, grewAt: null });

  // Five and a half minutes watched: 5 whole minutes × 2 points, counted when the visit ends. Entering the
  // same room again meanwhile (a client resyncing) goes on with the visit (split, it would count 2 + 2 + 0).
  await viewer.request('room.enter', { roomId: room.roomId });
  ts.clock.advance(2.5 * 60_000);
  await viewer.request('room.enter', { roomId: room.roomId });
  ts.clock.advance(2.5 * 60_000);
  await viewer.request('room.enter', { roomId: room.roomId });
  ts.clock.advance(0.5 * 60_000);
  const levelUp = viewer.next('intimacy.level_up');
  const hostLevelUp = host.next('intimacy.level_up');
  await viewer.request('room.leave', {});
  const first = { viewerId: 1, hostId: 100, level: 1, points: 10, nextLevelAt: 100 };
  t.same(await levelUp, first, 'level 1 reached by watching');
  t.same(await hostLevelUp, first, 'the host hears of it too');
  const grewAt = ts.clock.now();
  t.same(await host.request('intimacy.get', { userId: 1 }), { viewerId: 1, hostId: 100, points: 10, level: 1, nextLevelAt: 100, grewAt });

  // Gifts: 1 point per credit, when committed (49 roses → 490 credits: 500 points, level 3).
  await viewer.request('room.enter', { roomId: room.roomId });
  const gifted = viewer.next('intimacy.level_up');
  await viewer.request('gift.send', { giftId: 1, count: 49, roomId: room.roomId });
  t.same(await gifted, { viewerId: 1, hostId: 100, level: 3, points: 500, nextLevelAt: 2000 }, 'two levels at once: one push with the new level');

  // A paid talent counts when it is paid to the host.
  await host.request('talent.set', { name: 'song', price: 500 });
  const r = await viewer.request('talent.request', { talentId: 1 });
  t.equal((await viewer.request('intimacy.get', { userId: 100 })).points, 500, 'a held request does not count yet');
  const answered = viewer.next('talent.answered');
  await host.request('talent.accept', { requestId: r.request.requestId });
  await answered;
  const paidAt = ts.clock.now();
  await until(() => viewer.request('intimacy.get', { userId: 100 }), (v) => v.points === 1000, 'the paid talent to count');
  await viewer.request('room.leave', {});

  // A week without growth: 10 % a day, rounded down each day: 1000 → 900 → 810 → 729 → 656 → 590 → 531 → 477.
  ts.clock.advance(DAY - 1);
  t.match(await viewer.request('intimacy.get', { userId: 100 }), { points: 1000, level: 3 }, 'no decay before a full day');
  ts.clock.advance(1);
  t.match(await viewer.request('intimacy.get', { userId: 100 }), { points: 900, level: 3 }, 'one day: 10 % less');
  ts.clock.advance(6 * DAY);
  t.same(await viewer.request('intimacy.get', { userId: 100 }), { viewerId: 1, hostId: 100, points: 477, level: 2, nextLevelAt: 500, grewAt: paidAt }, 'a week: 477, back to level 2');
  t.same(await host.request('intimacy.top', { hostId: 100 }), { hostId: 100, viewers: [{ viewerId: 1, points: 477, level: 2 }] });

  // Growth after decay starts from the decayed value (and the level crossed again is pushed).
  await viewer.request('room.enter', { roomId: room.roomId });
  const again = viewer.next('intimacy.level_up');
  await viewer.request('gift.send', { giftId: 1, count: 3, roomId: room.roomId });
  t.same(await again, { viewerId: 1, hostId: 100, level: 3, points: 507, nextLevelAt: 2000 });
  const row = ts.server.internals.db.prepare('SELECT points, updated_at AS at FROM intimacy WHERE viewer_id = 1 AND host_id = 100');
  const stored = await until(async () => row.get() as { points: number; at: number }, (r) => r.points === 507, 'the growth to commit');
  t.same(stored, { points: 507, at: ts.clock.now() }, 'stored as of its last growth');
});
