import t from 'tap';
import { ADMIN_TOKEN, adminApi } from '../helpers/admin.js';
import { startTestServer, until } from '../helpers/server.js';

t.test('viewer levels (5.30): gifts, paid barrage and paid minutes count, a level-up is pushed once per level, a host\'s earnings do not count', async (t) => {
  const ts = await startTestServer(t, {
    adminToken: ADMIN_TOKEN,
    viewerLevels: [50, 100, 1000],
    barragePrice: 20,
    houseCutPct: 30,
    rebatePct: 10,
    ratePerSec: 100_000,
    rateBurst: 100_000,
  });
  const admin = adminApi(ts);
  await admin.call('PUT', '/admin/gifts/1', { name: 'Rose', price: 10, image: 'https://cdn.example/r.webp', icon: 'https://cdn.example/r.png', type: 2 });
  await admin.post('/admin/users/1/topup', { orderId: 'o1', amount: 1000 });
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const ups: unknown[] = [];
  viewer.on('viewer.level_up', (d) => ups.push(d));
  const { roomId } = await host.request('room.open', { title: 'levels', pricePerMinute: 30 });
  await viewer.request('room.enter', { roomId }); // minute 1: 30 less the 3 rebate = 27
  await until(() => viewer.request('viewer.level', {}), (l) => l.credits === 27, 'the first minute counted');
  t.same(ups, [], 'below the first level');

  await viewer.request('gift.send', { giftId: 1, count: 3, roomId }); // 30 → 57
  await until(() => viewer.request('viewer.level', {}), (l) => l.credits === 57, 'the gift counted');
  t.same(ups, [{ level: 1, credits: 57, nextLevelAt: 100 }], 'level 1 reached');
  await viewer.request('chat.barrage', { text: 'hi' }); // 20 → 77
  await viewer.request('gift.send', { giftId: 1, count: 3, roomId, key: 'g2' }); // 30 → 107
  await viewer.request('gift.send', { giftId: 1, count: 3, roomId, key: 'g2' }); // a retry: nothing
  const level = await until(() => viewer.request('viewer.level', {}), (l) => l.credits === 107, 'barrage and gift counted');
  t.same(level, { userId: 1, level: 2, credits: 107, nextLevelAt: 1000 });
  t.same(ups, [{ level: 1, credits: 57, nextLevelAt: 100 }, { level: 2, credits: 107, nextLevelAt: 1000 }], 'one push per level');
  t.same(await viewer.request('viewer.level', { userId: 100 }), { userId: 100, level: 0, credits: 0, nextLevelAt: 50 }, 'what the host earned is not spending');
  t.same(await host.request('viewer.level', { userId: 1 }), level, 'anyone may read a level');
  await t.rejects(viewer.requestRaw('viewer.level', { userId: 0 }), { code: 700 });
});
