import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, PresenceStatus, UserId } from '../schemas.js';

/** At most this many users per presence request. */
export const PRESENCE_BATCH_MAX = 100;

/** Distinct ids: a repeated id is refused with 700 (checked by the server, not by the schema). */
const UserIds = Type.Array(UserId, { minItems: 1, maxItems: PRESENCE_BATCH_MAX, description: 'distinct user ids (a repeat is refused with 700)' });
const Statuses = Type.Object({
  statuses: Type.Array(Type.Object({ userId: UserId, status: PresenceStatus })),
});

export const presenceOps = {
  'presence.query': defineOp({
    summary: 'Online status of up to 100 users: offline, online, busy (in a private show) or live.',
    seed: '001 §22 onlineStatus, §14 liveStatus',
    roles: ['host', 'viewer'],
    request: Type.Object({ userIds: UserIds }, { additionalProperties: false }),
    reply: Statuses,
    errors: ['BAD_PARAMETER'],
  }),
  'presence.subscribe': defineOp({
    summary:
      'Follow the status of up to 100 users per call (500 per session). Replies with their current ' +
      'status; every later change arrives as `presence.changed`. Subscriptions end with the session.',
    seed: '001 §22',
    roles: ['host', 'viewer'],
    request: Type.Object({ userIds: UserIds }, { additionalProperties: false }),
    reply: Statuses,
    errors: ['BAD_PARAMETER', 'LIMIT_EXCEEDED'],
    pushes: ['presence.changed'],
  }),
  'presence.unsubscribe': defineOp({
    summary: 'Stop following the status of these users.',
    seed: '001 §22',
    roles: ['host', 'viewer'],
    request: Type.Object({ userIds: UserIds }, { additionalProperties: false }),
    reply: Empty,
    errors: ['BAD_PARAMETER'],
  }),
} as const;

export const presencePushes = {
  'presence.changed': definePush({
    summary: 'A followed user changed status.',
    seed: '001 §22 onlineStatus',
    stream: 'session',
    data: Type.Object({ userId: UserId, status: PresenceStatus }),
  }),
} as const;
