import { BILL_MINUTE_MS, takeCharge, type ChargeRequest, type ChargeResult } from './charges.js';
import type { DeskState, Show } from './desk.js';
import { push, type Effect } from './effects.js';

/**
 * A show's charges (see charges.ts for the outbox they go through):
 *   hold     the viewer's first minute set aside when the show is created
 *   bill     minute `minute` of the show (minute 1 from the hold, later ones from the viewer)
 *   release  the hold given back: the show ended before its first minute was billed
 */
export function showCharge(show: Show, what: ChargeRequest['what'], minute: number): ChargeRequest {
  const key = what === 'bill' ? `bill:show:${show.id}:${minute}` : `${what}:show:${show.id}`;
  return { key, what, place: 'show', placeId: show.id, hostId: show.hostId, viewerId: show.viewerId, minute, price: show.price, fromHold: what === 'bill' && minute === 1 };
}

/**
 * The ledger's answer. The charge leaves the outbox; if its show is still
 * on: a committed hold or bill moves the show's billing along, a refused one
 * (not enough credit) ends the show ('no_credit'), the viewer kicked (7.5).
 * Returns the show after the answer, or 'ended' when it has to end now.
 */
export function applyCharge(s: DeskState, msg: ChargeResult): { state: DeskState; end: boolean; effects: Effect[]; charges?: ChargeRequest[] } {
  const taken = takeCharge(s, msg.key);
  if (!taken) return { state: s, end: false, effects: [] };
  const { charge, state } = taken;
  const show = state.show;
  if (!show || charge.place !== 'show' || show.id !== charge.placeId || charge.what === 'release') {
    // A hold that committed after its show ended (a retry after a restart) paid no minute: give it back.
    const orphan = msg.ok && charge.what === 'hold';
    return { state, end: false, effects: [], charges: orphan ? [{ ...charge, key: `release:show:${charge.placeId}`, what: 'release', minute: 0, fromHold: true }] : [] };
  }
  if (!msg.ok) {
    // The show ends now; what it says of its billing is what was paid (a refused hold held nothing).
    const refused: Show = { ...show, held: show.held === 'pending' ? 'no' : show.held, billing: null };
    return { state: { ...state, show: refused }, end: true, effects: [push(show.viewerId, 'show.kicked', { showId: show.id, reason: 'no_credit' })] };
  }
  let next: Show;
  if (charge.what === 'hold') next = { ...show, held: 'yes' };
  else next = { ...show, billed: Math.max(show.billed, charge.minute), billing: null, spent: show.spent + charge.price, earned: show.earned + msg.earned };
  return { state: { ...state, show: next }, end: false, effects: [] };
}

/** When the next minute of a running show is due (null: not billing now). */
export function nextBillAt(show: Show): number | null {
  if (show.price === 0 || (show.status !== 'live' && show.status !== 'closing') || show.startedAt === null || show.billing !== null || show.billed === 0) return null;
  // Minutes after the first are charged only with the viewer in (one who enters late pays those started meanwhile).
  if (!show.viewerIn) return null;
  return show.startedAt + show.billed * BILL_MINUTE_MS;
}

/** The first minute once the show is live and its hold committed (the viewer in or not); later minutes at their boundaries, with the viewer in. */
export function billIfDue(show: Show, now: number): { show: Show; charges: ChargeRequest[] } {
  if (show.price === 0 || (show.status !== 'live' && show.status !== 'closing') || show.billing !== null) return { show, charges: [] };
  if (show.billed === 0) {
    if (show.held !== 'yes') return { show, charges: [] };
    return { show: { ...show, billing: 1 }, charges: [showCharge(show, 'bill', 1)] };
  }
  const at = nextBillAt(show);
  if (at === null || now < at) return { show, charges: [] };
  const minute = show.billed + 1;
  return { show: { ...show, billing: minute }, charges: [showCharge(show, 'bill', minute)] };
}

/**
 * At the end (`at`): a show that never started gives its hold back; a show
 * that started pays its first minute from the hold if that is not done yet
 * (whether the viewer came or not); in a show its viewer was in, every later
 * minute that started before the end and is not paid or being paid yet is
 * charged now (after a restart several may have started while the server was
 * down) — unless it ended because one could not be paid.
 */
export function chargesAtEnd(show: Show, at: number, unpaid: boolean): ChargeRequest[] {
  if (show.price === 0 || show.held === 'no') return [];
  if (show.startedAt === null || show.startedAt >= at) return show.billed > 0 || show.billing !== null ? [] : [showCharge(show, 'release', 0)];
  // Ended because a minute could not be paid: nothing more is asked of the viewer.
  if (unpaid) return [];
  if (!show.viewerIn) return show.billed === 0 && show.billing === null && show.held === 'yes' ? [showCharge(show, 'bill', 1)] : [];
  const started = Math.ceil((at - show.startedAt) / BILL_MINUTE_MS);
  const out: ChargeRequest[] = [];
  for (let minute = (show.billing ?? show.billed) + 1; minute <= started; minute++) out.push(showCharge(show, 'bill', minute));
  return out;
}
