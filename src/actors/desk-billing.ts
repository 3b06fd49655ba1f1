import { emit, push, type Effect, type Step } from './effects.js';
import type { DeskMsg, DeskState, Show } from './desk.js';
import type { Deadline } from './shell.js';

/** Billing counts per started minute of a show. */
export const BILL_MINUTE_MS = 60_000;
/** A charge not confirmed this long after it was asked for (or before a restart) is asked for again: its key makes that harmless. */
export const CHARGE_RETRY_MS = 5_000;

/**
 * A move of credits a desk asked the ledger for and has not heard back about.
 *   hold     the viewer's first minute set aside when the show is created
 *   bill     minute `minute` of the show (minute 1 from the hold, later ones from the viewer)
 *   release  the hold given back: the show ended before its first minute was billed
 * Kept in the desk's journaled state until confirmed, so a crash between the
 * journal write and the ledger commit only delays it: each is asked for again
 * (same key) until the ledger answers.
 */
export interface Charge {
  key: string;
  what: 'hold' | 'bill' | 'release';
  showId: number;
  hostId: number;
  viewerId: number;
  minute: number;
  price: number;
  requestedAt: number;
}

export type ChargeRequest = Omit<Charge, 'key' | 'requestedAt'>;

export function chargeKey(c: Pick<Charge, 'what' | 'showId' | 'minute'>): string {
  return c.what === 'bill' ? `bill:show:${c.showId}:${c.minute}` : `${c.what}:show:${c.showId}`;
}

/** Adds the charges to the desk's outbox and asks the ledger for them (after this step's journal write). */
export function withCharges(step: Step<DeskState>, requests: ChargeRequest[], now: number): Step<DeskState> {
  if (requests.length === 0) return step;
  const charges = requests.map((r): Charge => ({ ...r, key: chargeKey(r), requestedAt: now }));
  return {
    ...step,
    state: { ...step.state, charges: [...step.state.charges, ...charges] },
    effects: [...step.effects, ...charges.map((charge) => emit({ kind: 'show.charge', charge }))],
  };
}

/** Charges left unconfirmed past CHARGE_RETRY_MS are asked for again. */
export function retryCharges(s: DeskState, now: number): Step<DeskState> {
  const due = s.charges.filter((c) => now >= c.requestedAt + CHARGE_RETRY_MS);
  if (due.length === 0) return { state: s, effects: [] };
  const charges = s.charges.map((c) => (due.includes(c) ? { ...c, requestedAt: now } : c));
  return { state: { ...s, charges }, effects: due.map((c) => emit({ kind: 'show.charge', charge: { ...c, requestedAt: now } })) };
}

export function chargeDeadlines(s: DeskState): Deadline<DeskMsg>[] {
  if (s.charges.length === 0) return [];
  return [{ id: 'charge-retry', at: Math.min(...s.charges.map((c) => c.requestedAt)) + CHARGE_RETRY_MS, msg: { t: 'charge-retry' } }];
}

export type ChargeResult = { t: 'charged'; key: string; ok: true; earned: number } | { t: 'charged'; key: string; ok: false; reason: 'no_credit' };

/**
 * The ledger's answer. The charge leaves the outbox; if its show is still
 * on: a committed hold or bill moves the show's billing along, a refused one
 * (not enough credit) ends the show ('no_credit'), the viewer kicked (7.5).
 * Returns the show after the answer, or 'ended' when it has to end now.
 */
export function applyCharge(s: DeskState, msg: ChargeResult): { state: DeskState; end: boolean; effects: Effect[] } {
  const charge = s.charges.find((c) => c.key === msg.key);
  if (!charge) return { state: s, end: false, effects: [] };
  const state = { ...s, charges: s.charges.filter((c) => c !== charge) };
  const show = state.show;
  if (!show || show.id !== charge.showId || charge.what === 'release') return { state, end: false, effects: [] };
  if (!msg.ok) {
    return { state, end: true, effects: [push(show.viewerId, 'show.kicked', { showId: show.id, reason: 'no_credit' })] };
  }
  let next: Show;
  if (charge.what === 'hold') next = { ...show, held: 'yes' };
  else next = { ...show, billed: Math.max(show.billed, charge.minute), billing: null, spent: show.spent + charge.price, earned: show.earned + msg.earned };
  return { state: { ...state, show: next }, end: false, effects: [] };
}

/** When the next minute of a running show is due (null: not billing now). */
export function nextBillAt(show: Show): number | null {
  if (show.price === 0 || (show.status !== 'live' && show.status !== 'closing') || show.startedAt === null || show.billing !== null || show.billed === 0) return null;
  return show.startedAt + show.billed * BILL_MINUTE_MS;
}

/** The first minute once the show is live and its hold committed; later minutes at their boundaries. */
export function billIfDue(show: Show, now: number): { show: Show; charges: ChargeRequest[] } {
  if (show.price === 0 || (show.status !== 'live' && show.status !== 'closing') || show.billing !== null) return { show, charges: [] };
  const base = { showId: show.id, hostId: show.hostId, viewerId: show.viewerId, price: show.price };
  if (show.billed === 0) {
    if (show.held !== 'yes') return { show, charges: [] };
    return { show: { ...show, billing: 1 }, charges: [{ ...base, what: 'bill', minute: 1 }] };
  }
  const at = nextBillAt(show);
  if (at === null || now < at) return { show, charges: [] };
  const minute = show.billed + 1;
  return { show: { ...show, billing: minute }, charges: [{ ...base, what: 'bill', minute }] };
}

/** At the end: a hold that never paid a minute goes back to the viewer. */
export function chargesAtEnd(show: Show): ChargeRequest[] {
  if (show.billed > 0 || show.billing === 1 || show.held === 'no') return [];
  return [{ what: 'release', showId: show.id, hostId: show.hostId, viewerId: show.viewerId, minute: 0, price: show.price }];
}
