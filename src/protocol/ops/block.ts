import { Type } from '@sinclair/typebox';
import { defineOp } from '../define.js';
import { Millis, SafeInt, UserId } from '../schemas.js';

const ByUser = Type.Object({ userId: UserId }, { additionalProperties: false });

export const blockOps = {
  'block.add': defineOp({
    summary:
      'Block a user (拉黑): from then on neither of you can send the other a private message (25). Any positive user id may be blocked; ' +
      'blocking yourself is refused (700), more than LIVE_MAX_BLOCKS blocked users too (904). Idempotent: blocking someone already blocked ' +
      'answers the time of the first block. Messages already exchanged stay readable.',
    seed: '002 blockUser, 003 add_black',
    roles: ['viewer', 'host'],
    request: ByUser,
    reply: Type.Object({ userId: UserId, at: Millis }),
    errors: ['BAD_PARAMETER', 'LIMIT_EXCEEDED'],
  }),
  'block.remove': defineOp({
    summary: 'Unblock a user (取消拉黑). Idempotent: `removed` is false when they were not blocked.',
    seed: '002 unblockUser, 003 del_black',
    roles: ['viewer', 'host'],
    request: ByUser,
    reply: Type.Object({ removed: Type.Boolean() }),
    errors: [],
  }),
  'block.list': defineOp({
    summary: 'The users you blocked (黑名单), the most recently blocked first, a page at a time, with how many there are.',
    seed: '002 listBlockedUser, 003 black_list',
    roles: ['viewer', 'host'],
    request: Type.Object(
      { page: SafeInt({ minimum: 1, maximum: 10_000, description: 'page number, from 1' }), pageSize: SafeInt({ minimum: 1, maximum: 100 }) },
      { additionalProperties: false },
    ),
    reply: Type.Object({ total: SafeInt({ minimum: 0 }), users: Type.Array(Type.Object({ userId: UserId, at: Millis })) }),
    errors: [],
  }),
} as const;
