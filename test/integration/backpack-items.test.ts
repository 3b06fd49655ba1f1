import t, { type Test } from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { mintToken } from '../../src/server/auth.js';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer, TEST_SECRET, waitFor, type TestServer } from '../helpers/server.js';

/** Collects the pushes of one op on a client. */
function collect<T = Record<string, unknown>>(c: LiveClient, op: string): T[] {
  const seen: T[] = [];
  c.on(op as never, (d: unknown) => void seen.push(d as T));
  return seen;
}

/** A viewer whose token says `level`. */
async function viewerAt(ts: TestServer, t: Test, userId: number, level: number): Promise<LiveClient> {
  const token = mintToken(TEST_SECRET, {
    userId,
    role: 'viewer',
    profile: { nickname: `user${userId}`, avatar: `https://cdn.example/a/${userId}.png`, gender: '', level },
    ttlSec: 3600,
  });
  const c = await LiveClient.connect(ts.url, { token });
  t.teardown(() => void c.drop().catch(() => {}));
  return c;
}

async function setup(t: Test, overrides: Record<string, unknown> = {}) {
  const ts = await startTestServer(t, { adminToken: ADMIN, ...overrides });
  const admin = adminApi(ts).call;
  t.equal((await admin('PUT', '/admin/vehicles/1', { name: 'Ferrari', image: 'f.png', animation: 'f.svga' })).status, 200);
  t.equal((await admin('PUT', '/admin/vehicles/2', { name: 'Horse', image: 'h.png' })).status, 200);
  t.equal((await admin('PUT', '/admin/coupons/1', { name: '10% off', image: 'c.png' })).status, 200);
  return { ts, admin };
}

t.test('vehicles and coupons: granted once per key, pushed, listed, counted; the books balance', async (t) => {
  const { ts, admin } = await setup(t);
  const viewer = await ts.connect(1);
  const updates = collect(viewer, 'backpack.updated');
  const grant = await admin('POST', '/admin/users/1/backpack', { key: 'car-1', vehicleId: 1, count: 1, reason: 'vip' });
  t.equal(grant.status, 200);
  t.match(grant.body, { count: 1, replayed: false });
  t.match((await admin('POST', '/admin/users/1/backpack', { key: 'car-1', vehicleId: 1, count: 1, reason: 'vip' })).body, { count: 1, replayed: true });
  t.equal((await admin('POST', '/admin/users/1/backpack', { key: 'car-1', couponId: 1, count: 1, reason: 'vip' })).status, 409, 'a key names one grant');
  t.match((await admin('POST', '/admin/users/1/backpack', { key: 'cp-1', couponId: 1, count: 3, reason: 'promo' })).body, { count: 3 });
  t.match((await admin('POST', '/admin/users/1/backpack', { key: 'g-1', giftId: 1, count: 1, reason: 'x' })), { status: 404, body: { code: 730 } });
  await viewer.request('session.ping', {});
  t.same(
    updates.map(({ kind, itemId, count, delta, reason }) => ({ kind, itemId, count, delta, reason })),
    [
      { kind: 'vehicle', itemId: 1, count: 1, delta: 1, reason: 'granted' },
      { kind: 'coupon', itemId: 1, count: 3, delta: 3, reason: 'granted' },
    ],
    'one backpack.updated per grant, none for the replay',
  );
  t.notOk('giftId' in updates[0]!, 'giftId only for gifts');

  t.same(await viewer.request('backpack.vehicles', {}), { vehicles: [{ vehicle: { vehicleId: 1, name: 'Ferrari', image: 'f.png', animation: 'f.svga' }, count: 1 }], inUse: null });
  t.same(await viewer.request('backpack.coupons', {}), { coupons: [{ coupon: { couponId: 1, name: '10% off', image: 'c.png' }, count: 3 }] });
  t.same(await viewer.request('backpack.list', {}), { items: [] }, 'not gifts');
  t.same(await viewer.request('backpack.count', {}), {
    kinds: 2, items: 4, gifts: { kinds: 0, items: 0 }, vehicles: { kinds: 1, items: 1 }, coupons: { kinds: 1, items: 3 },
  });
  t.match((await admin('GET', '/admin/items')).body, { items: [{ kind: 'coupon', id: 1 }, { kind: 'vehicle', id: 1, animation: 'f.svga' }, { kind: 'vehicle', id: 2, animation: '' }] });
  t.match((await admin('GET', '/admin/ledger/audit')).body, { ok: true, items: 4 });
});

t.test('bad grants and catalog calls are refused and change nothing', async (t) => {
  const { admin } = await setup(t);
  const cases: Array<[unknown, number, number]> = [
    [{ key: 'k', vehicleId: 9, count: 1, reason: 'x' }, 404, 800],
    [{ key: 'k', couponId: 2, count: 1, reason: 'x' }, 404, 800],
    [{ key: 'k', count: 1, reason: 'x' }, 400, 700],
    [{ key: 'k', vehicleId: 1, couponId: 1, count: 1, reason: 'x' }, 400, 700],
    [{ key: 'k', vehicleId: '1', count: 1, reason: 'x' }, 400, 700],
    [{ key: 'k', vehicleId: 1, count: 0, reason: 'x' }, 400, 700],
  ];
  for (const [body, status, code] of cases) t.match(await admin('POST', '/admin/users/1/backpack', body), { status, body: { code } }, JSON.stringify(body));
  t.equal((await admin('PUT', '/admin/vehicles/0', { name: 'x', image: '' })).status, 400);
  t.equal((await admin('PUT', '/admin/vehicles/3', { name: '', image: '' })).status, 400);
  t.equal((await admin('PUT', '/admin/coupons/3', { name: 'x', image: '', price: 3 })).status, 400, 'unknown fields refused');
  t.match((await admin('GET', '/admin/ledger/audit')).body, { ok: true, transfers: 0 });
});

t.test('vehicle.use: only an owned, active vehicle; bad input refused; the entrance vehicle rides in room.user_entered', async (t) => {
  const { ts, admin } = await setup(t);
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const other = await ts.connect(2);
  await admin('POST', '/admin/users/1/backpack', { key: 'car-1', vehicleId: 1, count: 1, reason: 'vip' });

  await t.rejects(viewer.request('vehicle.use', { vehicleId: 9 }), { code: 800 }, 'unknown vehicle');
  await t.rejects(viewer.request('vehicle.use', { vehicleId: 2 }), { code: 801 }, 'not owned');
  await t.rejects(viewer.request('vehicle.use', { vehicleId: '1' } as never), { code: 700 }, 'a string id');
  await t.rejects(viewer.request('vehicle.use', { vehicleId: 1.5 } as never), { code: 700 }, 'a fraction');
  await t.rejects(viewer.request('vehicle.use', {} as never), { code: 700 }, 'missing');
  await t.rejects(viewer.request('vehicle.use', { vehicleId: 1, x: 1 } as never), { code: 700 }, 'an unknown field');
  await t.rejects(other.request('vehicle.use', { vehicleId: 1 }), { code: 801 }, "another user's vehicle");
  t.same(await viewer.request('backpack.vehicles', {}), { vehicles: [{ vehicle: { vehicleId: 1, name: 'Ferrari', image: 'f.png', animation: 'f.svga' }, count: 1 }], inUse: null }, 'refusals changed nothing');

  const ferrari = { vehicleId: 1, name: 'Ferrari', image: 'f.png', animation: 'f.svga' };
  t.same(await viewer.request('vehicle.use', { vehicleId: 1 }), { inUse: ferrari });
  t.same(await viewer.request('vehicle.use', { vehicleId: 1 }), { inUse: ferrari }, 'again: not an error');
  t.match(await viewer.request('backpack.vehicles', {}), { inUse: 1 });

  const { roomId } = await host.request('room.open', { title: 'cars' });
  const entered = collect(host, 'room.user_entered');
  await viewer.request('room.enter', { roomId });
  await other.request('room.enter', { roomId });
  ts.clock.advance(ts.config.membersFlushMs);
  await waitFor(() => entered.length === 1, 'the entries');
  t.match(entered[0], { roomId, users: [{ userId: 1, vehicle: ferrari }, { userId: 2, vehicle: null }], viewers: 2 }, 'one coalesced push, a vehicle per user');

  // Retired from the catalog: no longer shown, no longer chosen.
  await admin('PUT', '/admin/vehicles/1', { name: 'Ferrari', image: 'f.png', animation: 'f.svga', active: false });
  await viewer.request('room.leave', {});
  await viewer.request('room.enter', { roomId });
  ts.clock.advance(ts.config.membersFlushMs);
  await waitFor(() => entered.length === 2, 'the second entry');
  t.match(entered[1], { users: [{ userId: 1, vehicle: null }] });
  await t.rejects(viewer.request('vehicle.use', { vehicleId: 1 }), { code: 800 });
  await admin('PUT', '/admin/vehicles/1', { name: 'Ferrari', image: 'f.png', animation: 'f.svga' });

  t.same(await viewer.request('vehicle.use', { vehicleId: null }), { inUse: null });
  await viewer.request('room.leave', {});
  await viewer.request('room.enter', { roomId });
  ts.clock.advance(ts.config.membersFlushMs);
  await waitFor(() => entered.length === 3, 'the third entry');
  t.match(entered[2], { users: [{ userId: 1, vehicle: null }] }, 'none in use');
});

t.test('the audience avatar list: top N by level then entry, in room.audience and as coalesced room.audience_updated', async (t) => {
  const ts = await startTestServer(t, { audienceSize: 2, audienceFlushMs: 1000 });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'crowd' });
  const pushes = collect(host, 'room.audience_updated');
  t.same(await host.request('room.audience', { roomId }), { roomId, top: [], viewers: 0 });
  await t.rejects(host.request('room.audience', { roomId: 999 }), { code: 731 });
  await t.rejects(host.request('room.audience', { roomId: 'x' } as never), { code: 700 });

  const a = await viewerAt(ts, t, 1, 5);
  const b = await viewerAt(ts, t, 2, 9);
  const c = await viewerAt(ts, t, 3, 5);
  for (const v of [a, b, c]) await v.request('room.enter', { roomId });
  ts.clock.advance(999);
  await host.request('session.ping', {});
  await new Promise((r) => setImmediate(r));
  t.equal(pushes.length, 0, 'not before the flush time');
  ts.clock.advance(1);
  await waitFor(() => pushes.length === 1, 'one push for the burst');
  const top = (list: Array<{ userId: number }>) => list.map((m) => m.userId);
  t.same(top((pushes[0] as { top: Array<{ userId: number }> }).top), [2, 1], 'level 9, then the earlier of the two level 5');
  t.match(pushes[0], { roomId, viewers: 3, top: [{ profile: { level: 9, avatar: 'https://cdn.example/a/2.png' } }] });
  t.match(await c.request('room.audience', { roomId }), { roomId, viewers: 3, top: [{ userId: 2 }, { userId: 1 }] });

  // A change below the top: recomputed, not pushed.
  await c.request('room.leave', {});
  ts.clock.advance(1000);
  await host.request('session.ping', {});
  await new Promise((r) => setImmediate(r));
  t.equal(pushes.length, 1, 'the top did not change');
  t.match(await host.request('room.audience', { roomId }), { viewers: 2 });

  await b.request('room.leave', {});
  ts.clock.advance(1000);
  await waitFor(() => pushes.length === 2, 'the top changed');
  t.same(top((pushes[1] as { top: Array<{ userId: number }> }).top), [1]);
});

t.test('stream server switch (7.50): a room, one user; bad calls refused', async (t) => {
  const { ts, admin } = await setup(t);
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const { roomId } = await host.request('room.open', { title: 'media' });
  await viewer.request('room.enter', { roomId });

  const roomSeen = viewer.next('room.media_switch');
  const hostTold = host.next('media.switch');
  const ok = await admin('POST', `/admin/rooms/${roomId}/media-switch`, { playUrl: 'https://cdn2.example/live/1.flv', publishUrl: 'rtmp://push2.example/live/1', reason: 'maintenance' });
  t.same(ok, { status: 200, body: {} });
  t.match(await roomSeen, { roomId, playUrl: 'https://cdn2.example/live/1.flv', reason: 'maintenance' });
  t.match(await hostTold, { roomId, publishUrl: 'rtmp://push2.example/live/1', playUrl: 'https://cdn2.example/live/1.flv', reason: 'maintenance' });

  const mine = viewer.next('media.switch');
  t.same(await admin('POST', '/admin/users/1/media-switch', { playUrl: 'https://cdn3.example/live/1.flv' }), { status: 200, body: { delivered: true } });
  t.match(await mine, { roomId: null, publishUrl: null, playUrl: 'https://cdn3.example/live/1.flv', reason: '' });
  t.same(await admin('POST', '/admin/users/77/media-switch', { playUrl: 'https://x.example/a' }), { status: 200, body: { delivered: false } });

  const bad: Array<[string, unknown, number, number]> = [
    [`/admin/rooms/${roomId}/media-switch`, {}, 400, 700],
    [`/admin/rooms/${roomId}/media-switch`, { playUrl: 'not a url' }, 400, 700],
    [`/admin/rooms/${roomId}/media-switch`, { playUrl: 5 }, 400, 700],
    [`/admin/rooms/${roomId}/media-switch`, { playUrl: 'https://x.example/a', extra: 1 }, 400, 700],
    ['/admin/rooms/9999/media-switch', { playUrl: 'https://x.example/a' }, 404, 731],
    ['/admin/users/1/media-switch', { reason: 'nothing' }, 400, 700],
  ];
  for (const [path, body, status, code] of bad) t.match(await admin('POST', path, body), { status, body: { code } }, `${path} ${JSON.stringify(body)}`);
});
