import type { Logger } from 'pino';
import type { Charge, ChargeResult } from '../actors/charges.js';
import type { Clock } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Leg } from '../storage/ledger.js';
import type { Config } from './config.js';
import type { SessionRegistry } from './sessions.js';
import { paidToHost, userAccount, type Wallet } from './wallet.js';

/**
 * Runs the charges private shows and paid rooms ask for (actors/charges.ts)
 * through the ledger and reports each outcome back to the actor that asked.
 * Keys are derived from the show or room visit and the minute, so a charge
 * asked for twice (a retry, a restart) is moved once. A minute is split: the
 * host earns the price minus the house cut; out of the cut, LIVE_REBATE_PCT
 * of the price goes back to the viewer (5.20).
 */
export class Billing {
  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      wallet: Wallet;
      sessions: SessionRegistry;
      report(charge: Charge, result: ChargeResult): void;
      /** A paid room's minute committed: counted in the room's totals. */
      roomEarned(roomId: number, credits: number): void;
      /** Credits a viewer spent on a host (a paid minute less its rebate, a forfeited deposit), once committed. */
      spent?(viewerId: number, credits: number): void;
    },
  ) {}

  charge(c: Charge): void {
    const { wallet, clock, logger, report } = this.deps;
    const place = `${c.place}:${c.placeId}`;
    const hold = `hold:${place}`;
    const where = { showId: c.place === 'show' ? c.placeId : null, roomId: c.place === 'room' ? c.placeId : null };
    const viewer = userAccount(c.viewerId);
    const split = this.split(c.price);
    let legs: Leg[];
    if (c.what === 'hold') {
      legs = [{ account: viewer, delta: -c.price }, { account: hold, delta: c.price }];
    } else if (c.what === 'release') {
      legs = [{ account: hold, delta: -c.price }, { account: viewer, delta: c.price }];
    } else if (c.what === 'forfeit') {
      legs = paidToHost(hold, c.hostId, c.price, this.deps.config.houseCutPct);
    } else {
      // A show's minute 1 is paid from its hold, other minutes by the viewer; a rebate nets into the viewer's leg.
      const payer = c.fromHold ? hold : viewer;
      legs = [
        { account: payer, delta: -c.price + (payer === viewer ? split.rebate : 0) },
        { account: userAccount(c.hostId), delta: split.host },
        { account: 'house', delta: split.house },
        ...(payer === hold ? [{ account: viewer, delta: split.rebate }] : []),
      ];
    }
    wallet
      .move({
        key: c.key,
        kind: c.what,
        legs: legs.filter((l) => l.delta !== 0),
        ref: place,
        meta: { place, viewerId: c.viewerId, minute: c.minute },
        at: clock.now(),
      })
      .then(
        (done) => {
          report(c, { t: 'charged', key: c.key, ok: true, earned: c.what === 'bill' ? split.host : 0 });
          if (done.replayed) return;
          if (c.what === 'bill') this.deps.spent?.(c.viewerId, c.price - split.rebate);
          if (c.what === 'forfeit') this.deps.spent?.(c.viewerId, c.price);
          if (c.place === 'room' && c.what === 'bill') this.deps.roomEarned(c.placeId, c.price);
          if (c.what === 'bill' && split.rebate > 0) {
            this.deps.sessions.push(c.viewerId, 'wallet.rebate', { ...where, minute: c.minute, rebate: split.rebate, transferId: done.transferId });
          }
          if (c.what === 'bill' || (c.what === 'hold' && c.place === 'show')) this.warnIfLow(c, where);
        },
        (err: unknown) => {
          if (err instanceof ProtocolError && err.errorName === 'INSUFFICIENT_CREDIT') {
            logger.info({ place, userId: c.viewerId, key: c.key }, 'charge refused: not enough credit');
            return report(c, { t: 'charged', key: c.key, ok: false, reason: 'no_credit' });
          }
          // Anything else (storage): the desk asks again after CHARGE_RETRY_MS.
          logger.error({ err, place, key: c.key }, 'charge failed; it will be asked for again');
        },
      );
  }

  /** The host's share, the house's, and the viewer's rebate out of the house's, of one minute. */
  private split(price: number): { host: number; house: number; rebate: number } {
    const cut = Math.floor((price * this.deps.config.houseCutPct) / 100);
    const rebate = Math.min(cut, Math.floor((price * this.deps.config.rebatePct) / 100));
    return { host: price - cut, house: cut - rebate, rebate };
  }

  private warnIfLow(c: Charge, where: { showId: number | null; roomId: number | null }): void {
    const { wallet, sessions, config } = this.deps;
    const credits = wallet.credits(c.viewerId);
    const want = c.price * config.lowCreditMinutes;
    if (credits >= want) return;
    sessions.push(c.viewerId, 'wallet.low', { ...where, credits, pricePerMinute: c.price, minutesLeft: Math.floor(credits / c.price), topUp: want - credits });
  }
}
