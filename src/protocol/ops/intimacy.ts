import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Millis, SafeInt, UserId } from '../schemas.js';

const Points = SafeInt({ minimum: 0, description: 'intimacy points now (decay applied)' });
const Level = SafeInt({ minimum: 0, description: 'how many of LIVE_INTIMACY_LEVELS the points reach' });
const NextAt = Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'points the next level needs (null: top level)' });

export const intimacyOps = {
  'intimacy.get': defineOp({
    summary:
      'Intimacy between you and another user (7.27): a viewer gives a host\'s id, a host a viewer\'s. It grows by LIVE_INTIMACY_PER_CREDIT points per ' +
      'credit the viewer spends on the host (gifts paid with credits, when committed; accepted talent requests, when paid to the host) and by ' +
      'LIVE_INTIMACY_PER_MINUTE points per whole minute of each visit to the host\'s public room (counted when the visit ends). It decays on the ' +
      'server\'s clock: for each full day (24 h) since the pair last grew, points lose LIVE_INTIMACY_DECAY_PCT percent, rounded down each day. ' +
      'Clients need not poll for decay to happen: the value is computed from stored times whenever it is read or grows.',
    seed: '7.27',
    roles: ['viewer', 'host'],
    request: Type.Object({ userId: UserId }, { additionalProperties: false }),
    reply: Type.Object({
      viewerId: UserId,
      hostId: UserId,
      points: Points,
      level: Level,
      nextLevelAt: NextAt,
      grewAt: Type.Union([Millis, Type.Null()], { description: 'when the pair last grew (decay counts full days from it); null: never' }),
    }),
    errors: [],
  }),
  'intimacy.top': defineOp({
    summary: "A host's viewers by intimacy now (decay applied), highest first, ties by lower viewer id; viewers at 0 are left out.",
    seed: '7.27',
    roles: ['viewer', 'host'],
    request: Type.Object({ hostId: UserId, limit: Type.Optional(SafeInt({ minimum: 1, maximum: 100, description: 'default 20' })) }, { additionalProperties: false }),
    reply: Type.Object({ hostId: UserId, viewers: Type.Array(Type.Object({ viewerId: UserId, points: Points, level: Level })) }),
    errors: [],
  }),
};

export const intimacyPushes = {
  'intimacy.level_up': definePush({
    summary: 'To the viewer and the host: their intimacy grew into a higher level (5.31). A level lost to decay is not pushed.',
    seed: '5.31',
    stream: 'session',
    data: Type.Object({ viewerId: UserId, hostId: UserId, level: Level, points: Points, nextLevelAt: NextAt }),
  }),
};
