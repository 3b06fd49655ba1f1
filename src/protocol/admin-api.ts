import { Type, type TSchema } from '@sinclair/typebox';

/**
 * The server-to-server (admin) API, defined once: src/server/admin*.ts serve
 * these calls with these body schemas, and docs/protocol.md is rendered from
 * them (section "Server-to-server API").
 */
export interface AdminCall<B extends TSchema | null = TSchema | null> {
  method: 'get' | 'post' | 'put';
  path: string;
  /** The JSON body (null: none). */
  body: B;
  /** What it does and what it answers. */
  summary: string;
}

const define = <B extends TSchema | null>(call: AdminCall<B>) => call;

const Text500 = Type.String({ minLength: 1, maxLength: 500 });
const OrderId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$', description: '1–64 of `A–Z a–z 0–9 . _ : -`' });
const Amount = Type.Integer({ minimum: 1, maximum: 1_000_000_000 });
const Reason200 = Type.String({ minLength: 1, maxLength: 200 });
const BanKind = Type.Union([Type.Literal('account'), Type.Literal('live')]);
const SessionId = Type.String({ minLength: 1, maxLength: 64 });
const PositiveId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const closed = { additionalProperties: false } as const;

export const RoomNotice = Type.Object({ kind: Type.Union([Type.Literal('system'), Type.Literal('toast')]), text: Text500 }, closed);
export const Payment = Type.Object({ orderId: OrderId, amount: Amount }, closed);
export const Adjustment = Type.Object(
  { key: OrderId, amount: Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000, not: Type.Literal(0), description: 'not 0' }), reason: Reason200 },
  closed,
);
export const GiftBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    price: Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'credits' }),
    image: Type.String({ maxLength: 512 }),
    icon: Type.String({ maxLength: 512 }),
    type: Type.Union([Type.Literal(1), Type.Literal(2)]),
    sort: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'default: the id' })),
    active: Type.Optional(Type.Boolean({ description: 'default true; an inactive gift is not listed and cannot be sent' })),
  },
  closed,
);
const oneOf = 'exactly one of giftId, vehicleId, couponId';
export const Grant = Type.Object(
  {
    key: OrderId,
    giftId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: oneOf })),
    vehicleId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: oneOf })),
    couponId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: oneOf })),
    count: Type.Integer({ minimum: 1, maximum: 10_000 }),
    reason: Reason200,
  },
  closed,
);
export const ItemBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    image: Type.String({ maxLength: 512 }),
    animation: Type.Optional(Type.String({ maxLength: 512, description: "vehicles: the entrance animation URL; default ''" })),
    sort: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'default: the id' })),
    active: Type.Optional(Type.Boolean({ description: 'default true; an inactive vehicle cannot be chosen nor is shown on entering (items held stay)' })),
  },
  closed,
);
const MediaUrl = Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z][A-Za-z0-9+.-]*://[^\\s]+$', description: 'a URL (scheme://…, no spaces)' });
export const MediaSwitchBody = Type.Object(
  {
    publishUrl: Type.Optional(MediaUrl),
    playUrl: Type.Optional(MediaUrl),
    reason: Type.Optional(Type.String({ maxLength: 200, description: "shown to the users; default ''" })),
  },
  closed,
);
export const BanBody = Type.Object(
  { kind: BanKind, reason: Text500, durationSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86_400, description: 'absent: until lifted' })) },
  closed,
);
export const UnbanBody = Type.Object({ kind: BanKind }, closed);
export const UserNotice = Type.Object({ kind: Type.Union([Type.Literal('warning'), Type.Literal('system')]), text: Text500 }, closed);
export const KickBody = Type.Object({ sessionId: SessionId, reason: Type.Optional(Text500) }, closed);
export const MediaBody = Type.Object(
  {
    userId: PositiveId,
    sessionId: SessionId,
    action: Type.Union([Type.Literal('publish'), Type.Literal('play')]),
    roomId: Type.Optional(PositiveId),
    showId: Type.Optional(PositiveId),
  },
  closed,
);

const RECEIPT = 'Answers `{"transferId", "credits", "replayed", "at"}` (see "Money calls" above).';

export const ADMIN_CALLS = {
  roomNotice: define({ method: 'post', path: '/admin/rooms/:id/notice', body: RoomNotice, summary: '`room.notice` push to everyone in the room. Answers `{}`.' }),
  roomClose: define({ method: 'post', path: '/admin/rooms/:id/close', body: null, summary: 'Closes the room now (`room.ended`, reason `admin`). Answers `{}`.' }),
  topup: define({
    method: 'post',
    path: '/admin/users/:id/topup',
    body: Payment,
    summary: `Credits bought through the app: \`amount\` credits to user \`:id\`, once per \`orderId\`. ${RECEIPT}`,
  }),
  withdraw: define({
    method: 'post',
    path: '/admin/users/:id/withdraw',
    body: Payment,
    summary: `Credits paid out: taken from user \`:id\`, once per \`orderId\`; 409 with code 740 when the user has fewer. ${RECEIPT}`,
  }),
  adjust: define({
    method: 'post',
    path: '/admin/users/:id/adjust',
    body: Adjustment,
    summary: `An administrator's correction, once per \`key\`, with its reason (logged and stored with the transfer). ${RECEIPT}`,
  }),
  backpack: define({
    method: 'post',
    path: '/admin/users/:id/backpack',
    body: Grant,
    summary:
      'Puts `count` items of a gift, a vehicle or a coupon (exactly one of `giftId`, `vehicleId`, `couponId`, else 400 with code 700) into the ' +
      'user\'s backpack, once per `key` (keys are shared by the three kinds); answers `{"transferId", "count", "replayed", "at"}` ' +
      '(`count`: items of it held after it); 404 with code 730 for an unknown gift, 800 for an unknown vehicle or coupon. The user gets `backpack.updated`.',
  }),
  balance: define({ method: 'get', path: '/admin/users/:id/balance', body: null, summary: 'Answers `{"userId", "credits"}`.' }),
  user: define({
    method: 'get',
    path: '/admin/users/:id',
    body: null,
    summary:
      'What the server knows of the user now: `{"userId", "session": {"sessionId", "role", "connected"} | null, "presence": "offline" | "online" | "busy" | "live" ' +
      '(as presence.query answers), "hosting": roomId | null, ' +
      '"roomId": roomId | null, "inShow", "bans": {"account", "live"}, "credits"}` (each ban `{"reason", "until", "at"}` or null).',
  }),
  ban: define({
    method: 'post',
    path: '/admin/users/:id/ban',
    body: BanBody,
    summary:
      '`account`: no login (the session gets `session.kicked` 770 and closes with 4770; logins are refused with HTTP 403, code 770); ' +
      '`live`: no `room.open` (771) and no publishing, the user gets `user.notice` `live_ban`; either way an open room of theirs is closed ' +
      '(`room.ended` reason `admin`). Without `durationSec` the ban lasts until lifted; banning again replaces the ban. Answers `{"userId", "kind", "until", "at"}`.',
  }),
  unban: define({ method: 'post', path: '/admin/users/:id/unban', body: UnbanBody, summary: 'Lifts the ban: `{"lifted": true}` when a ban of that kind was stored (in force or already ended), false when none was.' }),
  userNotice: define({
    method: 'post',
    path: '/admin/users/:id/notice',
    body: UserNotice,
    summary: '`user.notice` to the user: answers `{"delivered": true}`, or false when they have no session (nothing is kept).',
  }),
  kick: define({
    method: 'post',
    path: '/admin/sessions/kick',
    body: KickBody,
    summary:
      'Ends that session (`session.kicked` 711 with the reason, close 4711; it cannot be resumed): `{"kicked": true}`, or false when no such session is alive.',
  }),
  media: define({
    method: 'post',
    path: '/admin/media/authorize',
    body: MediaBody,
    summary:
      'For the media service: `{"allowed": true, "reason": null}` or `{"allowed": false, "reason"}` with `session` (not the user\'s current session), ' +
      '`banned` (account ban), `live_banned` (publish under a live ban, in a show too), `room` (publish: only the host of that open room and its co-host while a call is joining or connected; play: its host or someone in it), ' +
      '`show` (not a party of that running private show).',
  }),
  putGift: define({
    method: 'put',
    path: '/admin/gifts/:id',
    body: GiftBody,
    summary: 'Creates or replaces a gift of the catalog; answers `{"gift"}`.',
  }),
  putVehicle: define({
    method: 'put',
    path: '/admin/vehicles/:id',
    body: ItemBody,
    summary: 'Creates or replaces a vehicle (座驾) of the item catalog; answers `{"item"}` (`{kind, id, name, image, animation, sort, active, updatedAt}`).',
  }),
  putCoupon: define({
    method: 'put',
    path: '/admin/coupons/:id',
    body: ItemBody,
    summary: 'Creates or replaces a coupon (券) of the item catalog (ids are per kind: coupon 1 is not vehicle 1); answers `{"item"}`.',
  }),
  items: define({ method: 'get', path: '/admin/items', body: null, summary: '`{"items": [...]}`, every vehicle and coupon, active or not, by kind then id.' }),
  roomMediaSwitch: define({
    method: 'post',
    path: '/admin/rooms/:id/media-switch',
    body: MediaSwitchBody,
    summary:
      'Moves a room to another media server (7.50): everyone in it gets `room.media_switch` with `playUrl`, its host gets `media.switch` with ' +
      '`publishUrl` (each only when given; at least one, else 400 with code 700). Nothing is stored. Answers `{}`; 404 with code 731 when the room is not open.',
  }),
  userMediaSwitch: define({
    method: 'post',
    path: '/admin/users/:id/media-switch',
    body: MediaSwitchBody,
    summary:
      'Tells one user to switch media servers (7.50): `media.switch` with the URLs given (at least one, else 400 with code 700; `roomId` null). ' +
      'Answers `{"delivered": true}`, or false when they have no session (nothing is kept).',
  }),
  gifts: define({ method: 'get', path: '/admin/gifts', body: null, summary: '`{"gifts": [...]}`, every gift, active or not, by id.' }),
  audit: define({ method: 'get', path: '/admin/ledger/audit', body: null, summary: 'The ledger auditor\'s report (`ok`, the violations found, the totals).' }),
  outbox: define({
    method: 'get',
    path: '/admin/outbox',
    body: null,
    summary:
      'The push outbox\'s backlog: `{"pending", "dead", "oldestPendingAt", "oldestPendingAgeMs", "lastDead"}` (counts; `created_at` and age in ms of the ' +
      'oldest pending item, null when none; the 20 items most recently dead, newest first, each `{id, userId, kind, payload, createdAt, attempts, ' +
      'nextAttemptAt, status, lastError}`).',
  }),
  outboxRetry: define({
    method: 'post',
    path: '/admin/outbox/:id/retry',
    body: null,
    summary: 'Puts dead item `:id` back to pending with its attempts at 0; 404 with code 760 when there is no dead item with that id. Answers `{}`.',
  }),
} as const;

/** What every call shares, for the docs. */
export const ADMIN_RULES = [
  'For the app\'s backend (and the media service), enabled by setting `LIVE_ADMIN_TOKEN` (sent as `Authorization: Bearer <token>`). ' +
    'Bodies are JSON (`Content-Type: application/json`); answers are JSON, refusals `{code, msg}` with the codes of this document. ' +
    'A call that passes the token and body checks is logged with its path, its id and its body\'s fields, and with how it ended.',
  '**Money calls** (topup, withdraw, adjust) answer 200 `{"transferId", "credits", "replayed", "at"}`: `credits` is the user\'s balance right after ' +
    'that transfer. The same call again with the same `orderId`/`key` and the same parameters changes nothing and answers the first result with ' +
    '`"replayed": true`; with other parameters (another amount, another user) it is refused with 409 and code 753. A committed transfer pushes ' +
    '`wallet.updated` to the user.',
  '**Statuses:** 200; 400 with code 700 (body not JSON, not matching the call, a user, gift, item or outbox id in the path that is not a positive integer, or a string with ' +
    'a lone surrogate); 401 (wrong or missing token; 404 when the API is disabled); 404 with code 731 (no such open room, or a room id in the path that is not a positive integer), 730 (no such gift), 800 ' +
    '(no such vehicle or coupon) or 760 (no such dead outbox item); 409 with code 740 or 753 (money calls); 413 (body over 16 KiB); 415 with code 700 (a body whose `Content-Type` is ' +
    'not `application/json`, parameters such as `; charset=utf-8` allowed; a call without a body needs no `Content-Type`); 503 with code 908 and ' +
    '`Retry-After` (the room is overloaded); 500 with code 900 (storage failure).',
];
