import t, { type Test } from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const rules = { adminToken: ADMIN, houseCutPct: 30, comboWindowMs: 3000, comboPushMs: 250, ratePerSec: 1000, rateBurst: 1000, userQueue: 1000 };

/** A server with two gifts in the catalog, a host with an open room and two viewers in it, viewer 1 topped up. */
async function setup(t: Test, credits = 100, overrides: Record<string, unknown> = {}) {
  const ts = await startTestServer(t, { ...rules, ...overrides });
  const admin = adminApi(ts).call;
  t.equal((await admin('PUT', '/admin/gifts/1', { name: 'Rose', price: 10, image: 'https://cdn.example/rose.gif', icon: 'https://cdn.example/rose.png', type: 1, sort: 2 })).status, 200);
  t.equal((await admin('PUT', '/admin/gifts/2', { name: 'Rocket', price: 1000, image: 'https://cdn.example/rocket.gif', icon: 'https://cdn.example/rocket.png', type: 2, sort: 1 })).status, 200);
  if (credits > 0) await admin('POST', '/admin/users/1/topup', { orderId: 'seed-1', amount: credits });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'gifts' });
  const viewer = await ts.connect(1);
  const other = await ts.connect(2);
  await viewer.request('room.enter', { roomId });
  await other.request('room.enter', { roomId });
  return { ts, admin, host, viewer, other, roomId };
}

function collect(client: LiveClient, op: Parameters<LiveClient['on']>[0]) {
  const seen: Array<Record<string, unknown>> = [];
  client.on(op, (d) => void seen.push(d as Record<string, unknown>));
  return seen;
}

const audit = async (admin: Awaited<ReturnType<typeof setup>>['admin']) => (await admin('GET', '/admin/ledger/audit')).body;

t.test('the catalog: listed in order with a version, details, inactive gifts hidden and refused', async (t) => {
  const { ts, admin, viewer, roomId } = await setup(t);
  const list = await viewer.request('gift.list', {});
  t.same(
    list.gifts.map((g) => [g.giftId, g.name, g.price, g.type]),
    [
      [2, 'Rocket', 1000, 2],
      [1, 'Rose', 10, 1],
    ],
  );
  t.equal(list.version, ts.clock.now());
  t.same(await viewer.request('gift.detail', { giftId: 1 }), {
    gift: { giftId: 1, name: 'Rose', price: 10, image: 'https://cdn.example/rose.gif', icon: 'https://cdn.example/rose.png', type: 1 },
    active: true,
  });
  await t.rejects(viewer.request('gift.detail', { giftId: 99 }), { code: 730 });
  ts.clock.advance(1000);
  await admin('PUT', '/admin/gifts/1', { name: 'Rose', price: 10, image: 'x', icon: 'y', type: 1, active: false });
  const after = await viewer.request('gift.list', {});
  t.same(after.gifts.map((g) => g.giftId), [2]);
  t.equal(after.version, ts.clock.now(), 'the version moved');
  t.match(await viewer.request('gift.detail', { giftId: 1 }), { active: false });
  await t.rejects(viewer.request('gift.send', { giftId: 1, roomId }), { code: 730 }, 'an inactive gift cannot be sent');
  t.same((await admin('GET', '/admin/gifts')).body.gifts instanceof Array, true);
  const bad = await admin('PUT', '/admin/gifts/3', { name: 'Free', price: 0, image: '', icon: '', type: 1 });
  t.equal(bad.status, 400, 'a gift costs at least one credit');
  t.equal((await admin('PUT', '/admin/gifts/abc', { name: 'X', price: 1, image: '', icon: '', type: 1 })).status, 400);
});

t.test('a gift in a public room: charged, the host earns minus the house cut, the room sees it, the books balance', async (t) => {
  const { admin, host, viewer, other, roomId } = await setup(t);
  const roomPush = other.next('room.gift');
  const hostPush = host.next('room.gift');
  const hostWallet = host.next('wallet.updated');
  const reply = await viewer.request('gift.send', { giftId: 1, count: 2, roomId });
  t.match(reply, { credits: 80, comboId: null, streak: 1, streakCount: 2 });
  const pushed = await roomPush;
  t.match(pushed, { roomId, from: { userId: 1, profile: { nickname: 'user1' } }, gift: { giftId: 1, name: 'Rose', price: 10 }, comboId: null, count: 2, sends: 1, streak: 1, streakCount: 2, roomTotal: 20 });
  t.same(await hostPush, pushed, 'the host gets the same push');
  t.match(await hostWallet, { credits: 14, delta: 14, reason: 'gift', transferId: reply.transferId });
  t.same(await host.request('wallet.balance', {}), { credits: 14 });
  const second = other.next('room.gift');
  await viewer.request('gift.send', { giftId: 1, roomId });
  t.match(await second, { roomTotal: 30 });
  t.match(await audit(admin), { ok: true, minted: 100, circulating: 100, users: 91, house: 9 });
  const ended = other.next('room.ended');
  await host.request('room.close', {});
  t.match(await ended, { roomId, totals: { gifts: 3, credits: 30 } }, 'the room\'s totals count its gifts');
});

t.test('not enough credit: 740 and nothing changes', async (t) => {
  const { admin, viewer, host, roomId } = await setup(t, 500);
  const gifts = collect(host, 'room.gift');
  await t.rejects(viewer.request('gift.send', { giftId: 2, roomId }), { code: 740 });
  await t.rejects(viewer.request('gift.send', { giftId: 1, count: 51, roomId }), { code: 740 });
  t.same(await viewer.request('wallet.balance', {}), { credits: 500 });
  await host.request('session.ping', {});
  t.equal(gifts.length, 0, 'nothing pushed');
  t.match(await audit(admin), { ok: true, transfers: 1 });
});

t.test('100 concurrent gifts from a viewer who can afford 10: exactly 10 go through, the host is credited exactly 10 times', async (t) => {
  const { admin, viewer, host, roomId } = await setup(t, 100);
  const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => viewer.request('gift.send', { giftId: 1, roomId, key: `race-${i}` })));
  const ok = results.filter((r) => r.status === 'fulfilled');
  t.equal(ok.length, 10);
  t.ok(results.every((r) => r.status === 'fulfilled' || (r.reason as { code: number }).code === 740), 'the rest refused with 740');
  t.same(await viewer.request('wallet.balance', {}), { credits: 0 });
  t.same(await host.request('wallet.balance', {}), { credits: 70 });
  t.match(await audit(admin), { ok: true, house: 30, transfers: 11 });
});

t.test('a retry storm: every send resent 1–5 times, also after a reconnect: one charge per key, identical replies', async (t) => {
  const { ts, admin, viewer, host, roomId } = await setup(t, 1000);
  const replies = new Map<string, unknown[]>();
  let sent = 0;
  for (let i = 0; i < 20; i++) {
    const key = `storm-${i}`;
    const times = 1 + (i % 5);
    const answers = await Promise.all(Array.from({ length: times }, () => viewer.request('gift.send', { giftId: 1, roomId, key, comboId: 'storm' })));
    replies.set(key, answers);
    sent++;
  }
  for (const [key, answers] of replies) t.ok(answers.every((a) => JSON.stringify(a) === JSON.stringify(answers[0])), `identical replies for ${key}`);
  t.same(await viewer.request('wallet.balance', {}), { credits: 1000 - 10 * sent });
  // After a reconnect (a new session), the same keys still answer their first reply.
  await ts.drop(viewer);
  const again = await ts.connect(1);
  await again.request('room.enter', { roomId });
  for (const [key, answers] of replies) t.same(await again.request('gift.send', { giftId: 1, roomId, key, comboId: 'storm' }), answers[0], `${key} after a reconnect`);
  await t.rejects(again.request('gift.send', { giftId: 1, count: 2, roomId, key: 'storm-0', comboId: 'storm' }), { code: 753 }, 'same key, other count');
  await t.rejects(again.request('gift.send', { giftId: 2, roomId, key: 'storm-0' }), { code: 753 }, 'same key, other gift');
  t.same(await again.request('wallet.balance', {}), { credits: 1000 - 10 * sent });
  t.same(await host.request('wallet.balance', {}), { credits: 7 * sent });
  t.match(await audit(admin), { ok: true, transfers: 1 + sent });
});

t.test('a resent request id of the same session is recognised without a key', async (t) => {
  const { ts, viewer, roomId } = await setup(t);
  const first = await viewer.requestRaw('gift.send', { giftId: 1, roomId }, 500);
  // The same request id again, as a client resending an unanswered request after a resume would.
  const again = await viewer.requestRaw('gift.send', { giftId: 1, roomId }, 500);
  t.same(again, first);
  t.same(await viewer.request('wallet.balance', {}), { credits: 90 });
  // Another session of the same user may use the same request id for another send.
  await ts.drop(viewer);
  const next = await ts.connect(1);
  await next.request('room.enter', { roomId });
  const other = (await next.requestRaw('gift.send', { giftId: 1, roomId }, 500)) as { transferId: number };
  t.not(other.transferId, (first as { transferId: number }).transferId);
  t.same(await next.request('wallet.balance', {}), { credits: 80 });
});

t.test('combos: one streak per combo id, pushes coalesced, each send charged, the streak ends after the window', async (t) => {
  const { ts, admin, viewer, other, roomId } = await setup(t, 1000);
  const pushes = collect(other, 'room.gift');
  const ended = other.next('room.gift_combo_end');
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(await viewer.request('gift.send', { giftId: 1, roomId, comboId: 'abc123' }));
  t.same(replies.map((r) => [r.streak, r.streakCount, r.credits]), [
    [1, 1, 990],
    [2, 2, 980],
    [3, 3, 970],
    [4, 4, 960],
    [5, 5, 950],
  ]);
  await other.request('session.ping', {});
  t.equal(pushes.length, 1, 'the first send is pushed at once, the next ones wait');
  t.match(pushes[0], { comboId: 'abc123', streak: 1, streakCount: 1, count: 1, sends: 1 });
  ts.clock.advance(250);
  await other.request('session.ping', {});
  t.equal(pushes.length, 2);
  t.match(pushes[1], { comboId: 'abc123', streak: 5, streakCount: 5, count: 4, sends: 4, roomTotal: 50 });
  // Another send within the window keeps the streak going; a count of 3 counts three gifts.
  ts.clock.advance(2000);
  const sixth = await viewer.request('gift.send', { giftId: 1, count: 3, roomId, comboId: 'abc123' });
  t.match(sixth, { streak: 6, streakCount: 8 });
  await other.request('session.ping', {});
  t.match(pushes[2], { streak: 6, streakCount: 8, count: 3, sends: 1 }, 'past the push interval: pushed at once');
  ts.clock.advance(2999);
  await other.request('session.ping', {});
  t.equal(pushes.length, 3, 'the streak is still open');
  ts.clock.advance(1);
  t.match(await ended, { roomId, from: { userId: 1 }, giftId: 1, comboId: 'abc123', streak: 6, streakCount: 8, credits: 80 });
  // The combo id is free again: the next send starts a new streak.
  t.match(await viewer.request('gift.send', { giftId: 1, roomId, comboId: 'abc123' }), { streak: 1, streakCount: 1 });
  t.match(await audit(admin), { ok: true, transfers: 8 });
});

t.test('bad gift sends are refused with their codes and change nothing', async (t) => {
  const { ts, admin, host, viewer, other, roomId } = await setup(t);
  const mine = await viewer.request('gift.send', { giftId: 1, roomId, comboId: 'mine' });
  t.match(mine, { streak: 1 });
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['count 0', { giftId: 1, count: 0, roomId }, 700],
    ['negative count', { giftId: 1, count: -1, roomId }, 700],
    ['fractional count', { giftId: 1, count: 1.5, roomId }, 700],
    ['huge count', { giftId: 1, count: 1000, roomId }, 700],
    ['count as a string', { giftId: 1, count: '2', roomId }, 700],
    ['gift id 0', { giftId: 0, roomId }, 700],
    ['unknown gift', { giftId: 77, roomId }, 730],
    ['no place', { giftId: 1 }, 700],
    ['two places', { giftId: 1, roomId, showId: 1 }, 700],
    ['a room that is not open', { giftId: 1, roomId: 999_999 }, 731],
    ['a show that is not yours', { giftId: 1, showId: 5 }, 746],
    ['a bad combo id', { giftId: 1, roomId, comboId: 'no spaces' }, 700],
    ['a bad key', { giftId: 1, roomId, key: '' }, 700],
    ['an unknown field', { giftId: 1, roomId, amount: 5 }, 700],
  ];
  for (const [what, d, code] of cases) await t.rejects(viewer.request('gift.send', d as never), { code }, what);
  await t.rejects(other.request('gift.send', { giftId: 1, roomId, comboId: 'mine' }), { code: 700 }, "another sender's combo id");
  await t.rejects(viewer.request('gift.send', { giftId: 2, roomId, comboId: 'mine' }), { code: 700 }, 'my streak of another gift');
  await t.rejects(host.request('gift.send', { giftId: 1, roomId }), { code: 711 }, 'a host to their own room');
  // The outsider has credits but is not in the room.
  const outsider = await ts.connect(3);
  await admin('POST', '/admin/users/3/topup', { orderId: 'o3', amount: 50 });
  await t.rejects(outsider.request('gift.send', { giftId: 1, roomId }), { code: 39 }, 'a room you are not in');
  t.same(await viewer.request('wallet.balance', {}), { credits: 90 });
  t.same(await outsider.request('wallet.balance', {}), { credits: 50 });
  t.match(await audit(admin), { ok: true, transfers: 3 });
});

t.test('a gift in a private show: from its viewer to its host, pushed to both', async (t) => {
  const { ts, admin } = await setupShow(t);
  const { host, viewer, showId } = ts;
  const toHost = host.next('show.gift');
  const toViewer = viewer.next('show.gift');
  const reply = await viewer.request('gift.send', { giftId: 1, count: 3, showId, key: 'in-show' });
  t.match(reply, { credits: 70, streak: 1, streakCount: 3 });
  const pushed = await toHost;
  t.match(pushed, { showId, from: { userId: 1 }, gift: { giftId: 1 }, count: 3, showTotal: 30 });
  t.same(await toViewer, pushed);
  await t.rejects(host.request('gift.send', { giftId: 1, showId }), { code: 711 }, 'the host does not gift the viewer');
  t.same(await host.request('wallet.balance', {}), { credits: 21 });
  // The show ends; a retry of the keyed send (a client that lost the reply) still gets its first reply.
  await viewer.request('show.close', { showId });
  t.same(await viewer.request('gift.send', { giftId: 1, count: 3, showId, key: 'in-show' }), reply);
  await t.rejects(viewer.request('gift.send', { giftId: 1, count: 4, showId, key: 'in-show' }), { code: 753 });
  await t.rejects(viewer.request('gift.send', { giftId: 1, count: 3, showId, key: 'another' }), { code: 746 }, 'a new send to an ended show');
  t.match(await audit(admin), { ok: true });
});

async function setupShow(t: Test) {
  const base = await setup(t);
  const { host, viewer } = base;
  await viewer.request('room.leave', {});
  const invite = await viewer.request('invite.send', { userId: 100 });
  const show = await host.request('invite.accept', { inviteId: invite.inviteId });
  return { ts: { ...base, showId: show.showId } as TestServerish, admin: base.admin };
}

type TestServerish = { ts: TestServer; host: LiveClient; viewer: LiveClient; showId: number };

t.test('the same keys after a restart: the first replies again, nothing charged twice', async (t) => {
  const dir = t.testdir({});
  const overrides = { ...rules, dbPath: `${dir}/live.db` };
  const first = await setup(t, 100, overrides);
  const replies = [];
  for (let i = 0; i < 3; i++) replies.push(await first.viewer.request('gift.send', { giftId: 1, count: i + 1, roomId: first.roomId, key: `restart-${i}` }));
  await first.ts.server.close();

  const ts = await startTestServer(t, overrides);
  const roomId = first.roomId;
  // The room outlives the restart (its host has the grace to come back).
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  await viewer.request('room.enter', { roomId });
  for (let i = 0; i < 3; i++) {
    t.same(await viewer.request('gift.send', { giftId: 1, count: i + 1, roomId, key: `restart-${i}` }), replies[i], `restart-${i}: the first reply`);
  }
  await t.rejects(viewer.request('gift.send', { giftId: 1, count: 5, roomId, key: 'restart-0' }), { code: 753 });
  t.same(await viewer.request('wallet.balance', {}), { credits: 40 }, 'only the first three sends were charged');
  t.same(await host.request('wallet.balance', {}), { credits: 42 });
  t.match(await adminApi(ts).get('/admin/ledger/audit'), { ok: true, transfers: 4, minted: 100, house: 18 });
});
