import { BILL_MINUTE_MS, takeCharge, type ChargeRequest, type ChargeResult } from './charges.js';
import { push, type Effect } from './effects.js';
import type { RoomState, Viewer } from './room-state.js';

/**
 * Paid public rooms (pricePerMinute > 0): each viewer pays per started minute
 * of their visit, minute 1 on entering, minute k at entry + (k−1) minutes,
 * each asked for once the previous one is confirmed (through the charges
 * outbox, see charges.ts). A minute that cannot be paid puts the viewer out
 * (room.kicked, reason "no_credit"); leaving stops the billing (the started
 * minute is paid). The host and the platform are split as for private shows.
 */
const visitPrefix = (roomId: number, userId: number, v: Viewer) => `bill:room:${roomId}:${userId}:${v.at}:`;

export function roomCharge(s: RoomState, userId: number, v: Viewer, minute: number): ChargeRequest {
  return {
    key: `${visitPrefix(s.roomId, userId, v)}${minute}`,
    what: 'bill',
    place: 'room',
    placeId: s.roomId,
    hostId: s.hostId,
    viewerId: userId,
    minute,
    price: s.pricePerMinute,
    fromHold: false,
  };
}

/** When the next minute of a paying viewer is due (null: nothing to bill now). */
function nextBillAt(v: Viewer): number | null {
  if (v.billed === undefined || v.billing !== null || v.billed === 0) return null;
  return v.at + v.billed * BILL_MINUTE_MS;
}

/** The earliest minute due among the viewers (one deadline for the room). */
export function roomBillAt(s: RoomState): number | null {
  if (s.pricePerMinute === 0) return null;
  let at: number | null = null;
  for (const v of s.viewers.values()) {
    const next = nextBillAt(v);
    if (next !== null && (at === null || next < at)) at = next;
  }
  return at;
}

/** Starts charging every viewer whose next minute has started (viewers are updated in place, like entries). */
export function billDue(s: RoomState, now: number): ChargeRequest[] {
  const out: ChargeRequest[] = [];
  for (const [userId, v] of s.viewers) {
    const at = nextBillAt(v);
    if (at === null || now < at) continue;
    const minute = v.billed! + 1;
    s.viewers.set(userId, { ...v, billing: minute });
    out.push(roomCharge(s, userId, v, minute));
  }
  return out;
}

/**
 * The ledger's answer for a viewer's minute. Paid: the viewer's count moves on.
 * Refused: the viewer is put out (returned as `out` for the room to remove).
 * A visit that ended meanwhile (left, or left and came back) just drops it.
 */
export function applyRoomCharge(s: RoomState, msg: ChargeResult, now: number): { state: RoomState; out: number | null; effects: Effect[] } | undefined {
  const taken = takeCharge(s, msg.key);
  if (!taken) return undefined;
  const { charge, state } = taken;
  const v = state.viewers.get(charge.viewerId);
  if (!v || !charge.key.startsWith(visitPrefix(state.roomId, charge.viewerId, v))) return { state, out: null, effects: [] };
  if (!msg.ok) {
    return { state, out: charge.viewerId, effects: [push(charge.viewerId, 'room.kicked', { roomId: state.roomId, until: now, reason: 'no_credit' })] };
  }
  state.viewers.set(charge.viewerId, { ...v, billed: Math.max(v.billed ?? 0, charge.minute), billing: null });
  return { state, out: null, effects: [] };
}
