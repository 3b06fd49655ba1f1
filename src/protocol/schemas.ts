import { Type, type Static } from '@sinclair/typebox';

/** Shared field schemas. Integers are always safe integers (MessagePack int ≤ 2^53). */
export const SafeInt = (opts: { minimum?: number; maximum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, ...opts });

export const UserId = SafeInt({ minimum: 1, description: 'user id (positive integer)' });
export const Millis = SafeInt({ minimum: 0, description: 'unix time in milliseconds' });
export const RoleSchema = Type.Union([Type.Literal('host'), Type.Literal('viewer')]);

/** Who a user is, as shown to others (seed 002 user objects: nickname, coverUrl, gender, level). */
export const Profile = Type.Object({
  nickname: Type.String({ maxLength: 64 }),
  avatar: Type.String({ maxLength: 512, description: 'avatar URL (seed coverUrl/headpic)' }),
  gender: Type.Union([Type.Literal(''), Type.Literal('male'), Type.Literal('female')]),
  level: SafeInt({ minimum: 0, maximum: 1000 }),
});
export type Profile = Static<typeof Profile>;

/** Online status (seed 001 onlineStatus/liveStatus: 1 offline, 3 online/live, 4 busy). */
export const PresenceStatus = Type.Union([
  Type.Literal('offline'),
  Type.Literal('online'),
  Type.Literal('busy'),
  Type.Literal('live'),
]);
export type PresenceStatus = Static<typeof PresenceStatus>;

export const Empty = Type.Object({}, { additionalProperties: false });

export const WireErrorSchema = Type.Object({
  code: SafeInt(),
  msg: Type.String(),
  retryAfterMs: Type.Optional(SafeInt({ minimum: 0, description: 'with 908 BUSY only: wait at least this long (plus some random jitter) before retrying' })),
});
