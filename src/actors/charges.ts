import { emit, type Step } from './effects.js';
import type { Deadline } from './shell.js';

/** Billing counts per started minute (private shows, paid rooms). */
export const BILL_MINUTE_MS = 60_000;
/** A charge not confirmed this long after it was asked for (or before a restart) is asked for again: its key makes that harmless. */
export const CHARGE_RETRY_MS = 5_000;

/**
 * A move of credits an actor (a host's desk, a paid room) asked the ledger
 * for and has not heard back about. Kept in the actor's journaled state until
 * confirmed (an outbox), so a crash between the journal write and the ledger
 * commit only delays it: it is asked for again, under the same ledger key,
 * until the ledger answers. `place`/`placeId`: the show, room or booking it
 * is for (the ledger sums transfers by it); `fromHold`: paid from the place's
 * hold account (`hold:<place>:<id>`) rather than by the viewer. `forfeit`:
 * a hold paid to the host (a booking's deposit after the viewer missed it).
 */
export interface Charge {
  key: string;
  what: 'hold' | 'bill' | 'release' | 'forfeit';
  place: 'show' | 'room' | 'booking';
  placeId: number;
  hostId: number;
  viewerId: number;
  minute: number;
  price: number;
  fromHold: boolean;
  requestedAt: number;
}

export type ChargeRequest = Omit<Charge, 'requestedAt'>;

/** The ledger's answer to a charge, sent back to the actor that asked. */
export type ChargeResult = { t: 'charged'; key: string; ok: true; earned: number } | { t: 'charged'; key: string; ok: false; reason: 'no_credit' };

interface WithCharges {
  charges: Charge[];
}

/** Adds the charges to the actor's outbox and asks the ledger for them (after this step's journal write). */
export function withCharges<S extends WithCharges>(step: Step<S>, requests: ChargeRequest[], now: number): Step<S> {
  if (requests.length === 0) return step;
  const charges = requests.map((r): Charge => ({ ...r, requestedAt: now }));
  return {
    ...step,
    state: { ...step.state, charges: [...step.state.charges, ...charges] },
    effects: [...step.effects, ...charges.map((charge) => emit({ kind: 'charge', charge }))],
  };
}

/** Charges left unconfirmed past CHARGE_RETRY_MS are asked for again. */
export function retryCharges<S extends WithCharges>(s: S, now: number): Step<S> {
  const due = s.charges.filter((c) => now >= c.requestedAt + CHARGE_RETRY_MS);
  if (due.length === 0) return { state: s, effects: [] };
  const charges = s.charges.map((c) => (due.includes(c) ? { ...c, requestedAt: now } : c));
  return { state: { ...s, charges }, effects: due.map((c) => emit({ kind: 'charge', charge: { ...c, requestedAt: now } })) };
}

export function chargeDeadlines<M>(s: WithCharges, retry: M): Deadline<M>[] {
  if (s.charges.length === 0) return [];
  return [{ id: 'charge-retry', at: Math.min(...s.charges.map((c) => c.requestedAt)) + CHARGE_RETRY_MS, msg: retry }];
}

/** Takes an answered charge out of the outbox: the charge, and the state without it (undefined: not waiting, e.g. a retry's second answer). */
export function takeCharge<S extends WithCharges>(s: S, key: string): { charge: Charge; state: S } | undefined {
  const charge = s.charges.find((c) => c.key === key);
  return charge && { charge, state: { ...s, charges: s.charges.filter((c) => c !== charge) } };
}
