import t, { type Test } from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer, until } from '../helpers/server.js';

const MINUTE = 60_000;
const rules = {
  adminToken: ADMIN,
  showPricePerMin: 60,
  houseCutPct: 30,
  rebatePct: 5,
  lowCreditMinutes: 2,
  showCountdownMs: 10_000,
  showHostEnterMs: 120_000,
  showAwayGraceMs: 600_000,
  inviteTtlMs: 30_000,
  // The waits below poll wallet.balance.
  ratePerSec: 100_000,
  rateBurst: 100_000,
};

async function setup(t: Test, credits: number, overrides: Record<string, unknown> = {}) {
  const ts = await startTestServer(t, { ...rules, ...overrides });
  const api = adminApi(ts);
  const admin = (method: 'GET' | 'POST', path: string, body?: unknown) => api.call(method, path, body).then((r) => r.body);
  if (credits > 0) await admin('POST', '/admin/users/1/topup', { orderId: 'seed', amount: credits });
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  return { ts, admin, host, viewer };
}

const credits = (c: LiveClient) => c.request('wallet.balance', {}).then((r) => r.credits);

/** Waits until the user's balance is `want` (charges commit after the journal write of the step that asked for them). */
const balanceIs = (c: LiveClient, want: number, what: string) => until(() => credits(c), (n) => n === want, what);

/** Waits until the show counts `n` minutes paid (the desk has taken the ledger's answer, so the next minute's deadline is armed). */
const billedIs = (c: LiveClient, n: number) =>
  until(() => c.request('show.current', {}), (r) => r.show?.minutesBilled === n, `${n} minutes billed`);

async function openShow(host: LiveClient, viewer: LiveClient) {
  const invite = await viewer.request('invite.send', { userId: 100 });
  return host.request('invite.accept', { inviteId: invite.inviteId });
}

t.test('a paid show: hold, minutes billed with the rebate, low-credit warnings, kicked at zero, settlement for both', async (t) => {
  const { ts, admin, host, viewer } = await setup(t, 200);
  const updates: Array<Record<string, unknown>> = [];
  viewer.on('wallet.updated', (d) => void updates.push(d));
  const lows: Array<Record<string, unknown>> = [];
  viewer.on('wallet.low', (d) => void lows.push(d));
  const rebates: Array<Record<string, unknown>> = [];
  viewer.on('wallet.rebate', (d) => void rebates.push(d));

  const show = await openShow(host, viewer);
  t.match(show, { pricePerMinute: 60, minutesBilled: 0 });
  await balanceIs(viewer, 140, 'the first minute held');
  t.match(updates[0], { delta: -60, reason: 'hold', credits: 140 });

  await host.request('show.enter', { showId: show.showId });
  await viewer.request('show.enter', { showId: show.showId });
  const started = viewer.next('show.started');
  ts.clock.advance(10_000);
  await started;
  // Minute 1 is paid from the hold: the host earns 42, the house keeps 15, 3 come back to the viewer.
  await balanceIs(host, 42, 'minute 1 earned');
  await balanceIs(viewer, 143, 'minute 1 rebate');
  await billedIs(viewer, 1);
  t.match(rebates[0], { showId: show.showId, minute: 1, rebate: 3 });

  ts.clock.advance(MINUTE - 1);
  await host.request('session.ping', {});
  t.equal(await credits(host), 42, 'nothing more before the minute boundary');
  ts.clock.advance(1);
  await balanceIs(viewer, 86, 'minute 2: 60 less the 3 rebate');
  await until(async () => lows.length, (n) => n >= 1, 'a low-credit warning');
  t.match(lows.at(-1), { showId: show.showId, credits: 86, pricePerMinute: 60, minutesLeft: 1, topUp: 34 });
  await billedIs(viewer, 2);

  ts.clock.advance(MINUTE);
  await balanceIs(viewer, 29, 'minute 3');
  await billedIs(viewer, 3);

  const kicked = viewer.next('show.kicked');
  const endedV = viewer.next('show.ended');
  const endedH = host.next('show.ended');
  ts.clock.advance(MINUTE);
  t.same(await kicked, { showId: show.showId, reason: 'no_credit' });
  const settlement = await endedV;
  t.match(settlement, { showId: show.showId, reason: 'no_credit', pricePerMinute: 60, minutesBilled: 3, spent: 180, earned: 126, durationSec: 180 });
  t.same(await endedH, settlement, 'the host gets the same settlement');
  t.equal(await credits(viewer), 29, 'the minute that could not be paid took nothing');
  t.equal(await credits(host), 126);
  t.match(await admin('GET', '/admin/ledger/audit'), { ok: true, minted: 200, users: 155, house: 45, held: 0 });
  t.same(await viewer.request('show.current', {}), { show: null });
});

t.test('the hold goes back when the show does not happen (the host never enters)', async (t) => {
  const { ts, admin, host, viewer } = await setup(t, 100);
  const show = await openShow(host, viewer);
  await balanceIs(viewer, 40, 'held');
  const ended = viewer.next('show.ended');
  ts.clock.advance(120_000);
  t.match(await ended, { reason: 'host_no_show', minutesBilled: 0, spent: 0 });
  await balanceIs(viewer, 100, 'released');
  t.equal(await credits(host), 0);
  t.match(await admin('GET', '/admin/ledger/audit'), { ok: true, held: 0, house: 0 });
  t.ok(show.showId);
});

t.test('the viewer closing before the start gets the hold back; after the start the started minute is paid', async (t) => {
  const { ts, admin, host, viewer } = await setup(t, 300);
  const first = await openShow(host, viewer);
  await balanceIs(viewer, 240, 'held');
  await viewer.request('show.close', { showId: first.showId });
  await balanceIs(viewer, 300, 'released at once');

  const second = await openShow(host, viewer);
  await balanceIs(viewer, 240, 'held again');
  await host.request('show.enter', { showId: second.showId });
  ts.clock.advance(10_000);
  await balanceIs(host, 42, 'minute 1');
  await billedIs(host, 1);
  ts.clock.advance(30_000);
  const ended = host.next('show.ended');
  await viewer.request('show.close', { showId: second.showId });
  t.match(await ended, { reason: 'viewer_closed', minutesBilled: 1, spent: 60, earned: 42, durationSec: 30 });
  t.equal(await credits(viewer), 243);
  t.match(await admin('GET', '/admin/ledger/audit'), { ok: true, held: 0, users: 285, house: 15 });
});

t.test("a host's countdown close: a minute starting before the end is billed, one starting at the end is not", async (t) => {
  const { ts, admin, host, viewer } = await setup(t, 1000, { rebatePct: 0 });
  const show = await openShow(host, viewer);
  await host.request('show.enter', { showId: show.showId });
  await viewer.request('show.enter', { showId: show.showId });
  ts.clock.advance(10_000);
  await balanceIs(host, 42, 'minute 1');
  await billedIs(host, 1);
  ts.clock.advance(50_000);
  // 10 s before minute 2 starts: close with a 10 s countdown. The show ends exactly when minute 2 would start.
  await host.request('show.close', { showId: show.showId, countdownSec: 10 });
  const ended = viewer.next('show.ended');
  ts.clock.advance(10_000);
  t.match(await ended, { reason: 'countdown', minutesBilled: 1, durationSec: 60 });
  t.equal(await credits(host), 42);

  // Again, closing 20 s before the end of minute 1: minute 2 starts during the countdown and is billed.
  const next = await openShow(host, viewer);
  await host.request('show.enter', { showId: next.showId });
  await viewer.request('show.enter', { showId: next.showId });
  ts.clock.advance(10_000);
  await balanceIs(host, 84, 'minute 1 of the second show');
  await billedIs(host, 1);
  ts.clock.advance(40_000);
  await host.request('show.close', { showId: next.showId, countdownSec: 30 });
  ts.clock.advance(20_000);
  await balanceIs(host, 126, 'minute 2 started while closing');
  await billedIs(host, 2);
  const done = viewer.next('show.ended');
  ts.clock.advance(10_000);
  t.match(await done, { reason: 'countdown', minutesBilled: 2, spent: 120 });
  t.match(await admin('GET', '/admin/ledger/audit'), { ok: true, held: 0, minted: 1000 });
});

t.test('a viewer who cannot pay a minute is not invited and cannot invite or accept (740)', async (t) => {
  const { admin, host, viewer } = await setup(t, 60);
  // The host invites while the viewer can pay; the viewer spends it before accepting.
  const invite = await host.request('invite.send', { userId: 1 });
  await admin('POST', '/admin/users/1/withdraw', { orderId: 'w', amount: 1 });
  await t.rejects(viewer.request('invite.accept', { inviteId: invite.inviteId }), { code: 740 });
  await t.rejects(viewer.request('invite.send', { userId: 100 }), { code: 740 });
  await t.rejects(host.request('invite.send', { userId: 1 }), { code: 740 }, 'nor invited');
  t.equal(await credits(viewer), 59, 'nothing taken');
  t.match(await admin('GET', '/admin/ledger/audit'), { ok: true, transfers: 2 });
});

t.test('free shows (price 0) take and bill nothing', async (t) => {
  const { ts, admin, host, viewer } = await setup(t, 0, { showPricePerMin: 0 });
  const show = await openShow(host, viewer);
  t.match(show, { pricePerMinute: 0 });
  await host.request('show.enter', { showId: show.showId });
  await viewer.request('show.enter', { showId: show.showId });
  ts.clock.advance(10_000 + 5 * MINUTE);
  const ended = viewer.next('show.ended');
  await viewer.request('show.close', { showId: show.showId });
  t.match(await ended, { minutesBilled: 0, spent: 0, earned: 0 });
  t.match(await admin('GET', '/admin/ledger/audit'), { ok: true, transfers: 0 });
});
