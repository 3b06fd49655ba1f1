import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, SafeInt, UserId } from '../schemas.js';
import { RoomId } from './room.js';
import { ShowId } from './show.js';
import { Credits } from './wallet.js';

export const GiftId = SafeInt({ minimum: 1, description: 'gift id (the catalog\'s)' });
export const MAX_GIFT_COUNT = 999;
const Token = (description: string) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description });
const Sender = Type.Object({ userId: UserId, profile: Profile });
const Count = SafeInt({ minimum: 1 });

export const GiftView = Type.Object({
  giftId: GiftId,
  name: Type.String(),
  price: Credits,
  image: Type.String({ description: 'animation image URL' }),
  icon: Type.String({ description: 'list icon URL' }),
  type: Type.Union([Type.Literal(1), Type.Literal(2)], { description: '1: static show, 2: animated show' }),
});

const Streak = {
  comboId: Type.Union([Type.String(), Type.Null()], { description: 'the combo id the sender gave, null for a single send' }),
  streak: Count,
  streakCount: Count,
};

export const giftOps = {
  'gift.list': defineOp({
    summary:
      'The gift catalog: active gifts in display order, with `version` (when the catalog last changed; cache the list until it moves). ' +
      'The same list serves login (7.9) and room entry (7.10): gifts are not per room.',
    seed: '7.9, 7.10, 002 gift-info',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ version: Millis, gifts: Type.Array(GiftView) }),
    errors: [],
  }),
  'gift.detail': defineOp({
    summary: 'One gift of the catalog (also an inactive one, for history).',
    seed: '7.11',
    roles: ['viewer', 'host'],
    request: Type.Object({ giftId: GiftId }, { additionalProperties: false }),
    reply: Type.Object({ gift: GiftView, active: Type.Boolean() }),
    errors: ['GIFT_NOT_FOUND'],
  }),
  'gift.send': defineOp({
    summary:
      'Send `count` of a gift to the host of the public room you are in (`roomId`) or to the host of your private show (`showId`): give exactly one of them. ' +
      'The price × count is taken from your credits (the host earns it minus the house cut, LIVE_HOUSE_CUT_PCT) in one committed transfer before the reply; ' +
      'then the room gets room.gift (the show\'s two parties show.gift). ' +
      'Combos (连击): sends of the same gift to the same place with the same `comboId` within LIVE_COMBO_WINDOW_MS of the previous one form one streak ' +
      '(each send extends the window); the streak ends with room.gift_combo_end / show.gift_combo_end. A comboId in use by another sender, or by your ' +
      'running streak of another gift or place, is refused (700). ' +
      '`key` makes the send idempotent across reconnects and restarts: the same key again answers exactly the first reply and charges and pushes nothing; ' +
      'the same key with another gift, count, place or comboId is refused (753). Without a key, a resent request id of the same session is recognised the same way.',
    seed: '7.12, 002 buy-gift (gift_uuid, amount)',
    roles: ['viewer', 'host'],
    request: Type.Object(
      {
        giftId: GiftId,
        count: Type.Optional(SafeInt({ minimum: 1, maximum: MAX_GIFT_COUNT, description: `gifts in this send (default 1, at most ${MAX_GIFT_COUNT})` })),
        roomId: Type.Optional(RoomId),
        showId: Type.Optional(ShowId),
        comboId: Type.Optional(Token('combo id (seed gift_uuid), chosen by the client per streak')),
        key: Type.Optional(Token('idempotency key of this send, unique per sender')),
        fromBackpack: Type.Optional(Type.Boolean({ description: 'use `count` items of your backpack instead of credits (754 if you hold fewer); the host earns the same' })),
      },
      { additionalProperties: false },
    ),
    reply: Type.Object({
      transferId: SafeInt({ minimum: 1 }),
      credits: SafeInt({ minimum: 0, description: 'your credits right after this send' }),
      ...Streak,
    }),
    errors: ['GIFT_NOT_FOUND', 'INSUFFICIENT_CREDIT', 'NOT_IN_BACKPACK', 'NOT_IN_ROOM', 'INVALID_ROOM', 'SHOW_NOT_FOUND', 'PERMISSION_DENIED', 'KEY_REUSED'],
    pushes: ['room.gift', 'room.gift_combo_end', 'show.gift', 'show.gift_combo_end', 'wallet.updated', 'backpack.updated', 'intimacy.level_up', 'viewer.level_up'],
  }),
} as const;

const Sent = {
  from: Sender,
  gift: GiftView,
  ...Streak,
  count: Count,
  sends: Count,
  at: Millis,
};
const Ended = {
  from: Sender,
  giftId: GiftId,
  comboId: Type.String(),
  streak: Count,
  streakCount: Count,
  credits: Credits,
};

export const giftPushes = {
  'room.gift': definePush({
    summary:
      'Gifts sent in the room (room topic). One push may cover several sends of one streak (`sends` of them, `count` gifts in all): a streak is pushed at most ' +
      'every LIVE_COMBO_PUSH_MS, the first send at once. `streak`/`streakCount`: sends and gifts of the streak so far; `roomTotal`: credits of every gift sent in this room.',
    seed: '7.13, 002 gift message (totalTicket, gift_uuid)',
    stream: 'room',
    data: Type.Object({ roomId: RoomId, ...Sent, roomTotal: Credits }),
  }),
  'room.gift_combo_end': definePush({
    summary: 'A streak ended (no send within LIVE_COMBO_WINDOW_MS of its last one): its totals (room topic). Streaks do not outlive a restart: one running then ends without this push.',
    seed: '7.13 (连击)',
    stream: 'room',
    data: Type.Object({ roomId: RoomId, ...Ended }),
  }),
  'show.gift': definePush({
    summary: 'Gifts sent in your private show, to both parties; coalesced like room.gift. `showTotal`: credits of every gift sent in this show.',
    seed: '7.13',
    stream: 'session',
    data: Type.Object({ showId: ShowId, ...Sent, showTotal: Credits }),
  }),
  'show.gift_combo_end': definePush({
    summary: 'A streak in your private show ended, to both parties.',
    seed: '7.13 (连击)',
    stream: 'session',
    data: Type.Object({ showId: ShowId, ...Ended }),
  }),
} as const;
