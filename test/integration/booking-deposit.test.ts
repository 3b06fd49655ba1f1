import t, { type Test } from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer, until } from '../helpers/server.js';

const MIN = 60_000;
const rules = {
  adminToken: ADMIN, showPricePerMin: 60, houseCutPct: 30, rebatePct: 0,
  bookingMinLeadMs: 120_000, bookingRemindMs: 60_000, bookingJudgeMs: 150_000, showCountdownMs: 10_000, showAwayGraceMs: 3_600_000,
  ratePerSec: 100_000, rateBurst: 100_000,
};

async function setup(t: Test, credits: number) {
  const ts = await startTestServer(t, rules);
  const api = adminApi(ts);
  const admin = (path: string, body?: unknown) => (body === undefined ? api.get(path) : api.post(path, body));
  if (credits) await admin('/admin/users/1/topup', { orderId: 'seed', amount: credits });
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const credit = (c: LiveClient) => c.request('wallet.balance', {}).then((r) => r.credits);
  const balanceIs = (c: LiveClient, want: number, what: string) => until(() => credit(c), (n) => n === want, what);
  return { ts, admin, host, viewer, credit, balanceIs };
}

t.test('the deposit: held at acceptance, back to the viewer when the host or both miss it or it is cancelled, to the host when the viewer misses it', async (t) => {
  const { ts, admin, host, viewer, credit, balanceIs } = await setup(t, 200);
  const T = ts.clock.now();
  /** Moves the clock to a booking's reminder and waits for it (the judgement is armed from it). */
  const soonAfter = async (ms: number) => {
    const soon = viewer.next('booking.soon');
    ts.clock.advance(ms);
    await soon;
  };

  // Both miss the first booking: the deposit comes back.
  const b1 = await viewer.request('booking.create', { userId: 100, startsAt: T + 10 * MIN, durationMin: 30 });
  await host.request('booking.accept', { bookingId: b1.bookingId });
  await balanceIs(viewer, 140, 'deposit held');
  await soonAfter(9 * MIN);
  const settled1 = viewer.next('booking.settled');
  ts.clock.advance(6 * MIN);
  t.same(await settled1, { bookingId: b1.bookingId, outcome: 'missed_by_both', deposit: 60, depositTo: 'viewer' });
  await balanceIs(viewer, 200, 'deposit back');

  // The viewer misses the second: the deposit goes to the host. The show starts at the booking's start with
  // the host in and pays its first minute from its hold (a booked show's viewer has until the judgement, 2.5
  // minutes after the start here; later minutes wait for the viewer). One clock jump passes both the start
  // and the judgement: the start is applied first whichever deadline the desk handles first.
  await admin('/admin/users/1/topup', { orderId: 'more', amount: 300 });
  const T2 = ts.clock.now();
  const b2 = await viewer.request('booking.create', { userId: 100, startsAt: T2 + 10 * MIN, durationMin: 30 });
  await host.request('booking.accept', { bookingId: b2.bookingId });
  await balanceIs(viewer, 440, 'deposit held again');
  await soonAfter(9 * MIN);
  await host.request('booking.enter', { bookingId: b2.bookingId });
  await balanceIs(viewer, 380, 'the show\'s first minute held');
  const settled2 = host.next('booking.settled');
  const ended = host.next('show.ended');
  ts.clock.advance(4 * MIN);
  t.same(await settled2, { bookingId: b2.bookingId, outcome: 'missed_by_viewer', deposit: 60, depositTo: 'host' });
  t.match(await ended, { reason: 'viewer_no_show', startedAt: T2 + 10 * MIN }, 'the show had started');
  await balanceIs(host, 84, 'the first minute and the deposit, each less the house cut');
  t.equal(await credit(viewer), 380, 'no minute after the first without the viewer');

  // Cancelled after acceptance: back to the viewer.
  const T3 = ts.clock.now();
  const b3 = await host.request('booking.create', { userId: 1, startsAt: T3 + 10 * MIN, durationMin: 30 });
  await viewer.request('booking.accept', { bookingId: b3.bookingId });
  await balanceIs(viewer, 320, 'a deposit for the host\'s booking too');
  const cancelled = viewer.next('booking.cancelled');
  await host.request('booking.cancel', { bookingId: b3.bookingId });
  t.same(await cancelled, { bookingId: b3.bookingId, reason: 'cancelled' });
  await balanceIs(viewer, 380, 'back after the cancel');
  t.match(await admin('/admin/ledger/audit'), { ok: true, held: 0, minted: 500, house: 36 });
});

t.test('a viewer who cannot pay the deposit cannot accept or be accepted (740)', async (t) => {
  const { ts, host, viewer, credit } = await setup(t, 59);
  const T = ts.clock.now();
  const b = await viewer.request('booking.create', { userId: 100, startsAt: T + 10 * MIN });
  await t.rejects(host.request('booking.accept', { bookingId: b.bookingId }), { code: 740 });
  const h = await host.request('booking.create', { userId: 1, startsAt: T + 60 * MIN });
  await t.rejects(viewer.request('booking.accept', { bookingId: h.bookingId }), { code: 740 });
  t.equal(await credit(viewer), 59);
  t.match(await viewer.request('booking.list', { state: 'pending', page: 1, pageSize: 10 }), { total: 2 }, 'both still pending');
});
