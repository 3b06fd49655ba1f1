import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, SafeInt, UserId } from '../schemas.js';
import { VehicleView } from './items.js';

export const RoomId = SafeInt({ minimum: 1, description: 'room id' });
const Member = Type.Object({ userId: UserId, profile: Profile });
const Count = SafeInt({ minimum: 0 });
const Page = {
  page: SafeInt({ minimum: 1, maximum: 10_000, description: 'page number, from 1' }),
  pageSize: SafeInt({ minimum: 1, maximum: 100 }),
};

/** What a member sees of a room (5.2 reply: room_price, max_fansi_num …). */
export const RoomView = Type.Object({
  roomId: RoomId,
  host: Member,
  title: Type.String({ maxLength: 64 }),
  status: Type.Union([Type.Literal('open'), Type.Literal('closing')]),
  pricePerMinute: SafeInt({ minimum: 0, description: 'credits per started minute of a visit (seed room_price); 0: free' }),
  seatLimit: SafeInt({ minimum: 1, description: 'most viewers at once (seed max_fansi_num)' }),
  viewers: Count,
  likes: Count,
  muted: Type.Boolean({ description: 'whether you are muted here' }),
  closesAt: Type.Union([Millis, Type.Null()], { description: 'end of the closing countdown, if one runs' }),
  call: Type.Union([Type.Object({ userId: UserId, status: Type.Union([Type.Literal(0), Type.Literal(1)]) }), Type.Null()], {
    description: 'the co-host call on now (room.call_status 0 joining, 1 connected), if any',
  }),
});

export const RoomTotals = Type.Object({
  durationSec: Count,
  peakViewers: Count,
  totalViewers: SafeInt({ minimum: 0, description: 'distinct viewers who entered' }),
  likes: Count,
  gifts: SafeInt({ minimum: 0, description: 'gifts sent in the room (counted as credits are)' }),
  credits: SafeInt({
    minimum: 0,
    description:
      'credits viewers spent in the room (gifts, paid minutes, paid barrage), added up like likes: told to the room at most LIVE_LIKES_FLUSH_MS late and ' +
      'right before a close by its host or the platform, so what was spent in the last instant of a room ended by its countdown or abnormally may be missing here (never from the ledger)',
  }),
});

export const roomOps = {
  'room.open': defineOp({
    summary: 'Open a public live room. A host has at most one open room; online followers are told (room.live_started).',
    seed: '6.2, 6.3',
    roles: ['host'],
    request: Type.Object(
      {
        title: Type.String({ minLength: 1, maxLength: 64 }),
        seatLimit: Type.Optional(SafeInt({ minimum: 1, maximum: 10_000, description: 'default 500' })),
        pricePerMinute: Type.Optional(SafeInt({ minimum: 0, maximum: 1_000_000, description: 'default 0 (free)' })),
      },
      { additionalProperties: false },
    ),
    reply: RoomView,
    errors: ['HOST_IS_LIVE', 'LIVE_BANNED', 'BAD_PARAMETER'],
    pushes: ['room.live_started'],
  }),
  'room.enter': defineOp({
    summary:
      'Enter an open room (leaving the room you were in). The reply is the room as you see it. A paid room (pricePerMinute > 0) charges each started ' +
      'minute of your visit: the first on entering (refused with 740 when your credits do not cover it), then one per minute while you stay; ' +
      'a minute that cannot be paid puts you out (room.kicked, reason "no_credit").',
    seed: '5.2, 7.1',
    roles: ['viewer', 'host'],
    request: Type.Object({ roomId: RoomId }, { additionalProperties: false }),
    reply: RoomView,
    errors: ['INVALID_ROOM', 'NO_SEATS', 'CANNOT_WATCH', 'INSUFFICIENT_CREDIT'],
    pushes: ['room.user_entered', 'room.user_left', 'wallet.updated', 'wallet.low', 'room.kicked', 'intimacy.level_up', 'viewer.level_up'],
  }),
  'room.leave': defineOp({
    summary: 'Leave the room you are in.',
    seed: '7.2',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Empty,
    errors: ['NOT_IN_ROOM'],
    pushes: ['room.user_left', 'intimacy.level_up'],
  }),
  'room.viewers': defineOp({
    summary: 'Viewers of a room, a page at a time, newest first.',
    seed: '7.14, 003 FetchGroupMemberList',
    roles: ['viewer', 'host'],
    request: Type.Object({ roomId: RoomId, ...Page }, { additionalProperties: false }),
    reply: Type.Object({ total: Count, viewers: Type.Array(Member) }),
    errors: ['INVALID_ROOM'],
  }),
  'room.kick': defineOp({
    summary: 'Host: put a viewer out of your room; they cannot come back for the configured ban time.',
    seed: '002 kick-out-user',
    roles: ['host'],
    request: Type.Object({ userId: UserId }, { additionalProperties: false }),
    reply: Empty,
    errors: ['NOT_IN_ROOM', 'PERMISSION_DENIED'],
    pushes: ['room.kicked', 'room.user_left'],
  }),
  'room.mute': defineOp({
    summary: 'Host: mute or unmute a viewer of your room (their chat and barrage are refused with 722).',
    seed: '002 shutup-user, 004 mtype 8/9',
    roles: ['host'],
    request: Type.Object({ userId: UserId, muted: Type.Boolean() }, { additionalProperties: false }),
    reply: Empty,
    errors: ['NOT_IN_ROOM', 'PERMISSION_DENIED'],
    pushes: ['room.muted'],
  }),
  'room.close': defineOp({
    summary: 'Host: close your room now, or after a countdown (room.countdown pushes, then room.ended).',
    seed: '6.4, 6.6, 6.7, 7.3',
    roles: ['host'],
    request: Type.Object(
      { countdownSec: Type.Optional(SafeInt({ minimum: 0, maximum: 600, description: '0 or absent: close now' })) },
      { additionalProperties: false },
    ),
    reply: Empty,
    errors: ['INVALID_ROOM'],
    pushes: ['room.countdown', 'room.ended'],
  }),
  'room.like': defineOp({
    summary: 'Like the room you are in. Likes are counted and pushed in aggregate (room.likes), a few times a second at most.',
    seed: '002 live-like',
    roles: ['viewer', 'host'],
    request: Type.Object({ count: Type.Optional(SafeInt({ minimum: 1, maximum: 100 })) }, { additionalProperties: false }),
    reply: Empty,
    errors: ['NOT_IN_ROOM'],
    pushes: ['room.likes'],
  }),
  'room.audience': defineOp({
    summary:
      "The room's audience avatar list (7.51): its top viewers, at most LIVE_AUDIENCE_SIZE, highest `profile.level` first, equal levels in order of entry " +
      '(earliest first); the host is not listed. It is the list as last computed: changes reach the room as room.audience_updated, at most ' +
      'LIVE_AUDIENCE_FLUSH_MS late. `viewers` is the count of viewers then.',
    seed: '7.51, 004 FetchGroupMemberList',
    roles: ['viewer', 'host'],
    request: Type.Object({ roomId: RoomId }, { additionalProperties: false }),
    reply: Type.Object({ roomId: RoomId, top: Type.Array(Member), viewers: Count }),
    errors: ['INVALID_ROOM'],
  }),
  'room.list': defineOp({
    summary: 'Open public rooms, most viewers first, a page at a time.',
    seed: '003 FetchList',
    roles: ['viewer', 'host'],
    request: Type.Object(Page, { additionalProperties: false }),
    reply: Type.Object({
      total: Count,
      rooms: Type.Array(Type.Object({ roomId: RoomId, host: Member, title: Type.String(), viewers: Count, likes: Count, openedAt: Millis })),
    }),
    errors: [],
  }),
} as const;

const InRoom = { roomId: RoomId };

export const roomPushes = {
  'room.live_started': definePush({
    summary: 'A host you follow went live.',
    seed: '6.3, 002 start-live-notify',
    stream: 'session',
    data: Type.Object({ ...InRoom, host: Member, title: Type.String() }),
  }),
  'room.user_entered': definePush({
    summary:
      'Who entered the room (room topic). Entries close together are sent as one push listing them in order ' +
      '(sent at most 250 ms after the first of them by default, server setting LIVE_ROOM_MEMBERS_FLUSH_MS; at most 100 users per push, ' +
      'in order of entry; another room push sends a pending one first, so room pushes keep their order); `viewers` is the count after the last of them. ' +
      'Each user carries the vehicle they have in use (vehicle.use, 4.12), or null: play its entrance animation.',
    seed: '7.1, 4.12',
    stream: 'room',
    data: Type.Object({
      ...InRoom,
      users: Type.Array(
        Type.Object({ userId: UserId, profile: Profile, vehicle: Type.Union([VehicleView, Type.Null()], { description: 'the entrance vehicle, null: none' }) }),
        { minItems: 1, maxItems: 100 },
      ),
      viewers: Count,
    }),
  }),
  'room.user_left': definePush({
    summary:
      'Who left or was put out of the room (room topic), coalesced like room.user_entered; `viewers` is the count after the last of them.',
    seed: '7.2',
    stream: 'room',
    data: Type.Object({
      ...InRoom,
      users: Type.Array(
        Type.Object({ userId: UserId, reason: Type.Union([Type.Literal('left'), Type.Literal('kicked'), Type.Literal('gone')]) }),
        { minItems: 1, maxItems: 100 },
      ),
      viewers: Count,
    }),
  }),
  'room.kicked': definePush({
    summary:
      'You were put out of the room: by its host (reason "host"; you cannot enter again until `until`), or because a minute of a paid room could not be paid ' +
      '(reason "no_credit"; `until` is now: top up and enter again).',
    seed: '002 kick-out-user, 7.5',
    stream: 'session',
    data: Type.Object({ ...InRoom, until: Millis, reason: Type.Union([Type.Literal('host'), Type.Literal('no_credit')]) }),
  }),
  'room.muted': definePush({
    summary: 'A viewer was muted or unmuted (room topic).',
    seed: '004 mtype 8/9',
    stream: 'room',
    data: Type.Object({ ...InRoom, userId: UserId, muted: Type.Boolean() }),
  }),
  'room.countdown': definePush({
    summary: 'The room is closing: seconds left (room topic).',
    seed: '6.7',
    stream: 'room',
    data: Type.Object({ ...InRoom, secondsLeft: Count, closesAt: Millis }),
  }),
  'room.ended': definePush({
    summary: 'The live ended, with its totals (room topic; the host also gets it directly).',
    seed: '7.3, 6.27',
    stream: 'room',
    data: Type.Object({
      ...InRoom,
      reason: Type.Union([Type.Literal('closed'), Type.Literal('countdown'), Type.Literal('abnormal'), Type.Literal('admin')]),
      totals: RoomTotals,
    }),
  }),
  'room.audience_updated': definePush({
    summary:
      "The room's audience avatar list changed (7.51; room topic): the new top viewers, as room.audience answers. Computed after entries and " +
      'departures, at most once per LIVE_AUDIENCE_FLUSH_MS per room, and sent only when the list (who, in which order) changed.',
    seed: '7.51',
    stream: 'room',
    data: Type.Object({ ...InRoom, top: Type.Array(Member), viewers: Count }),
  }),
  'room.media_switch': definePush({
    summary:
      'Play the room from another media server (7.50; room topic), from now on: told by the platform (server-to-server API). ' +
      'The host gets its new publish URL as media.switch.',
    seed: '7.50',
    stream: 'room',
    data: Type.Object({ ...InRoom, playUrl: Type.String({ description: 'where to play the room now' }), reason: Type.String(), at: Millis }),
  }),
  'media.switch': definePush({
    summary:
      'Switch to another media server (7.50), told by the platform (server-to-server API): publish to `publishUrl` and/or play from `playUrl` ' +
      '(null: unchanged). `roomId`: the room it concerns (sent to its host), or null for a switch of the user. Only a user with a session gets it.',
    seed: '7.50',
    stream: 'session',
    data: Type.Object({
      roomId: Type.Union([RoomId, Type.Null()]),
      publishUrl: Type.Union([Type.String(), Type.Null()]),
      playUrl: Type.Union([Type.String(), Type.Null()]),
      reason: Type.String(),
      at: Millis,
    }),
  }),
  'room.likes': definePush({
    summary: 'Likes since the last such push, and the total (room topic, coalesced).',
    seed: '002 live-like',
    stream: 'room',
    data: Type.Object({ ...InRoom, added: Count, total: Count }),
  }),
} as const;
