import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Millis, Profile, SafeInt, UserId } from '../schemas.js';
import { RoomId } from './room.js';

const Count = SafeInt({ minimum: 0 });
const Cursor = Type.String({ maxLength: 40, pattern: '^[0-9]{1,16}:[0-9]{1,16}$', description: '`next` of the page before' });
const PageRequest = Type.Object(
  {
    limit: Type.Optional(SafeInt({ minimum: 1, maximum: 100, description: 'default 50' })),
    before: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
const Followed = Type.Object({
  userId: UserId,
  since: Millis,
  liveRoomId: Type.Union([RoomId, Type.Null()], { description: 'the open public room of that user now, if any' }),
});
const FollowPage = Type.Object({
  users: Type.Array(Followed, { description: 'newest follow first' }),
  next: Type.Union([Cursor, Type.Null()], { description: 'pass as `before` for the next page; null: no more' }),
});
const Target = Type.Object({ userId: UserId }, { additionalProperties: false });
const Counts = Type.Object({ following: Count, followers: Count });
const FollowerCount = SafeInt({ minimum: 0, description: 'how many users follow them now' });

export const followOps = {
  'follow.add': defineOp({
    summary:
      'Follow a user (a host, usually): you are told when they go live (room.live_started) and their open room is in follow.live. ' +
      'Following someone you already follow changes nothing (`created: false`). At most LIVE_MAX_FOLLOWING follows per user (default 5000).',
    seed: '4.1, 002 user/follow',
    roles: ['viewer', 'host'],
    request: Target,
    reply: Type.Object({ following: Type.Literal(true), created: Type.Boolean({ description: 'false when you already followed them' }), followers: FollowerCount }),
    errors: ['BAD_PARAMETER', 'LIMIT_EXCEEDED'],
    pushes: ['follow.new'],
  }),
  'follow.remove': defineOp({
    summary: 'Stop following a user. Not following them is not an error (removed: false).',
    seed: '002 user/unfollow',
    roles: ['viewer', 'host'],
    request: Target,
    reply: Type.Object({ following: Type.Literal(false), removed: Type.Boolean({ description: 'false when you did not follow them' }), followers: FollowerCount }),
    errors: ['BAD_PARAMETER'],
  }),
  'follow.list': defineOp({
    summary: 'Users you follow, newest follow first, a page at a time (cursor), with their open room if they are live.',
    seed: '002 user/list-following',
    roles: ['viewer', 'host'],
    request: PageRequest,
    reply: FollowPage,
    errors: ['BAD_PARAMETER'],
  }),
  'follow.followers': defineOp({
    summary: 'Users who follow you, newest first, a page at a time (cursor).',
    seed: '002 user/list-follower',
    roles: ['viewer', 'host'],
    request: PageRequest,
    reply: FollowPage,
    errors: ['BAD_PARAMETER'],
  }),
  'follow.counts': defineOp({
    summary: 'How many users you follow and how many follow you (seed followingCount / followerCount).',
    seed: '002 followingCount, followerCount',
    roles: ['viewer', 'host'],
    request: Type.Object({ userId: Type.Optional(UserId) }, { additionalProperties: false, description: 'userId: whose counts (default: yours)' }),
    reply: Counts,
    errors: [],
  }),
  'follow.live': defineOp({
    summary: 'The open public rooms of the users you follow, most viewers first (list-live-by-follow).',
    seed: '002 list-live-by-follow',
    roles: ['viewer', 'host'],
    request: Type.Object({}, { additionalProperties: false }),
    reply: Type.Object({
      rooms: Type.Array(
        Type.Object({
          roomId: RoomId,
          host: Type.Object({ userId: UserId, profile: Profile }),
          title: Type.String(),
          viewers: Count,
          likes: Count,
          openedAt: Millis,
        }),
      ),
    }),
    errors: [],
  }),
} as const;

export const followPushes = {
  'follow.new': definePush({
    summary: 'Someone started following you (only when the follow is new).',
    seed: '4.1',
    stream: 'session',
    data: Type.Object({ follower: Type.Object({ userId: UserId, profile: Profile }), followers: Count, at: Millis }),
  }),
};
