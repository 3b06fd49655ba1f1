import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, SafeInt, UserId } from '../schemas.js';
import { GiftView } from './gift.js';
import { RoomId } from './room.js';
import { CouponView, VehicleId, VehicleView } from './items.js';

const Count = SafeInt({ minimum: 0 });
const Held = SafeInt({ minimum: 1, description: 'how many you hold' });
const Tally = Type.Object({ kinds: Count, items: Count });

export const backpackOps = {
  'backpack.list': defineOp({
    summary:
      'Your backpack gifts: gifts you hold as items (granted by the platform, or given to you on entering a room), ordered by gift id. ' +
      'Send one with gift.send and `fromBackpack: true`: it uses the item up instead of credits.',
    seed: '7.36',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ items: Type.Array(Type.Object({ gift: GiftView, count: Held })) }),
    errors: [],
  }),
  'backpack.coupons': defineOp({
    summary:
      'Your backpack coupons (券), granted by the platform, in catalog order. The server only keeps and lists them: what a coupon is worth and ' +
      'where it is redeemed is the app backend\'s business (the seeds do not say).',
    seed: '4.9',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ coupons: Type.Array(Type.Object({ coupon: CouponView, count: Held })) }),
    errors: [],
  }),
  'backpack.vehicles': defineOp({
    summary:
      'Your backpack vehicles (座驾), granted by the platform, in catalog order, and the one you have in use (vehicle.use), if any. ' +
      'A vehicle is yours while you hold at least one; vehicles are not used up.',
    seed: '4.10',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({
      vehicles: Type.Array(Type.Object({ vehicle: VehicleView, count: Held })),
      inUse: Type.Union([VehicleId, Type.Null()], { description: 'the vehicle in use (shown when you enter a room), null: none' }),
    }),
    errors: [],
  }),
  'backpack.count': defineOp({
    summary:
      'How many kinds of item and how many items your backpack holds, in all (`kinds`, `items`) and per tab: gifts, vehicles, coupons. ' +
      'Items of a gift, vehicle or coupon no longer in the catalog are not counted (nor listed).',
    seed: '4.11',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ kinds: Count, items: Count, gifts: Tally, vehicles: Tally, coupons: Tally }),
    errors: [],
  }),
  'vehicle.use': defineOp({
    summary:
      'Set the vehicle you ride into rooms (4.12): from then on, your entries in `room.user_entered` carry it so clients play its entrance animation. ' +
      '`vehicleId: null` rides none. Stored before the reply (it survives restarts). Setting the one in use again is not an error.',
    seed: '4.12',
    roles: ['viewer', 'host'],
    request: Type.Object({ vehicleId: Type.Union([VehicleId, Type.Null()]) }, { additionalProperties: false }),
    reply: Type.Object({ inUse: Type.Union([VehicleView, Type.Null()]) }),
    errors: ['ITEM_NOT_FOUND', 'VEHICLE_NOT_OWNED'],
  }),
};

export const backpackPushes = {
  'backpack.updated': definePush({
    summary:
      'Your backpack changed (5.32): items of one gift, vehicle or coupon granted by the platform, a gift received on entering a room, ' +
      'or gifts used by a gift.send.',
    seed: '5.32',
    stream: 'session',
    data: Type.Object({
      kind: Type.Union([Type.Literal('gift'), Type.Literal('vehicle'), Type.Literal('coupon')]),
      itemId: SafeInt({ minimum: 1, description: 'the gift, vehicle or coupon id (by kind)' }),
      giftId: Type.Optional(SafeInt({ minimum: 1, description: 'kind gift only: the gift id again (as before vehicles and coupons)' })),
      count: SafeInt({ minimum: 0, description: 'how many of it you hold now' }),
      delta: SafeInt({ description: 'the change; negative when items were used' }),
      reason: Type.Union([Type.Literal('granted'), Type.Literal('entrance'), Type.Literal('used')]),
      transferId: SafeInt({ minimum: 1 }),
      at: Millis,
    }),
  }),
  'room.entrance_gift': definePush({
    summary:
      "To a viewer entering a room: the room's host gives you a gift for your backpack (000 主播入场随机赠送礼物), " +
      'chosen at random among active gifts priced at most LIVE_ENTRANCE_GIFT_MAX_PRICE; the chance LIVE_ENTRANCE_GIFT_PCT is taken on each entry until won, and the gift comes at most once per viewer per room.',
    seed: '000 主播入场随机赠送礼物',
    stream: 'session',
    data: Type.Object({ roomId: RoomId, hostId: UserId, gift: GiftView, count: SafeInt({ minimum: 1 }) }),
  }),
};
