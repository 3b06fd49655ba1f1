import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import type { GiftCatalog } from '../storage/gift-catalog.js';
import type { Ledger, Leg, TransferDone } from '../storage/ledger.js';
import type { Config } from './config.js';
import type { SessionRegistry } from './sessions.js';
import { giftView } from './gifts.js';
import type { Wallet } from './wallet.js';

export const bagAccount = (userId: number, giftId: number) => `bag:${userId}:${giftId}`;

/**
 * Backpacks (7.36, 4.9, 4.11): gifts held as items, a second currency of the
 * ledger (`bag:<user>:<gift>` accounts, granted from and used into `items`).
 * Granted by the platform (admin API) or by a host to a viewer entering a
 * room (the entrance gift); used up by gift.send with `fromBackpack`.
 */
export class Backpack {
  constructor(
    private readonly deps: { config: Config; clock: Clock; logger: Logger; ledger: Ledger; wallet: Wallet; catalog: GiftCatalog; sessions: SessionRegistry },
  ) {}

  list(userId: number) {
    const items = Object.entries(this.deps.ledger.balancesOf(`bag:${userId}:`))
      .map(([account, count]) => ({ giftId: Number(account.split(':')[2]), count }))
      .sort((a, b) => a.giftId - b.giftId)
      .flatMap(({ giftId, count }) => {
        const gift = this.deps.catalog.get(giftId);
        return gift ? [{ gift: giftView(gift), count }] : [];
      });
    return { items };
  }

  count(userId: number) {
    const counts = Object.values(this.deps.ledger.balancesOf(`bag:${userId}:`));
    return { kinds: counts.length, items: counts.reduce((a, b) => a + b, 0) };
  }

  /** Items of a gift into a user's backpack, once per key (admin grants, entrance gifts). */
  async grant(userId: number, giftId: number, count: number, key: string, reason: 'granted' | 'entrance', meta: Record<string, string | number> = {}): Promise<TransferDone> {
    if (!this.deps.catalog.get(giftId)) throw new ProtocolError('GIFT_NOT_FOUND');
    const done = await this.deps.wallet.move({
      key,
      kind: 'grant',
      legs: [
        { account: 'items', delta: -count },
        { account: bagAccount(userId, giftId), delta: count },
      ],
      meta: { giftId, count, reason, ...meta },
      at: this.deps.clock.now(),
    });
    if (!done.replayed) this.updated(userId, giftId, count, reason, done);
    return done;
  }

  /** The legs using `count` items of a gift (sent from the backpack). */
  useLegs(userId: number, giftId: number, count: number): Leg[] {
    return [
      { account: bagAccount(userId, giftId), delta: -count },
      { account: 'items', delta: count },
    ];
  }

  /** After a committed transfer that touched a backpack: tell its owner. */
  updated(userId: number, giftId: number, delta: number, reason: 'granted' | 'entrance' | 'used', done: TransferDone): void {
    const count = done.balances[bagAccount(userId, giftId)] ?? 0;
    this.deps.sessions.push(userId, 'backpack.updated', { giftId, count, delta, reason, transferId: done.transferId, at: done.at });
  }

  /**
   * A viewer entered a room: with the chance LIVE_ENTRANCE_GIFT_PCT the host gives
   * them one random gift (price ≤ LIVE_ENTRANCE_GIFT_MAX_PRICE) for the backpack, once per room.
   */
  welcome(viewerId: number, roomId: number, hostId: number): void {
    const { config, catalog, sessions, logger } = this.deps;
    if (config.entranceGiftPct === 0 || Math.random() * 100 >= config.entranceGiftPct) return;
    const eligible = catalog.list().filter((g) => g.price <= config.entranceGiftMaxPrice);
    const gift = eligible[Math.floor(Math.random() * eligible.length)];
    if (!gift) return;
    this.grant(viewerId, gift.id, 1, `entrance:room:${roomId}:${viewerId}`, 'entrance', { roomId, hostId }).then(
      (done) => {
        if (!done.replayed) sessions.push(viewerId, 'room.entrance_gift', { roomId, hostId, gift: giftView(gift), count: 1 });
      },
      (err: unknown) => logger.warn({ err, roomId, userId: viewerId }, 'entrance gift not given'),
    );
  }
}
