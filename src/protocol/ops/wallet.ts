import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, SafeInt } from '../schemas.js';

export const Credits = SafeInt({ minimum: 0, description: 'credits (信用点), a whole number' });

export const TransferReason = Type.Union(
  [
    Type.Literal('topup'),
    Type.Literal('withdraw'),
    Type.Literal('adjust'),
    Type.Literal('gift'),
    Type.Literal('barrage'),
    Type.Literal('hold'),
    Type.Literal('release'),
    Type.Literal('bill'),
    Type.Literal('rebate'),
    Type.Literal('forfeit'),
    Type.Literal('grant'),
    Type.Literal('talent'),
  ],
  {
    description:
      'topup: bought through the app (payment backend); withdraw: paid out; adjust: by an administrator; gift: sent or received; ' +
      'barrage: a paid barrage line; hold: set aside (a show\'s first minute, a booking deposit, a talent request); release: a hold given back; ' +
      'bill: a minute of a paid show or room, paid or earned; rebate: returned to a viewer (5.20); forfeit: a deposit kept after a no-show; ' +
      'grant: backpack items given (not seen in wallet.updated, which is about credits); talent: a talent request\'s hold paid to its host',
  },
);

export const walletOps = {
  'wallet.balance': defineOp({
    summary: 'Your credits now (transfers still committing included).',
    seed: '7.34',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ credits: Credits }),
    errors: [],
  }),
};

export const walletPushes = {
  'wallet.updated': definePush({
    summary:
      'Your credits changed (7.34): after every committed transfer that touched them, in commit order. ' +
      'A retried request that changed nothing pushes nothing.',
    seed: '7.34',
    stream: 'session',
    data: Type.Object({
      credits: Credits,
      delta: SafeInt({ description: 'the change: negative when credits left your account' }),
      reason: TransferReason,
      transferId: SafeInt({ minimum: 1, description: 'the ledger transfer (one per request key)' }),
      at: Millis,
    }),
  }),
  'wallet.low': definePush({
    summary:
      'In a paid private show or paid room: your credits pay for fewer than LIVE_LOW_CREDIT_MINUTES more minutes; top up `topUp` credits to reach that. ' +
      'Pushed after the hold and after each paid minute while it holds. When a minute cannot be paid a show ends (show.kicked, then show.ended "no_credit") ' +
      'and a room puts you out (room.kicked, reason "no_credit").',
    seed: '7.33',
    stream: 'session',
    data: Type.Object({
      showId: Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'the private show, or null' }),
      roomId: Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'the paid room, or null' }),
      credits: Credits,
      pricePerMinute: SafeInt({ minimum: 1 }),
      minutesLeft: SafeInt({ minimum: 0, description: 'whole minutes your credits pay for' }),
      topUp: SafeInt({ minimum: 1, description: 'credits to add to pay for LIVE_LOW_CREDIT_MINUTES minutes' }),
    }),
  }),
  'wallet.rebate': definePush({
    summary: 'To a viewer: part of a paid minute (of a private show or paid room) came back to you (LIVE_REBATE_PCT of the price, out of the house\'s cut); wallet.updated carries the net change.',
    seed: '5.20',
    stream: 'session',
    data: Type.Object({
      showId: Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'the private show, or null' }),
      roomId: Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'the paid room, or null' }),
      minute: SafeInt({ minimum: 1 }), rebate: SafeInt({ minimum: 1 }), transferId: SafeInt({ minimum: 1 }) }),
  }),
};
