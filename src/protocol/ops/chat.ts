import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, SafeInt, UserId } from '../schemas.js';
import { RoomId } from './room.js';

export const CHAT_MAX_CHARS = 200;
export const BARRAGE_MAX_CHARS = 60;

const Sender = Type.Object({ userId: UserId, profile: Profile });
const MsgId = SafeInt({ minimum: 1, description: 'message id, increasing per room' });

export const chatOps = {
  'chat.send': defineOp({
    summary: `Say something in the room you are in (at most ${CHAT_MAX_CHARS} characters; a per-user rate limit applies).`,
    seed: '7.15, 7.16',
    roles: ['viewer', 'host'],
    request: Type.Object({ text: Type.String({ minLength: 1, maxLength: CHAT_MAX_CHARS }) }, { additionalProperties: false }),
    reply: Type.Object({ msgId: MsgId }),
    errors: ['NOT_IN_ROOM', 'MUTED', 'RATE_LIMITED'],
    pushes: ['chat.message'],
  }),
  'chat.barrage': defineOp({
    summary:
      `Send a barrage (danmaku) line across the room's video (at most ${BARRAGE_MAX_CHARS} characters). Costs LIVE_BARRAGE_PRICE credits ` +
      "(0: free), paid to the room's host (house cut taken) in one committed transfer before the line is shown; a host's own barrage in their room is free. " +
      'With `key` (or a resent request id of the same session) a retry answers the first reply and neither charges nor shows the line again; ' +
      'the same key with another text or room is refused (753).',
    seed: '7.38, 7.39',
    roles: ['viewer', 'host'],
    request: Type.Object(
      {
        text: Type.String({ minLength: 1, maxLength: BARRAGE_MAX_CHARS }),
        key: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'idempotency key of this line, unique per sender' })),
      },
      { additionalProperties: false },
    ),
    reply: Type.Object({
      msgId: MsgId,
      credits: Type.Optional(SafeInt({ minimum: 0, description: 'when the line was paid: your credits right after it' })),
    }),
    errors: ['NOT_IN_ROOM', 'MUTED', 'RATE_LIMITED', 'INSUFFICIENT_CREDIT', 'KEY_REUSED'],
    pushes: ['chat.barrage', 'wallet.updated', 'viewer.level_up'],
  }),
  'chat.emoticons': defineOp({
    summary: 'The emoticon list: codes a client may put in chat text and the images to show for them.',
    seed: '7.21',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ emoticons: Type.Array(Type.Object({ code: Type.String(), url: Type.String() })) }),
    errors: [],
  }),
} as const;

const Line = { roomId: RoomId, msgId: MsgId, from: Sender, text: Type.String(), at: Millis };

export const chatPushes = {
  'chat.message': definePush({
    summary: 'A chat line in the room (room topic).',
    seed: '7.16, 004 mtype 1',
    stream: 'room',
    data: Type.Object(Line),
  }),
  'chat.barrage': definePush({
    summary: 'A barrage line in the room (room topic).',
    seed: '7.39',
    stream: 'room',
    data: Type.Object(Line),
  }),
  'room.notice': definePush({
    summary: 'A system message or toast from the platform into the room (room topic).',
    seed: '002 msgType toast/system, 004 mtype 6',
    stream: 'room',
    data: Type.Object({ roomId: RoomId, kind: Type.Union([Type.Literal('system'), Type.Literal('toast')]), text: Type.String() }),
  }),
} as const;
