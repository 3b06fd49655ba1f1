import t, { type Test } from 'tap';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer } from '../helpers/server.js';


async function setup(t: Test, overrides: Record<string, unknown> = {}) {
  const ts = await startTestServer(t, { adminToken: ADMIN, houseCutPct: 30, ...overrides });
  const admin = adminApi(ts).call;
  await admin('PUT', '/admin/gifts/1', { name: 'Rose', price: 10, image: 'r.gif', icon: 'r.png', type: 1 });
  await admin('PUT', '/admin/gifts/2', { name: 'Rocket', price: 1000, image: 'k.gif', icon: 'k.png', type: 2 });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'bag' });
  return { ts, admin, host, roomId };
}

t.test('granted items: listed and counted, used by a gift instead of credits, the host earns the same, the books balance', async (t) => {
  const { ts, admin, host, roomId } = await setup(t);
  const viewer = await ts.connect(1);
  const updated = viewer.next('backpack.updated');
  const grant = await admin('POST', '/admin/users/1/backpack', { key: 'promo-7', giftId: 1, count: 3, reason: 'welcome pack' });
  t.equal(grant.status, 200);
  t.match(grant.body, { count: 3, replayed: false });
  t.match(await updated, { giftId: 1, count: 3, delta: 3, reason: 'granted' });
  t.match((await admin('POST', '/admin/users/1/backpack', { key: 'promo-7', giftId: 1, count: 3, reason: 'welcome pack' })).body, { count: 3, replayed: true });
  t.equal((await admin('POST', '/admin/users/1/backpack', { key: 'promo-7', giftId: 1, count: 4, reason: 'welcome pack' })).status, 409);
  t.match(await viewer.request('backpack.list', {}), { items: [{ gift: { giftId: 1, name: 'Rose' }, count: 3 }] });
  t.same(await viewer.request('backpack.count', {}), { kinds: 1, items: 3, gifts: { kinds: 1, items: 3 }, vehicles: { kinds: 0, items: 0 }, coupons: { kinds: 0, items: 0 } });

  await viewer.request('room.enter', { roomId });
  const used = viewer.next('backpack.updated');
  const seen = host.next('room.gift');
  const sent = await viewer.request('gift.send', { giftId: 1, count: 2, roomId, fromBackpack: true, key: 'bp-1' });
  t.match(sent, { credits: 0, streak: 1, streakCount: 2 });
  t.match(await used, { giftId: 1, count: 1, delta: -2, reason: 'used' });
  t.match(await seen, { count: 2, roomTotal: 20 });
  t.same(await viewer.request('gift.send', { giftId: 1, count: 2, roomId, fromBackpack: true, key: 'bp-1' }), sent, 'a retry: the first reply');
  await t.rejects(viewer.request('gift.send', { giftId: 1, count: 2, roomId, fromBackpack: true }), { code: 754 }, 'only one left');
  await t.rejects(viewer.request('gift.send', { giftId: 2, roomId, fromBackpack: true }), { code: 754 }, 'none of that gift');
  await t.rejects(viewer.request('gift.send', { giftId: 1, roomId }), { code: 740 }, 'and no credits');
  t.same(await viewer.request('backpack.count', {}), { kinds: 1, items: 1, gifts: { kinds: 1, items: 1 }, vehicles: { kinds: 0, items: 0 }, coupons: { kinds: 0, items: 0 } });
  t.same(await host.request('wallet.balance', {}), { credits: 14 });
  t.match((await admin('GET', '/admin/ledger/audit')).body, { ok: true, minted: 20, circulating: 20, items: 1, house: 6 });
});

t.test('the entrance gift: a random cheap gift from the host on the first entry only', async (t) => {
  const { ts, admin, host, roomId } = await setup(t, { entranceGiftPct: 100, entranceGiftMaxPrice: 50 });
  const viewer = await ts.connect(2);
  const welcome = viewer.next('room.entrance_gift');
  const bag = viewer.next('backpack.updated');
  await viewer.request('room.enter', { roomId });
  t.match(await welcome, { roomId, hostId: 100, gift: { giftId: 1 }, count: 1 }, 'the only gift within the price');
  t.match(await bag, { giftId: 1, count: 1, delta: 1, reason: 'entrance' });
  await viewer.request('room.leave', {});
  let again = 0;
  viewer.on('room.entrance_gift', () => void again++);
  await viewer.request('room.enter', { roomId });
  await viewer.request('session.ping', {});
  await host.request('session.ping', {});
  t.equal(again, 0, 'not a second time in the same room');
  t.same(await viewer.request('backpack.count', {}), { kinds: 1, items: 1, gifts: { kinds: 1, items: 1 }, vehicles: { kinds: 0, items: 0 }, coupons: { kinds: 0, items: 0 } });
  t.match((await admin('GET', '/admin/ledger/audit')).body, { ok: true, items: 1, minted: 0 });
});

t.test('bad grants are refused and change nothing', async (t) => {
  const { admin } = await setup(t);
  const cases: Array<[unknown, number]> = [
    [{ key: 'k', giftId: 99, count: 1, reason: 'x' }, 404],
    [{ key: 'k', giftId: 1, count: 0, reason: 'x' }, 400],
    [{ key: 'k', giftId: 1, count: 1.5, reason: 'x' }, 400],
    [{ key: 'k', giftId: 1, count: 10_001, reason: 'x' }, 400],
    [{ key: 'k', giftId: 1, count: 1 }, 400],
    [{ giftId: 1, count: 1, reason: 'x' }, 400],
  ];
  for (const [body, status] of cases) t.equal((await admin('POST', '/admin/users/1/backpack', body)).status, status, JSON.stringify(body));
  t.match((await admin('GET', '/admin/ledger/audit')).body, { ok: true, transfers: 0 });
});
