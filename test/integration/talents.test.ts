import t, { type Test } from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer, until } from '../helpers/server.js';

const TTL = 60_000;
const rules = { adminToken: ADMIN, houseCutPct: 30, talentTtlMs: TTL, intimacyLevels: [10, 100, 500], intimacyDecayPct: 10, ratePerSec: 100_000, rateBurst: 100_000 };

/** A host (100) with an open room and two talents, viewer 1 in the room with 500 credits. */
async function setup(t: Test) {
  const ts = await startTestServer(t, rules);
  const api = adminApi(ts);
  const admin = (path: string, body?: unknown) => (body === undefined ? api.get(path) : api.post(path, body));
  await admin('/admin/users/1/topup', { orderId: 'seed-1', amount: 500 });
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const room = await host.request('room.open', { title: 'talents' });
  await viewer.request('room.enter', { roomId: room.roomId });
  const song = await host.request('talent.set', { name: 'song', price: 100 });
  const dance = await host.request('talent.set', { name: 'dance', price: 300 });
  const credit = (c: LiveClient) => c.request('wallet.balance', {}).then((r) => r.credits);
  const balanceIs = (c: LiveClient, want: number, what: string) => until(() => credit(c), (n) => n === want, what);
  return { ts, admin, host, viewer, room, song: song.talent, dance: dance.talent, credit, balanceIs };
}

t.test('request → accept: held at once, paid to the host less the house cut, books balance; a retry with the key holds nothing more', async (t) => {
  const { ts, admin, host, viewer, room, song, dance, credit, balanceIs } = await setup(t);
  t.same(await viewer.request('talent.list', { hostId: 100 }), { hostId: 100, talents: [song, dance] });
  t.same(song, { talentId: 1, name: 'song', price: 100 });

  const requested = host.next('talent.requested');
  const held = viewer.next('wallet.updated');
  const r = await viewer.request('talent.request', { talentId: 1, key: 'k1' });
  t.match(r, { credits: 400, request: { hostId: 100, viewerId: 1, talentId: 1, name: 'song', price: 100, roomId: room.roomId, status: 'pending' } });
  t.match(await held, { credits: 400, delta: -100, reason: 'hold' });
  t.match(await requested, { requestId: r.request.requestId, viewer: { nickname: 'user1' }, status: 'pending' });
  t.match(await admin('/admin/ledger/audit'), { ok: true, held: 100 }, 'the hold is committed before the reply');
  const outbox = ts.server.internals.db.prepare("SELECT user_id AS userId, payload FROM outbox WHERE kind = 'talent.requested'").all() as Array<{ userId: number; payload: string }>;
  t.equal(outbox.length, 1, 'the host\'s copy for the push gateway is in the outbox');
  t.match({ userId: outbox[0]!.userId, ...JSON.parse(outbox[0]!.payload) }, { userId: 100, requestId: r.request.requestId, status: 'pending' });

  const again = await viewer.request('talent.request', { talentId: 1, key: 'k1' });
  t.same(again.request.requestId, r.request.requestId, 'the same key answers the same request');
  t.equal(await credit(viewer), 400, 'and holds nothing more');
  await t.rejects(viewer.request('talent.request', { talentId: 2, key: 'k1' }), { code: 753 }, 'the key with another talent');

  t.match(await host.request('talent.unread', {}), { roomId: room.roomId, count: 1, requests: [{ requestId: r.request.requestId, viewer: { nickname: 'user1' } }] });
  t.same(await host.request('talent.read', {}), { count: 0 });
  t.match(await host.request('talent.unread', {}), { count: 0, requests: [] });

  const answered = viewer.next('talent.answered');
  const paid = host.next('wallet.updated');
  const reply = await host.request('talent.accept', { requestId: r.request.requestId });
  const outcome = { requestId: r.request.requestId, hostId: 100, talentId: 1, outcome: 'accepted', refunded: 0 };
  t.same(reply, outcome);
  t.same(await answered, outcome);
  t.match(await paid, { credits: 70, delta: 70, reason: 'talent' });
  await balanceIs(host, 70, 'the host paid');
  t.equal(await credit(viewer), 400);
  await t.rejects(host.request('talent.accept', { requestId: r.request.requestId }), { code: 791 }, 'answered once');
  t.match(await admin('/admin/ledger/audit'), { ok: true, held: 0, minted: 500, house: 30 });
  const replay = await viewer.request('talent.request', { talentId: 1, key: 'k1' });
  t.match(replay, { credits: 400, request: { requestId: r.request.requestId, status: 'accepted' } }, 'the key after the answer: that request as it is now');
});

t.test('decline and expiry refund the hold; 740 holds nothing', async (t) => {
  const { ts, admin, host, viewer, credit, balanceIs } = await setup(t);
  const r1 = await viewer.request('talent.request', { talentId: 2 });
  t.equal(r1.credits, 200);
  const declined = viewer.next('talent.answered');
  t.match(await host.request('talent.decline', { requestId: r1.request.requestId }), { outcome: 'declined', refunded: 300 });
  t.match(await declined, { requestId: r1.request.requestId, outcome: 'declined', refunded: 300 });
  await balanceIs(viewer, 500, 'declined: refunded');

  const r2 = await viewer.request('talent.request', { talentId: 1 });
  t.equal(r2.request.expiresAt, ts.clock.now() + TTL);
  ts.clock.advance(TTL - 1);
  t.match(await host.request('talent.unread', {}), { count: 1 }, 'not expired before its time');
  const expired = viewer.next('talent.answered');
  const hostTold = host.next('talent.expired');
  ts.clock.advance(1);
  t.match(await expired, { requestId: r2.request.requestId, outcome: 'expired', refunded: 100 });
  t.same(await hostTold, { requestId: r2.request.requestId });
  await balanceIs(viewer, 500, 'expired: refunded');
  await t.rejects(host.request('talent.accept', { requestId: r2.request.requestId }), { code: 791 }, 'too late to accept');

  // 740: nothing held, no request open, the host told nothing.
  const poor = await ts.connect(2);
  await admin('/admin/users/2/topup', { orderId: 'seed-2', amount: 299 });
  await poor.request('room.enter', { roomId: (await host.request('talent.unread', {})).roomId! });
  let told = 0;
  host.on('talent.requested', () => void told++);
  await t.rejects(poor.request('talent.request', { talentId: 2, key: 'poor' }), { code: 740 });
  t.equal(await credit(poor), 299);
  t.match(await host.request('talent.unread', {}), { count: 0 });
  t.equal(told, 0);
  t.match(await admin('/admin/ledger/audit'), { ok: true, held: 0, minted: 799, house: 0 });
  // The refused key may be used again once the credits are there.
  await admin('/admin/users/2/topup', { orderId: 'seed-3', amount: 1 });
  t.match(await poor.request('talent.request', { talentId: 2, key: 'poor' }), { credits: 0, request: { status: 'pending' } });
});

t.test('bad input is refused with codes and changes nothing', async (t) => {
  const { ts, host, viewer, credit } = await setup(t);
  for (const price of [0, -5, 1.5, 10_000_001]) await t.rejects(host.request('talent.set', { name: 'x', price }), { code: 700 }, `price ${price}`);
  await t.rejects(host.request('talent.set', { name: '', price: 5 }), { code: 700 }, 'empty name');
  await t.rejects(host.request('talent.set', { talentId: 9, name: 'x', price: 5 }), { code: 790 }, 'unknown talent to change');
  await t.rejects(viewer.request('talent.set', { name: 'x', price: 5 }), { code: 711 }, 'a viewer has no talents');
  await t.rejects(viewer.request('talent.request', { talentId: 9 }), { code: 790 }, 'unknown talent');
  const outsider = await ts.connect(3);
  await t.rejects(outsider.request('talent.request', { talentId: 1 }), { code: 39 }, 'not in the room');
  const r = await viewer.request('talent.request', { talentId: 1 });
  const other = await ts.connect(101, 'host');
  await t.rejects(other.request('talent.accept', { requestId: r.request.requestId }), { code: 791 }, "another host's request");
  await t.rejects(other.request('talent.decline', { requestId: r.request.requestId }), { code: 791 });
  await t.rejects(viewer.request('talent.accept', { requestId: r.request.requestId }), { code: 711 }, 'a viewer cannot answer');
  await t.rejects(host.request('talent.accept', { requestId: r.request.requestId + 1 }), { code: 791 }, 'no such request');
  t.equal(await credit(viewer), 400, 'only the one request held');
  t.same((await host.request('talent.list', { hostId: 100 })).talents.length, 2);
  t.same(await host.request('talent.list', { hostId: 555 }), { hostId: 555, talents: [] });
  t.same(await host.request('talent.remove', { talentId: 2 }), { talents: [{ talentId: 1, name: 'song', price: 100 }] });
  await t.rejects(host.request('talent.remove', { talentId: 2 }), { code: 790 });
});
