import type { Profile } from '../protocol/schemas.js';
import type { BookingRow } from '../storage/bookings.js';
import type { InviteRow } from '../storage/private-shows.js';
import type { Effect, Step } from './effects.js';
import { answerBooking, bookingDeadlines, bookingDue, cancelBooking, depositAnswered, enterBooking, newBooking, settleEndedBooking } from './desk-bookings.js';
import { answerInvite, cancelInvite, expireInvite, newInvite } from './desk-invites.js';
import { chargeDeadlines, retryCharges, withCharges, type Charge, type ChargeResult } from './charges.js';
import { applyCharge } from './desk-billing.js';
import { closeShow, endShowNow, enterShow, showAdvance, showAway, showBack, showBilled, showDeadlines, showRestarted, showVideo, showView } from './desk-show.js';
import { ok } from './effects.js';
import type { ActorDef } from './shell.js';

/** Private-show rules that come from configuration. */
export interface DeskRules {
  inviteTtlMs: number;
  /** Most pending invitations one host's desk holds (both directions). */
  maxInvitesPerHost: number;
  /** From the host entering to the start (6.24). */
  countdownMs: number;
  /** After acceptance, how long the host has to enter. */
  hostEnterMs: number;
  /** After the start, how long the viewer has to enter. */
  viewerEnterMs: number;
  /** How long a side may stay disconnected before the show ends as abnormal (6.27). */
  awayGraceMs: number;
  /** Cadence of show.closing pushes. */
  tickMs: number;
  /** Bookings: how far ahead at least and at most, the reminder before the start, the judgement after it, a cap per host. */
  bookingMinLeadMs: number;
  bookingMaxAheadMs: number;
  bookingRemindMs: number;
  bookingJudgeMs: number;
  maxBookingsPerHost: number;
  /** Media URL templates of the viewer's video ({stream} is replaced), from configuration. */
  mediaPushUrl: string;
  mediaPlayUrl: string;
  /** Credits per started minute of a private show, fixed when the show is created. */
  pricePerMin: number;
}

/** A booking not settled yet: its stored row, with who has entered its show. */
export interface Booking extends Omit<BookingRow, 'status'> {
  status: 'pending' | 'accepted' | 'due';
  hostIn: boolean;
  viewerIn: boolean;
  /** The viewer's deposit, held from acceptance until the booking is settled (0 or absent: none). */
  deposit?: number;
}

/** A pending instant invitation, as stored. */
export type Invite = InviteRow;

export interface Show {
  id: number;
  hostId: number;
  viewerId: number;
  host: Profile;
  viewer: Profile;
  status: 'accepted' | 'countdown' | 'live' | 'closing';
  acceptedAt: number;
  /** The booking the show belongs to (null: an instant show); it starts no earlier than `notBefore`. */
  bookingId: number | null;
  notBefore: number | null;
  hostIn: boolean;
  viewerIn: boolean;
  hostEnterBy: number | null;
  startsAt: number | null;
  startedAt: number | null;
  viewerEnterBy: number | null;
  closesAt: number | null;
  nextTickAt: number | null;
  hostAwayUntil: number | null;
  viewerAwayUntil: number | null;
  /** The viewer is pushing video to the host (5.8, 7.48). */
  viewerVideo?: boolean;
  /** Credits per started minute. */
  price: number;
  /** The first minute's hold: asked for ('pending'), committed ('yes'), refused ('no'). */
  held: 'pending' | 'yes' | 'no';
  /** Minutes paid (committed), and the minute being charged now. */
  billed: number;
  billing: number | null;
  /** Credits the viewer paid and the host earned so far (committed). */
  spent: number;
  earned: number;
}

/**
 * A host's private-show desk (`desk:<hostId>`): the host's pending instant
 * invitations (both directions) and the private show the host is in. One
 * actor decides every fact about the host's private side, so "busy", "one
 * pending invitation per pair" and "accepting one answers the others" hold
 * without locks. Viewer-side rules are checked by the server in the viewer's
 * lane (see PrivateShows). Invitations and shows are also written to tables
 * (same commit as the journal entry) for lists, counts and lookups by id.
 */
export interface DeskState {
  hostId: number;
  invites: Invite[];
  /** Bookings not settled yet (pending, accepted, due). */
  bookings: Booking[];
  show: Show | null;
  /** Credits moves asked of the ledger and not confirmed yet (asked again until they are). */
  charges: Charge[];
}

export type DeskMsg =
  | { t: 'invite'; inviteId: number; viewerId: number; viewer: Profile; host: Profile; from: 'viewer' | 'host' }
  | { t: 'cancel'; inviteId: number; by: number; reason: 'cancelled' | 'busy' }
  | { t: 'answer'; inviteId: number; by: number; accept: boolean; showId: number }
  | { t: 'expire'; inviteId: number }
  | { t: 'enter'; showId: number; userId: number }
  | { t: 'close'; showId: number; by: number; countdownMs: number }
  /** One of the show's deadlines is due: the show moves on as far as `now` allows. */
  | { t: 'show-due' }
  | { t: 'away'; userId: number; since: number }
  | { t: 'back'; userId: number }
  /** The server restarted: both sides are disconnected. */
  | { t: 'restarted' }
  | { t: 'current'; userId: number }
  | { t: 'video'; showId: number; userId: number; on: boolean }
  | { t: 'book'; bookingId: number; viewerId: number; viewer: Profile; host: Profile; from: 'viewer' | 'host'; startsAt: number; durationMin: number }
  | { t: 'booking-cancel'; bookingId: number; by: number }
  | { t: 'booking-answer'; bookingId: number; by: number; accept: boolean }
  /** A booking's next step is due: expiry, reminder or judgement, by its status. */
  | { t: 'booking-due'; bookingId: number }
  | { t: 'booking-enter'; bookingId: number; userId: number; showId: number }
  /** The ledger's answer to one of the desk's charges. */
  | ChargeResult
  /** Some charge went unanswered for a while (or the server restarted): ask again. */
  | { t: 'charge-retry' };

export function initialDeskState(id: string): DeskState {
  return { hostId: Number(id), invites: [], bookings: [], show: null, charges: [] };
}

export const same = (s: DeskState, effects: Effect[]): Step<DeskState> => ({ state: s, effects });

export function reduceDesk(s: DeskState, msg: DeskMsg, now: number, rules: DeskRules): Step<DeskState> {
  const step = reduce(s, msg, now, rules);
  // A booked show that ended before its booking was judged settles the booking now.
  const booked = s.show?.bookingId ?? null;
  if (booked === null || step.state.show?.id === s.show!.id) return step;
  return settleEndedBooking(step, booked, now);
}

function reduce(s: DeskState, msg: DeskMsg, now: number, rules: DeskRules): Step<DeskState> {
  switch (msg.t) {
    case 'invite':
      return newInvite(s, msg, now, rules);
    case 'cancel':
      return cancelInvite(s, msg, now);
    case 'answer':
      return answerInvite(s, msg, now, rules);
    case 'expire':
      return expireInvite(s, msg.inviteId, now);
    case 'enter':
      return enterShow(s, msg.showId, msg.userId, now, rules);
    case 'close':
      return closeShow(s, msg.showId, msg.by, msg.countdownMs, now, rules);
    case 'show-due':
      return showAdvance(s, now, rules);
    case 'away':
      return showAway(s, msg.userId, msg.since, rules);
    case 'back':
      return showBack(s, msg.userId);
    case 'restarted':
      return showRestarted(s, now, rules);
    case 'current':
      return same(s, [ok({ show: s.show ? showView(s.show, rules, msg.userId) : null })]);
    case 'video':
      return showVideo(s, msg.showId, msg.userId, msg.on, rules);
    case 'book':
      return newBooking(s, msg, now, rules);
    case 'booking-cancel':
      return cancelBooking(s, msg, now);
    case 'booking-answer':
      return answerBooking(s, msg, now, rules);
    case 'booking-due':
      return bookingDue(s, msg.bookingId, now, rules);
    case 'booking-enter':
      return enterBooking(s, msg, now, rules);
    case 'charged': {
      // An answer to a charge no longer waiting (a retry's second answer) changes nothing.
      const charge = s.charges.find((c) => c.key === msg.key);
      if (!charge) return same(s, []);
      if (charge.place === 'booking') return depositAnswered(s, msg, now);
      const r = applyCharge(s, msg);
      if (r.charges?.length) return withCharges({ state: r.state, effects: r.effects }, r.charges, now);
      return r.end ? endShowNow(r.state, now, 'no_credit', r.effects) : showBilled(r.state, now, rules, r.effects);
    }
    case 'charge-retry':
      return retryCharges(s, now);
  }
}

export function deskActor(rules: DeskRules): ActorDef<DeskState, DeskMsg> {
  return {
    kind: 'desk',
    initialState: initialDeskState,
    reduce: (state, msg, now) => reduceDesk(state, msg, now, rules),
    deadlines: (s) => [
      ...s.invites.map((i) => ({ id: `invite:${i.id}`, at: i.expiresAt, msg: { t: 'expire', inviteId: i.id } as DeskMsg })),
      ...showDeadlines(s.show),
      ...bookingDeadlines(s.bookings, rules),
      ...chargeDeadlines<DeskMsg>(s, { t: 'charge-retry' }),
    ],
    // Snapshots of desks from before bookings and billing existed.
    fromSnapshot: (data) => {
      const d = data as DeskState;
      const show = d.show && { ...{ price: 0, held: 'no' as const, billed: 0, billing: null, spent: 0, earned: 0 }, ...d.show };
      return { ...d, bookings: d.bookings ?? [], charges: d.charges ?? [], show };
    },
  };
}
