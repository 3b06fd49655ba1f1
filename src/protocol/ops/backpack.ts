import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, SafeInt, UserId } from '../schemas.js';
import { GiftId, GiftView } from './gift.js';
import { RoomId } from './room.js';

const Count = SafeInt({ minimum: 0 });

export const backpackOps = {
  'backpack.list': defineOp({
    summary:
      'Your backpack: gifts you hold as items (granted by the platform, or given to you on entering a room), ordered by gift id. ' +
      'Send one with gift.send and `fromBackpack: true`: it uses the item up instead of credits.',
    seed: '7.36, 4.9',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ items: Type.Array(Type.Object({ gift: GiftView, count: SafeInt({ minimum: 1 }) })) }),
    errors: [],
  }),
  'backpack.count': defineOp({
    summary: 'How many kinds of gift and how many items your backpack holds.',
    seed: '4.11',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ kinds: Count, items: Count }),
    errors: [],
  }),
};

export const backpackPushes = {
  'backpack.updated': definePush({
    summary: 'Your backpack changed (5.32): items of one gift granted, received on entering a room, or used by a gift.send.',
    seed: '5.32',
    stream: 'session',
    data: Type.Object({
      giftId: GiftId,
      count: Count,
      delta: SafeInt({ description: 'the change; negative when items were used' }),
      reason: Type.Union([Type.Literal('granted'), Type.Literal('entrance'), Type.Literal('used')]),
      transferId: SafeInt({ minimum: 1 }),
      at: Millis,
    }),
  }),
  'room.entrance_gift': definePush({
    summary:
      "To a viewer entering a room for the first time: the room's host gives you a gift for your backpack (000 主播入场随机赠送礼物), " +
      'chosen at random among active gifts priced at most LIVE_ENTRANCE_GIFT_MAX_PRICE, with the chance LIVE_ENTRANCE_GIFT_PCT. Once per viewer per room.',
    seed: '000 主播入场随机赠送礼物',
    stream: 'session',
    data: Type.Object({ roomId: RoomId, hostId: UserId, gift: GiftView, count: SafeInt({ minimum: 1 }) }),
  }),
};
