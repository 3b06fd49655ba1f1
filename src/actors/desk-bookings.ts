import { takeCharge, withCharges, type ChargeRequest, type ChargeResult } from './charges.js';
import type { Booking, DeskMsg, DeskRules, DeskState } from './desk.js';
import { same } from './desk.js';
import { othersBusy } from './desk-invites.js';
import { endShowNow, enterShow, newShow, showAdvance } from './desk-show.js';
import { emit, fail, offlinePush, ok, push, type Effect, type Step } from './effects.js';
import type { Deadline } from './shell.js';

type Msg<T extends DeskMsg['t']> = Extract<DeskMsg, { t: T }>;
type Outcome = 'completed' | 'missed_by_host' | 'missed_by_viewer' | 'missed_by_both' | 'cancelled';

/**
 * The deposit (paid private shows, LIVE_SHOW_PRICE_PER_MIN > 0): one minute's
 * price held from the viewer when the booking is accepted (a viewer who
 * cannot pay it cannot accept or be accepted: 740), then, when the booking is
 * settled, paid to the host (house cut taken) if the viewer missed it, and
 * given back to the viewer in every other case (completed — the show bills
 * its minutes as any show —, missed by the host or by both, cancelled by
 * either side). Declined and expired bookings never held one.
 */
function depositCharge(b: Booking, what: 'hold' | 'release' | 'forfeit'): ChargeRequest {
  return {
    key: `${what === 'hold' ? 'deposit' : what}:booking:${b.id}`, what, place: 'booking', placeId: b.id, hostId: b.hostId, viewerId: b.viewerId,
    minute: 0, price: b.deposit ?? 0, fromHold: what !== 'hold',
  };
}

/** Where a settled booking's deposit goes (nothing when it had none). */
function settleDeposit(b: Booking, outcome: Outcome): { charges: ChargeRequest[]; deposit: number; depositTo: 'viewer' | 'host' | null } {
  if (!b.deposit) return { charges: [], deposit: 0, depositTo: null };
  const forfeit = outcome === 'missed_by_viewer';
  return { charges: [depositCharge(b, forfeit ? 'forfeit' : 'release')], deposit: b.deposit, depositTo: forfeit ? 'host' : 'viewer' };
}

/** The ledger's answer about a deposit: held, or refused (the viewer cannot pay it: the booking is cancelled). */
export function depositAnswered(s: DeskState, msg: ChargeResult, now: number): Step<DeskState> {
  const taken = takeCharge(s, msg.key);
  if (!taken) return same(s, []);
  const { charge, state } = taken;
  const b = state.bookings.find((x) => x.id === charge.placeId);
  if (msg.ok && charge.what === 'hold' && !b) {
    // A deposit that committed after its booking was settled (a retry after a restart): its settlement found
    // nothing to move, so it goes back to the viewer now.
    return withCharges({ state, effects: [] }, [{ ...charge, key: `release:booking:${charge.placeId}`, what: 'release', fromHold: true }], now);
  }
  if (msg.ok || charge.what !== 'hold' || !b || b.showId !== null) return { state, effects: [] };
  const d = { bookingId: b.id, reason: 'no_credit' as const };
  return {
    state: drop(state, b.id),
    effects: both(b, 'booking.cancelled', d),
    writes: [{ t: 'booking.update', bookingId: b.id, status: 'cancelled', at: now }, ...bothOffline(b, 'booking.cancelled', d, now)],
  };
}

const inviterOf = (b: Booking) => (b.from === 'viewer' ? b.viewerId : b.hostId);
const inviteeOf = (b: Booking) => (b.from === 'viewer' ? b.hostId : b.viewerId);
const partyOf = (b: Booking, userId: number) => userId === b.hostId || userId === b.viewerId;
const endOf = (b: Pick<Booking, 'startsAt' | 'durationMin'>) => b.startsAt + b.durationMin * 60_000;

/** The booking as `userId` sees it (wire shape of Booking). */
export function bookingView(b: Omit<Booking, 'hostIn' | 'viewerIn' | 'status'> & { status: string }, userId: number, judgeMs: number) {
  const viewer = { userId: b.viewerId, profile: b.viewer };
  const host = { userId: b.hostId, profile: b.host };
  const [from, to] = b.from === 'viewer' ? [viewer, host] : [host, viewer];
  return {
    bookingId: b.id, from, to, startsAt: b.startsAt, durationMin: b.durationMin, status: b.status as Booking['status'], createdAt: b.createdAt,
    judgeAt: b.startsAt + judgeMs, direction: (b.from === 'viewer' ? b.viewerId : b.hostId) === userId ? ('sent' as const) : ('received' as const), showId: b.showId,
  };
}

function overlaps(s: DeskState, slot: Pick<Booking, 'startsAt' | 'durationMin'>, except = 0): boolean {
  return s.bookings.some((b) => b.id !== except && b.status !== 'pending' && b.startsAt < endOf(slot) && slot.startsAt < endOf(b));
}

const replace = (s: DeskState, b: Booking): DeskState => ({ ...s, bookings: s.bookings.map((x) => (x.id === b.id ? b : x)) });
const drop = (s: DeskState, id: number): DeskState => ({ ...s, bookings: s.bookings.filter((x) => x.id !== id) });
const both = (b: Booking, op: Parameters<typeof push>[1], d: unknown): Effect[] => [push(b.hostId, op, d), push(b.viewerId, op, d)];
const bothOffline = (b: Booking, op: Parameters<typeof push>[1], d: unknown, at: number) => [offlinePush(b.hostId, op, d, at), offlinePush(b.viewerId, op, d, at)];

export function newBooking(s: DeskState, msg: Msg<'book'>, now: number, rules: DeskRules): Step<DeskState> {
  if (msg.startsAt < now + rules.bookingMinLeadMs || msg.startsAt > now + rules.bookingMaxAheadMs) return same(s, [fail('BOOKING_TIME_INVALID')]);
  if (s.bookings.length >= rules.maxBookingsPerHost) return same(s, [fail('TOO_MANY_INVITES', `the host has ${rules.maxBookingsPerHost} open bookings`)]);
  if (overlaps(s, msg)) return same(s, [fail('BOOKING_OVERLAP')]);
  const b: Booking = {
    id: msg.bookingId, hostId: s.hostId, viewerId: msg.viewerId, from: msg.from, host: msg.host, viewer: msg.viewer, createdAt: now,
    startsAt: msg.startsAt, durationMin: msg.durationMin, status: 'pending', hostIn: false, viewerIn: false, showId: null,
  };
  const received = bookingView(b, inviteeOf(b), rules.bookingJudgeMs);
  return {
    state: { ...s, bookings: [...s.bookings, b] },
    effects: [ok(bookingView(b, inviterOf(b), rules.bookingJudgeMs)), push(inviteeOf(b), 'booking.received', received)],
    writes: [{ t: 'booking.new', booking: b }, offlinePush(inviteeOf(b), 'booking.received', received, now)],
  };
}

export function cancelBooking(s: DeskState, msg: Msg<'booking-cancel'>, now: number): Step<DeskState> {
  const b = s.bookings.find((x) => x.id === msg.bookingId);
  if (!b || !partyOf(b, msg.by)) return same(s, [fail('BOOKING_NOT_FOUND')]);
  if (b.showId !== null) return same(s, [fail('BOOKING_STARTED')]);
  const other = msg.by === b.hostId ? b.viewerId : b.hostId;
  const d = { bookingId: b.id, reason: 'cancelled' as const };
  const step: Step<DeskState> = {
    state: drop(s, b.id),
    effects: [ok(), push(other, 'booking.cancelled', d)],
    writes: [{ t: 'booking.update', bookingId: b.id, status: 'cancelled', at: now }, offlinePush(other, 'booking.cancelled', d, now)],
  };
  return withCharges(step, settleDeposit(b, 'cancelled').charges, now);
}

export function answerBooking(s: DeskState, msg: Msg<'booking-answer'>, now: number, rules: DeskRules): Step<DeskState> {
  const b = s.bookings.find((x) => x.id === msg.bookingId);
  // Not pending any more, or past the time it expires at (its timer may be a hair late: the time decides).
  if (!b || b.status !== 'pending' || inviteeOf(b) !== msg.by || now >= b.startsAt - rules.bookingRemindMs) return same(s, [fail('BOOKING_NOT_FOUND')]);
  const d = { bookingId: b.id, accepted: msg.accept };
  if (!msg.accept) {
    return { state: drop(s, b.id), effects: [ok(), push(inviterOf(b), 'booking.answered', d)], writes: [{ t: 'booking.update', bookingId: b.id, status: 'declined', at: now }] };
  }
  if (overlaps(s, b, b.id)) return same(s, [fail('BOOKING_OVERLAP')]);
  const accepted: Booking = { ...b, status: 'accepted', deposit: rules.pricePerMin };
  const step: Step<DeskState> = {
    state: replace(s, accepted),
    effects: [ok(bookingView(accepted, msg.by, rules.bookingJudgeMs)), push(inviterOf(b), 'booking.answered', d)],
    writes: [{ t: 'booking.update', bookingId: b.id, status: 'accepted', at: now }],
  };
  return withCharges(step, accepted.deposit ? [depositCharge(accepted, 'hold')] : [], now);
}

/** Expiry of a pending booking and the reminder of an accepted one (one minute before the start), then the judgement. */
export function bookingDue(s: DeskState, bookingId: number, now: number, rules: DeskRules): Step<DeskState> {
  const b = s.bookings.find((x) => x.id === bookingId);
  if (!b) return same(s, []);
  const remindAt = b.startsAt - rules.bookingRemindMs;
  const judgeAt = b.startsAt + rules.bookingJudgeMs;
  if (b.status === 'pending' && now >= remindAt) {
    return { state: drop(s, b.id), effects: both(b, 'booking.expired', { bookingId: b.id }), writes: [{ t: 'booking.update', bookingId: b.id, status: 'expired', at: now }] };
  }
  if (b.status === 'accepted' && now >= remindAt) {
    const d = { bookingId: b.id, startsAt: b.startsAt, judgeAt };
    return {
      state: replace(s, { ...b, status: 'due' }),
      effects: both(b, 'booking.soon', d),
      writes: [{ t: 'booking.update', bookingId: b.id, status: 'due', at: now }, ...bothOffline(b, 'booking.soon', d, now)],
    };
  }
  if (b.status !== 'due' || now < judgeAt) return same(s, []);
  const outcome: Outcome = b.hostIn && b.viewerIn ? 'completed' : b.hostIn ? 'missed_by_viewer' : b.viewerIn ? 'missed_by_host' : 'missed_by_both';
  let next = drop(s, b.id);
  const money = settleDeposit(b, outcome);
  const effects = both(b, 'booking.settled', { bookingId: b.id, outcome, deposit: money.deposit, depositTo: money.depositTo });
  const writes: NonNullable<Step<DeskState>['writes']> = [{ t: 'booking.update', bookingId: b.id, status: outcome, at: now }];
  if (outcome !== 'completed' && next.show && next.show.bookingId === b.id) {
    // What was due in the show before now happens first (its start at the booking's start), so the
    // outcome does not depend on whether the show's own deadline was handled before this one.
    const advanced = showAdvance(next, now, rules);
    effects.push(...advanced.effects);
    writes.push(...(advanced.writes ?? []));
    if (advanced.state.show && advanced.state.show.bookingId === b.id) {
      const ended = endShowNow(advanced.state, now, b.hostIn ? 'viewer_no_show' : 'host_no_show');
      next = ended.state;
      effects.push(...ended.effects);
      writes.push(...(ended.writes ?? []));
    } else next = advanced.state;
  }
  return withCharges({ state: next, effects, writes }, money.charges, now);
}

/**
 * The booking's show ended before the judgement (closed, or abnormal): the
 * booking is settled now — completed if both sides were in it, else
 * cancelled (a side ended it before the other came).
 */
export function settleEndedBooking(step: Step<DeskState>, bookingId: number, now: number): Step<DeskState> {
  const b = step.state.bookings.find((x) => x.id === bookingId);
  if (!b) return step;
  const outcome: Outcome = b.hostIn && b.viewerIn ? 'completed' : 'cancelled';
  const money = settleDeposit(b, outcome);
  const settled: Step<DeskState> = {
    state: drop(step.state, b.id),
    effects: [...step.effects, ...both(b, 'booking.settled', { bookingId: b.id, outcome, deposit: money.deposit, depositTo: money.depositTo })],
    writes: [...(step.writes ?? []), { t: 'booking.update', bookingId: b.id, status: outcome, at: now }],
  };
  return withCharges(settled, money.charges, now);
}

/** booking.enter: the first to enter creates the booking's show; then as show.enter. */
export function enterBooking(s: DeskState, msg: Msg<'booking-enter'>, now: number, rules: DeskRules): Step<DeskState> {
  const b = s.bookings.find((x) => x.id === msg.bookingId);
  if (!b || !partyOf(b, msg.userId)) return same(s, [fail('BOOKING_NOT_FOUND')]);
  if (b.status !== 'due') return same(s, [fail('BOOKING_NOT_OPEN')]);
  if (s.show && s.show.bookingId !== b.id) return same(s, [fail('USER_BUSY', 'the host is in another private show')]);
  if (!s.show && b.showId !== null) return same(s, [fail('SHOW_ENDED')]);
  const isHost = msg.userId === b.hostId;
  const marked: Booking = { ...b, showId: b.showId ?? msg.showId, hostIn: b.hostIn || isHost, viewerIn: b.viewerIn || !isHost };
  let state = replace(s, marked);
  const effects: Effect[] = [];
  const writes: NonNullable<Step<DeskState>['writes']> = [];
  let holds: ChargeRequest[] = [];
  if (!s.show) {
    const { show, charges } = newShow(
      { id: msg.showId, hostId: b.hostId, viewerId: b.viewerId, host: b.host, viewer: b.viewer, bookingId: b.id, notBefore: b.startsAt, hostEnterBy: null },
      now,
      rules,
    );
    holds = charges;
    // As when an invitation is accepted: the host's pending invitations are answered "busy".
    const others = othersBusy(state.invites, now);
    state = { ...state, show, invites: [] };
    effects.push(emit({ kind: 'show.opened', showId: show.id, hostId: show.hostId, viewerId: show.viewerId }), ...others.effects);
    writes.push(
      ...others.writes,
      { t: 'show.new', showId: show.id, hostId: show.hostId, viewerId: show.viewerId, inviteId: null, bookingId: b.id, at: now },
      { t: 'booking.update', bookingId: b.id, status: 'due', at: now, showId: show.id },
    );
  }
  const entered = enterShow(state, state.show!.id, msg.userId, now, rules);
  return withCharges({ state: entered.state, effects: [...effects, ...entered.effects], writes: [...writes, ...(entered.writes ?? [])] }, holds, now);
}

export function bookingDeadlines(bookings: Booking[], rules: DeskRules): Deadline<DeskMsg>[] {
  return bookings.map((b) => ({
    id: `booking:${b.id}`,
    at: b.status === 'due' ? b.startsAt + rules.bookingJudgeMs : b.startsAt - rules.bookingRemindMs,
    msg: { t: 'booking-due', bookingId: b.id },
  }));
}
