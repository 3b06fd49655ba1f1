import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import type { BackpackItem, BackpackItemStore, ItemKind } from '../storage/backpack-items.js';
import type { GiftCatalog } from '../storage/gift-catalog.js';
import type { Ledger, Leg, TransferDone } from '../storage/ledger.js';
import type { Config } from './config.js';
import type { SessionRegistry } from './sessions.js';
import { giftView } from './gifts.js';
import type { Wallet } from './wallet.js';

export const bagAccount = (userId: number, giftId: number) => `bag:${userId}:${giftId}`;
/** A user's items of a vehicle or a coupon: the same items currency as gifts. */
export const itemAccount = (userId: number, kind: ItemKind, id: number) => `bag:${userId}:${kind}:${id}`;
const GIFT_ACCOUNT = /^bag:\d+:(\d+)$/;

export const vehicleView = (v: BackpackItem) => ({ vehicleId: v.id, name: v.name, image: v.image, animation: v.animation });
const couponView = (c: BackpackItem) => ({ couponId: c.id, name: c.name, image: c.image });
type Reason = 'granted' | 'entrance' | 'used';

/**
 * Backpacks (7.36, 4.9–4.12): gifts, vehicles and coupons held as items, a
 * second currency of the ledger (`bag:<user>:<gift>`,
 * `bag:<user>:vehicle:<id>`, `bag:<user>:coupon:<id>`, granted from and used
 * into `items`). Gifts are granted by the platform (admin API) or by a host to
 * a viewer entering a room (the entrance gift) and used up by gift.send with
 * `fromBackpack`; vehicles and coupons are granted by the platform; the
 * vehicle in use is shown when its owner enters a room.
 */
export class Backpack {
  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      ledger: Ledger;
      wallet: Wallet;
      catalog: GiftCatalog;
      items: BackpackItemStore;
      sessions: SessionRegistry;
    },
  ) {}

  list(userId: number) {
    return { items: this.gifts(userId).map(({ gift, count }) => ({ gift: giftView(gift), count })) };
  }

  vehicles(userId: number) {
    return {
      vehicles: this.held(userId, 'vehicle').map(({ item, count }) => ({ vehicle: vehicleView(item), count })),
      inUse: this.vehicleOf(userId)?.vehicleId ?? null,
    };
  }

  coupons(userId: number) {
    return { coupons: this.held(userId, 'coupon').map(({ item, count }) => ({ coupon: couponView(item), count })) };
  }

  count(userId: number) {
    const tally = (counts: number[]) => ({ kinds: counts.length, items: counts.reduce((a, b) => a + b, 0) });
    const gifts = tally(this.gifts(userId).map((g) => g.count));
    const vehicles = tally(this.held(userId, 'vehicle').map((v) => v.count));
    const coupons = tally(this.held(userId, 'coupon').map((c) => c.count));
    return { kinds: gifts.kinds + vehicles.kinds + coupons.kinds, items: gifts.items + vehicles.items + coupons.items, gifts, vehicles, coupons };
  }

  /** Sets the vehicle the user rides into rooms (4.12): an active one they hold, or none; stored before it answers. */
  async useVehicle(userId: number, vehicleId: number | null) {
    if (vehicleId === null) {
      await this.deps.items.useVehicle(userId, null, this.deps.clock.now());
      return { inUse: null };
    }
    const vehicle = this.deps.items.get('vehicle', vehicleId);
    if (!vehicle?.active) throw new ProtocolError('ITEM_NOT_FOUND', `no vehicle ${vehicleId}`);
    if (this.deps.ledger.balance(itemAccount(userId, 'vehicle', vehicleId)) < 1) throw new ProtocolError('VEHICLE_NOT_OWNED');
    await this.deps.items.useVehicle(userId, vehicleId, this.deps.clock.now());
    return { inUse: vehicleView(vehicle) };
  }

  /** The vehicle shown when the user enters a room: the one in use, while it is active and they still hold it. */
  vehicleOf(userId: number): ReturnType<typeof vehicleView> | null {
    const id = this.deps.items.vehicleInUse(userId);
    if (id === null) return null;
    const vehicle = this.deps.items.get('vehicle', id);
    if (!vehicle?.active || this.deps.ledger.balance(itemAccount(userId, 'vehicle', id)) < 1) return null;
    return vehicleView(vehicle);
  }

  /** Items of a vehicle or coupon into a user's backpack, once per key (admin grants). */
  async grantItem(userId: number, kind: ItemKind, id: number, count: number, key: string, meta: Record<string, string | number> = {}): Promise<TransferDone> {
    if (!this.deps.items.get(kind, id)) throw new ProtocolError('ITEM_NOT_FOUND', `no ${kind} ${id}`);
    const account = itemAccount(userId, kind, id);
    const done = await this.deps.wallet.move({
      key,
      kind: 'grant',
      legs: [
        { account: 'items', delta: -count },
        { account, delta: count },
      ],
      meta: { [`${kind}Id`]: id, count, reason: 'granted', ...meta },
      at: this.deps.clock.now(),
    });
    if (!done.replayed) this.push(userId, kind, id, done.balances[account] ?? 0, count, 'granted', done);
    return done;
  }

  /** Gifts held, by gift id (gifts gone from the catalog left out). */
  private gifts(userId: number) {
    return Object.entries(this.deps.ledger.balancesOf(`bag:${userId}:`))
      .flatMap(([account, count]) => {
        const id = GIFT_ACCOUNT.exec(account)?.[1];
        const gift = id === undefined ? undefined : this.deps.catalog.get(Number(id));
        return gift ? [{ gift, count }] : [];
      })
      .sort((a, b) => a.gift.id - b.gift.id);
  }

  /** Vehicles or coupons held, in catalog order (items gone from the catalog left out). */
  private held(userId: number, kind: ItemKind) {
    const prefix = `bag:${userId}:${kind}:`;
    return Object.entries(this.deps.ledger.balancesOf(prefix))
      .flatMap(([account, count]) => {
        const item = this.deps.items.get(kind, Number(account.slice(prefix.length)));
        return item ? [{ item, count }] : [];
      })
      .sort((a, b) => a.item.sort - b.item.sort || a.item.id - b.item.id);
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
  updated(userId: number, giftId: number, delta: number, reason: Reason, done: TransferDone): void {
    this.push(userId, 'gift', giftId, done.balances[bagAccount(userId, giftId)] ?? 0, delta, reason, done);
  }

  private push(userId: number, kind: 'gift' | ItemKind, itemId: number, count: number, delta: number, reason: Reason, done: TransferDone): void {
    const gift = kind === 'gift' ? { giftId: itemId } : {};
    this.deps.sessions.push(userId, 'backpack.updated', { kind, itemId, ...gift, count, delta, reason, transferId: done.transferId, at: done.at });
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
