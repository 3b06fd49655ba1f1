import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { SafeInt, UserId } from '../schemas.js';

const Level = SafeInt({ minimum: 0, description: 'how many of LIVE_VIEWER_LEVELS the credits spent reach' });
const Spent = SafeInt({
  minimum: 0,
  description:
    'credits spent on hosts: gifts paid with credits, paid barrage lines, paid minutes (less the rebate), accepted talent requests, forfeited deposits',
});
const NextAt = Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'credits spent the next level needs (null: top level)' });

export const viewerOps = {
  'viewer.level': defineOp({
    summary: "A user's viewer level (yours by default) and the credits it counts; each is counted once its transfer committed.",
    seed: '5.30',
    roles: ['viewer', 'host'],
    request: Type.Object({ userId: Type.Optional(UserId) }, { additionalProperties: false }),
    reply: Type.Object({ userId: UserId, level: Level, credits: Spent, nextLevelAt: NextAt }),
    errors: [],
  }),
};

export const viewerPushes = {
  'viewer.level_up': definePush({
    summary: 'Your viewer level went up (5.30): the credits you spent on hosts reached the next of LIVE_VIEWER_LEVELS.',
    seed: '5.30',
    stream: 'session',
    data: Type.Object({ level: Level, credits: Spent, nextLevelAt: NextAt }),
  }),
};
