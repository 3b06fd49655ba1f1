import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, SafeInt, UserId } from '../schemas.js';
import { RoomId } from './room.js';
import { Credits } from './wallet.js';

export const TalentId = SafeInt({ minimum: 1, description: "talent id (one host's list numbers them from 1)" });
export const TalentRequestId = SafeInt({ minimum: 1, description: 'talent request id' });
export const MAX_TALENT_PRICE = 10_000_000;

const Talent = Type.Object({
  talentId: TalentId,
  name: Type.String(),
  price: Credits,
});
const TalentList = Type.Object({ hostId: UserId, talents: Type.Array(Talent) });

const Status = Type.Union(
  ['holding', 'pending', 'accepted', 'declined', 'expired', 'refused'].map((s) => Type.Literal(s)),
  { description: "holding: its credits are being set aside; pending: held, waiting for the host's answer; then accepted, declined, expired, or refused (not enough credit)" },
);

export const TalentRequestView = Type.Object({
  requestId: TalentRequestId,
  hostId: UserId,
  viewerId: UserId,
  viewer: Type.Optional(Profile),
  talentId: TalentId,
  name: Type.String({ description: "the talent's name when it was requested" }),
  price: Credits,
  roomId: Type.Union([RoomId, Type.Null()], { description: "the host's room the viewer was in" }),
  status: Status,
  createdAt: Millis,
  expiresAt: Millis,
});

const Outcome = Type.Object({
  requestId: TalentRequestId,
  hostId: UserId,
  talentId: TalentId,
  outcome: Type.Union([Type.Literal('accepted'), Type.Literal('declined'), Type.Literal('expired')]),
  refunded: Credits,
});

const Unread = Type.Object({
  roomId: Type.Union([RoomId, Type.Null()], { description: 'your open room (null: none, and nothing is unread)' }),
  count: SafeInt({ minimum: 0 }),
  requests: Type.Array(TalentRequestView),
});

export const talentOps = {
  'talent.list': defineOp({
    summary: "A host's talent list (7.23), in the order the talents were added.",
    seed: '7.23',
    roles: ['viewer', 'host'],
    request: Type.Object({ hostId: UserId }, { additionalProperties: false }),
    reply: TalentList,
    errors: [],
  }),
  'talent.set': defineOp({
    summary:
      'Add a talent to your list (without talentId) or change one (with it): a name and a price in credits (a whole number from 1). ' +
      'At most LIVE_MAX_TALENTS talents (904 beyond). A changed price applies to requests made after the change.',
    seed: '7.23',
    roles: ['host'],
    request: Type.Object(
      {
        talentId: Type.Optional(TalentId),
        name: Type.String({ minLength: 1, maxLength: 50, description: 'what the host performs' }),
        price: SafeInt({ minimum: 1, maximum: MAX_TALENT_PRICE, description: 'credits a request costs' }),
      },
      { additionalProperties: false },
    ),
    reply: Type.Object({ talent: Talent, talents: Type.Array(Talent) }),
    errors: ['TALENT_NOT_FOUND', 'LIMIT_EXCEEDED'],
  }),
  'talent.remove': defineOp({
    summary: 'Take a talent off your list; requests already made for it stay open.',
    seed: '7.23',
    roles: ['host'],
    request: Type.Object({ talentId: TalentId }, { additionalProperties: false }),
    reply: Type.Object({ talents: Type.Array(Talent) }),
    errors: ['TALENT_NOT_FOUND'],
  }),
  'talent.request': defineOp({
    summary:
      "Request a talent of the host of the public room you are in (7.24). Its price is moved from your credits to a hold (ledger account " +
      'hold:talent:<requestId>) and committed before the reply (740 when your credits are short: nothing is held and no request is open). ' +
      'The host gets talent.requested (7.25). Accepted: the hold goes to the host less the house cut (LIVE_HOUSE_CUT_PCT); declined, or not answered ' +
      'within LIVE_TALENT_TTL_MS: it goes back to you; talent.answered says which. At most LIVE_MAX_TALENT_REQUESTS open requests per host (904). ' +
      '`key` makes the request idempotent: the same key again answers that request as it is now and holds nothing more (753 with another talent id; the key names the request whichever room you are in when you repeat it); ' +
      'without a key, a resent request id of the same session is recognised the same way.',
    seed: '7.24, 7.25',
    roles: ['viewer'],
    request: Type.Object(
      {
        talentId: TalentId,
        key: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'idempotency key of this request, unique per viewer' })),
      },
      { additionalProperties: false },
    ),
    reply: Type.Object({ request: TalentRequestView, credits: SafeInt({ minimum: 0, description: 'your credits after the hold' }) }),
    errors: ['NOT_IN_ROOM', 'INVALID_ROOM', 'TALENT_NOT_FOUND', 'INSUFFICIENT_CREDIT', 'KEY_REUSED', 'LIMIT_EXCEEDED', 'TALENT_REQUEST_NOT_FOUND'],
    pushes: ['talent.requested', 'wallet.updated'],
  }),
  'talent.accept': defineOp({
    summary:
      'Accept a pending request made to you (7.26): its hold is paid to you less the house cut (wallet.updated when committed); the viewer gets ' +
      'talent.answered. A request that is not yours, not pending or past its expiry: 791.',
    seed: '7.26',
    roles: ['host'],
    request: Type.Object({ requestId: TalentRequestId }, { additionalProperties: false }),
    reply: Outcome,
    errors: ['TALENT_REQUEST_NOT_FOUND'],
    pushes: ['talent.answered', 'wallet.updated', 'intimacy.level_up', 'viewer.level_up'],
  }),
  'talent.decline': defineOp({
    summary: 'Decline a pending request made to you (7.26): its hold goes back to the viewer, who gets talent.answered.',
    seed: '7.26',
    roles: ['host'],
    request: Type.Object({ requestId: TalentRequestId }, { additionalProperties: false }),
    reply: Outcome,
    errors: ['TALENT_REQUEST_NOT_FOUND'],
    pushes: ['talent.answered', 'wallet.updated'],
  }),
  'talent.unread': defineOp({
    summary:
      'Pending requests made in your open room that you have not marked read (7.45), oldest first, with the requesting viewer\'s profile. ' +
      'Requests made in an earlier room of yours are not listed (they still expire or can be answered).',
    seed: '7.45',
    roles: ['host'],
    request: Empty,
    reply: Unread,
    errors: [],
  }),
  'talent.read': defineOp({
    summary: 'Mark the given pending requests of your open room read (all of them without requestIds); answers how many stay unread.',
    seed: '7.45',
    roles: ['host'],
    request: Type.Object({ requestIds: Type.Optional(Type.Array(TalentRequestId, { maxItems: 1000 })) }, { additionalProperties: false }),
    reply: Type.Object({ count: SafeInt({ minimum: 0 }) }),
    errors: [],
  }),
};

export const talentPushes = {
  'talent.requested': definePush({
    summary: 'To the host: a viewer requested a talent and its credits are held (7.25).',
    seed: '7.25',
    stream: 'session',
    data: TalentRequestView,
  }),
  'talent.answered': definePush({
    summary: 'To the viewer: the request was accepted, declined or expired; `refunded` credits came back (0 when accepted).',
    seed: '7.26',
    stream: 'session',
    data: Outcome,
  }),
  'talent.expired': definePush({
    summary: 'To the host: a request was not answered within LIVE_TALENT_TTL_MS and its credits went back to the viewer.',
    seed: '7.26',
    stream: 'session',
    data: Type.Object({ requestId: TalentRequestId }),
  }),
};
