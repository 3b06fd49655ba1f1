import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, RoleSchema, SafeInt, UserId, WireErrorSchema } from '../schemas.js';

const SessionId = Type.String({ maxLength: 64, description: 'unique id of this socket session (F12)' });

export const sessionOps = {
  'session.ping': defineOp({
    summary: 'Application heartbeat. Keeps the session alive and returns the server clock.',
    seed: '004 heartbeat',
    roles: ['host', 'viewer'],
    request: Empty,
    reply: Type.Object({ now: Millis }),
    errors: [],
  }),
  'session.whoami': defineOp({
    summary: 'Who the server thinks you are: user, role, profile and session ids.',
    seed: 'F1, F12',
    roles: ['host', 'viewer'],
    request: Empty,
    reply: Type.Object({
      userId: UserId,
      role: RoleSchema,
      profile: Profile,
      sessionId: SessionId,
      latestSessionId: Type.Union([SessionId, Type.Null()], { description: 'latest session recorded for the user (durable)' }),
      logins: SafeInt({ minimum: 0, description: 'number of logins recorded for the user' }),
    }),
    errors: [],
  }),
} as const;

export const sessionPushes = {
  'session.welcome': definePush({
    summary:
      'First frame on every connection. `resumed` says whether the requested session was resumed; ' +
      'if a resume was asked for and could not be honoured, `resync` carries code 47 and the client ' +
      'must refetch its state. Missed session pushes follow right after a successful resume.',
    seed: 'F1, 004 ERR_RECONNECT_ROOM 47',
    stream: 'control',
    data: Type.Object({
      sessionId: SessionId,
      userId: UserId,
      role: RoleSchema,
      resumed: Type.Boolean(),
      replayed: SafeInt({ minimum: 0, description: 'number of pushes that follow right after this frame (the missed ones on a resume)' }),
      lastSeq: SafeInt({ minimum: 0, description: 'seq of the newest push of this session so far' }),
      resync: Type.Optional(WireErrorSchema),
      serverTime: Millis,
      resumeGraceMs: SafeInt({ minimum: 0 }),
      roomReplayed: Type.Optional(
        SafeInt({ minimum: 0, description: 'on a resume with room_seq: number of room pushes that follow (after the session pushes)' }),
      ),
      roomResync: Type.Optional(
        Type.Boolean({ description: 'on a resume with room_seq: true when some room pushes are gone; send room.enter again' }),
      ),
    }),
  }),
  'session.kicked': definePush({
    summary: 'This connection is being closed by the server; the close frame follows (4042 for code 42).',
    seed: '000 7.4, 004 ERR_OTHER_LOGIN 42',
    stream: 'control',
    data: WireErrorSchema,
  }),
} as const;
