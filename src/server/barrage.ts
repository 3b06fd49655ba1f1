import type { Clock } from '../clock.js';
import type { RequestOf, ReplyOf } from '../protocol/define.js';
import type { Ops } from '../protocol/ops/index.js';
import type { Config } from './config.js';
import type { RoomService } from './rooms.js';
import type { Session } from './sessions.js';
import { paidToHost, userAccount, type Wallet } from './wallet.js';

/**
 * Barrage lines (7.38): free while LIVE_BARRAGE_PRICE is 0; otherwise each
 * line is paid to the room's host (the house cut taken) in one committed
 * transfer before it is shown, idempotent like gift.send (`key`, or the
 * request id within a session). A host's own barrage in their room is free.
 */
export class Barrage {
  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      rooms: RoomService;
      wallet: Wallet;
      /** Credits a viewer spent on a host (a paid line), once committed. */
      spent?(viewerId: number, credits: number): void;
    },
  ) {}

  async send(me: Session, requestId: number, d: RequestOf<Ops['chat.barrage']>): Promise<ReplyOf<Ops['chat.barrage']>> {
    const { config, clock, rooms, wallet } = this.deps;
    const price = config.barragePrice;
    const roomId = rooms.checkLine(me.userId);
    const hostId = rooms.hostOfRoom(roomId);
    if (price === 0 || hostId === undefined || hostId === me.userId) return rooms.say(me.userId, me.profile, d.text, 'barrage', roomId);
    const msgId = rooms.allocateMsgId();
    const done = await wallet.move({
      key: d.key ? `barrage:${me.userId}:k:${d.key}` : `barrage:${me.userId}:r:${me.id}:${requestId}`,
      kind: 'barrage',
      legs: paidToHost(userAccount(me.userId), hostId, price, config.houseCutPct),
      ref: `room:${roomId}`,
      meta: { roomId, text: d.text },
      note: { msgId },
      at: clock.now(),
    });
    const first = Number(done.note.msgId);
    // A replay answers the first reply and shows nothing again.
    if (!done.replayed) {
      rooms.publishLine(roomId, msgId, me.userId, me.profile, d.text, 'barrage');
      rooms.earned(roomId, 0, price);
      this.deps.spent?.(me.userId, price);
    }
    return { msgId: first, credits: done.balances[userAccount(me.userId)]! };
  }
}
