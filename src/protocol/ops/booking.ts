import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Millis, Profile, SafeInt, UserId } from '../schemas.js';
import { ShowView } from './show.js';

export const BookingId = SafeInt({ minimum: 1, description: 'booking id' });
const Party = Type.Object({ userId: UserId, profile: Profile });
const Count = SafeInt({ minimum: 0 });

export const BookingStatus = Type.Union(
  [
    Type.Literal('pending'),
    Type.Literal('accepted'),
    Type.Literal('due'),
    Type.Literal('declined'),
    Type.Literal('cancelled'),
    Type.Literal('expired'),
    Type.Literal('completed'),
    Type.Literal('missed_by_host'),
    Type.Literal('missed_by_viewer'),
    Type.Literal('missed_by_both'),
  ],
  {
    description:
      'pending: waiting for an answer; accepted; due: from one minute before the start until the judgement; then settled: completed ' +
      '(both entered in time), missed_by_host / missed_by_viewer / missed_by_both; or declined, cancelled (by either side, or its show ended ' +
      'before the judgement without both in it), expired (not answered one minute before the start)',
  },
);

/** A scheduled private show (5.5 / 6.36) as either side sees it. */
export const Booking = Type.Object({
  bookingId: BookingId,
  from: Party,
  to: Party,
  startsAt: Millis,
  durationMin: SafeInt({ minimum: 1 }),
  status: BookingStatus,
  createdAt: Millis,
  judgeAt: Millis,
  direction: Type.Union([Type.Literal('sent'), Type.Literal('received')], { description: 'as seen by the user it is shown to' }),
  showId: Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'the private show of this booking, once someone entered it' }),
});

const ByBooking = Type.Object({ bookingId: BookingId }, { additionalProperties: false });
const Ref = { bookingId: BookingId };

export const bookingOps = {
  'booking.create': defineOp({
    summary:
      'Book a private show at a future time: a viewer books a host (5.5), a host books a viewer (6.36). The other side may be offline ' +
      '(they see it at their next login) but must have logged in once. `startsAt` at least LIVE_BOOKING_MIN_LEAD_MS (default 2 min) ahead and at most ' +
      'LIVE_BOOKING_MAX_AHEAD_MS (default 30 days); it may not overlap a booking the host has accepted. Not answered one minute before the start, ' +
      'it expires (booking.expired to both).',
    seed: '5.5, 5.22, 6.36, 6.37',
    roles: ['viewer', 'host'],
    request: Type.Object(
      {
        userId: UserId,
        startsAt: Millis,
        durationMin: Type.Optional(SafeInt({ minimum: 10, maximum: 240, description: 'minutes, default 30' })),
      },
      { additionalProperties: false },
    ),
    reply: Booking,
    errors: ['BAD_PARAMETER', 'USER_NOT_FOUND', 'BOOKING_TIME_INVALID', 'BOOKING_OVERLAP', 'TOO_MANY_INVITES'],
    pushes: ['booking.received'],
  }),
  'booking.cancel': defineOp({
    summary: 'Cancel a booking you are part of, pending, accepted or due, as long as nobody has entered its show (5.6, 6.38); the other side gets booking.cancelled.',
    seed: '5.6, 6.38',
    roles: ['viewer', 'host'],
    request: ByBooking,
    reply: Type.Object({}),
    errors: ['BOOKING_NOT_FOUND', 'BOOKING_STARTED'],
    pushes: ['booking.cancelled'],
  }),
  'booking.accept': defineOp({
    summary:
      'Accept a pending booking you received (viewer 5.25, host 6.12); the other side gets booking.answered. Refused if it now overlaps another accepted booking ' +
      "of the host (748), or when private shows are paid and the viewer's credits do not cover the deposit, one minute's price held until the booking is settled (740).",
    seed: '5.25, 5.26, 6.12, 6.13',
    roles: ['viewer', 'host'],
    request: ByBooking,
    reply: Booking,
    errors: ['BOOKING_NOT_FOUND', 'BOOKING_OVERLAP', 'INSUFFICIENT_CREDIT'],
    pushes: ['booking.answered', 'wallet.updated'],
  }),
  'booking.decline': defineOp({
    summary: 'Decline a pending booking you received (viewer 5.23, host 6.10); the other side gets booking.answered.',
    seed: '5.23, 5.24, 6.10, 6.11',
    roles: ['viewer', 'host'],
    request: ByBooking,
    reply: Type.Object({}),
    errors: ['BOOKING_NOT_FOUND'],
    pushes: ['booking.answered'],
  }),
  'booking.list': defineOp({
    summary:
      'Your bookings, a page at a time: `state` "pending" (waiting for an answer; 5.17, 6.8, 4.19), "upcoming" (accepted or due, by start time: ' +
      'a host\'s valid private rooms, 7.40), "closed" (settled, newest first). Listing pending ones marks those you received as read for booking.count.',
    seed: '5.17, 6.8, 4.19, 7.40',
    roles: ['viewer', 'host'],
    request: Type.Object(
      {
        state: Type.Union([Type.Literal('pending'), Type.Literal('upcoming'), Type.Literal('closed')]),
        page: SafeInt({ minimum: 1, maximum: 10_000, description: 'page number, from 1' }),
        pageSize: SafeInt({ minimum: 1, maximum: 100 }),
      },
      { additionalProperties: false },
    ),
    reply: Type.Object({ total: Count, bookings: Type.Array(Booking) }),
    errors: [],
  }),
  'booking.count': defineOp({
    summary: 'Pending bookings you received: all, and those not yet listed (5.21, 6.9, 4.18). Also pushed after the welcome of a new session when not 0.',
    seed: '5.21, 6.9, 4.18',
    roles: ['viewer', 'host'],
    request: Type.Object({}, { additionalProperties: false }),
    reply: Type.Object({ total: Count, unread: Count }),
    errors: [],
  }),
  'booking.enter': defineOp({
    summary:
      'Enter the private show of a due booking (viewer 5.7, host 6.14), from one minute before its start until its judgement (751 before and ' +
      'after). The first to enter creates the show; as when an invitation is accepted, the host\'s other pending invitations are answered ' +
      '"busy", the viewer\'s invitations to other hosts are withdrawn, and the host\'s open public room closes. Then as show.enter: the host ' +
      'entering starts the countdown, and the show starts at the later of `startsAt` and the end of the countdown; a public room you were ' +
      'watching is left. Whoever has not entered by `judgeAt` (start + LIVE_BOOKING_JUDGE_MS) missed it (booking.settled).',
    seed: '5.7, 6.14',
    roles: ['viewer', 'host'],
    request: ByBooking,
    reply: ShowView,
    errors: ['BOOKING_NOT_FOUND', 'BOOKING_NOT_OPEN', 'USER_BUSY', 'SHOW_ENDED'],
    pushes: ['show.entered', 'show.countdown', 'show.started'],
  }),
};

export const bookingPushes = {
  'booking.received': definePush({
    summary: 'Someone booked a private show with you (5.22 to a host, 6.37 to a viewer).',
    seed: '5.22, 6.37',
    stream: 'session',
    data: Booking,
  }),
  'booking.answered': definePush({
    summary: 'Your booking was accepted or declined (5.24, 5.26, 6.11, 6.13).',
    seed: '5.24, 5.26, 6.11, 6.13',
    stream: 'session',
    data: Type.Object({ ...Ref, accepted: Type.Boolean() }),
  }),
  'booking.cancelled': definePush({
    summary:
      'A booking was cancelled (5.6, 6.38): by the other side (reason "cancelled"), or, to both sides, because the viewer could not pay its deposit ' +
      'when it was accepted (reason "no_credit"). A held deposit goes back to the viewer.',
    seed: '5.6, 6.38',
    stream: 'session',
    data: Type.Object({ ...Ref, reason: Type.Union([Type.Literal('cancelled'), Type.Literal('no_credit')]) }),
  }),
  'booking.expired': definePush({
    summary: 'A booking was not answered by one minute before its start; to both sides.',
    seed: '000 预约',
    stream: 'session',
    data: Type.Object(Ref),
  }),
  'booking.soon': definePush({
    summary: 'An accepted booking starts in one minute: enter it with booking.enter before `judgeAt` (000 "预约就快开始(1分钟)"); to both sides.',
    seed: '000 7.1 预约就快开始',
    stream: 'session',
    data: Type.Object({ ...Ref, startsAt: Millis, judgeAt: Millis }),
  }),
  'booking.settled': definePush({
    summary:
      'A due booking is settled; to both sides. At its judgement (`judgeAt`): completed (both entered; the show goes on) or who missed it ' +
      '(a show only one side entered ends). Or earlier, when its show ended before the judgement: completed if both had entered, ' +
      'else cancelled (the side in it closed it, or left it past the away grace, before the other came).',
    seed: '000 判决定时器',
    stream: 'session',
    data: Type.Object({
      ...Ref,
      outcome: Type.Union([
        Type.Literal('completed'),
        Type.Literal('missed_by_host'),
        Type.Literal('missed_by_viewer'),
        Type.Literal('missed_by_both'),
        Type.Literal('cancelled'),
      ]),
      deposit: SafeInt({ minimum: 0, description: "the viewer's deposit (one minute of LIVE_SHOW_PRICE_PER_MIN, held since the acceptance; 0: none)" }),
      depositTo: Type.Union([Type.Literal('viewer'), Type.Literal('host'), Type.Null()], {
        description: 'where the deposit goes: to the host (house cut taken) when the viewer missed the booking, back to the viewer otherwise; null: no deposit',
      }),
    }),
  }),
  'booking.count': definePush({
    summary: 'Pending bookings you received (as the booking.count reply), sent after the welcome of a new session when there are any.',
    seed: '5.21, 6.9, 4.18',
    stream: 'session',
    data: Type.Object({ total: Count, unread: Count }),
  }),
};
