import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import { LedgerError, type Ledger, type Leg, type TransferCommand, type TransferDone } from '../storage/ledger.js';
import type { SessionRegistry } from './sessions.js';

export const userAccount = (userId: number) => `user:${userId}`;

/**
 * The legs of `amount` paid by `payer` to a host: the host earns it less the
 * house's cut, floor(amount × LIVE_HOUSE_CUT_PCT / 100). Zero legs left out.
 */
export function paidToHost(payer: string, hostId: number, amount: number, houseCutPct: number): Leg[] {
  const cut = Math.floor((amount * houseCutPct) / 100);
  return [
    { account: payer, delta: -amount },
    { account: userAccount(hostId), delta: amount - cut },
    { account: 'house', delta: cut },
  ].filter((leg) => leg.delta !== 0);
}

const USER = /^user:(\d+)$/;

/**
 * Credits as the rest of the server sees them: every move goes through the
 * ledger (one writer, group-committed, idempotent by key) and, once
 * committed, each user it touched is told their new balance (wallet.updated).
 * Ledger refusals become protocol errors.
 */
export class Wallet {
  constructor(
    private readonly deps: { ledger: Ledger; sessions: SessionRegistry; logger: Logger; clock: Clock },
  ) {}

  credits(userId: number): number {
    return this.deps.ledger.balance(userAccount(userId));
  }

  /** Credits bought through the app (from its payment backend): idempotent by the payment's order id. */
  topUp(userId: number, orderId: string, amount: number): Promise<TransferDone> {
    return this.fromMint('topup', `topup:${orderId}`, userId, amount, { orderId });
  }

  /** Credits paid out (cashed by the app's backend): idempotent by its order id. */
  withdraw(userId: number, orderId: string, amount: number): Promise<TransferDone> {
    return this.fromMint('withdraw', `withdraw:${orderId}`, userId, -amount, { orderId });
  }

  /** An administrator's correction (positive or negative) with its reason: idempotent by its key. */
  adjust(userId: number, key: string, amount: number, reason: string): Promise<TransferDone> {
    return this.fromMint('adjust', `adjust:${key}`, userId, amount, { reason });
  }

  /** `amount` credits from the mint to a user (negative: back to the mint). */
  private fromMint(kind: 'topup' | 'withdraw' | 'adjust', key: string, userId: number, amount: number, meta: Record<string, string>): Promise<TransferDone> {
    return this.move({
      key,
      kind,
      legs: [
        { account: 'mint', delta: -amount },
        { account: userAccount(userId), delta: amount },
      ],
      meta,
      at: this.deps.clock.now(),
    });
  }

  /** Runs a transfer; after its commit, pushes the new balance to every user it touched (not for a replay). */
  async move(cmd: TransferCommand): Promise<TransferDone> {
    let done: TransferDone;
    try {
      done = await this.deps.ledger.transfer(cmd);
    } catch (err) {
      throw asProtocolError(err);
    }
    if (!done.replayed) {
      this.deps.logger.info({ transferId: done.transferId, key: done.key, kind: done.kind, legs: cmd.legs }, 'transfer');
      for (const leg of cmd.legs) {
        const user = USER.exec(leg.account);
        if (!user) continue;
        this.deps.sessions.push(Number(user[1]), 'wallet.updated', {
          credits: done.balances[leg.account]!,
          delta: leg.delta,
          reason: done.kind,
          transferId: done.transferId,
          at: done.at,
        });
      }
    }
    return done;
  }
}

export function asProtocolError(err: unknown): unknown {
  if (!(err instanceof LedgerError)) return err;
  switch (err.code) {
    case 'INSUFFICIENT_CREDIT':
      return new ProtocolError(err.account?.startsWith('bag:') ? 'NOT_IN_BACKPACK' : 'INSUFFICIENT_CREDIT');
    case 'KEY_REUSED':
      return new ProtocolError('KEY_REUSED');
    case 'BAD_TRANSFER':
      return new ProtocolError('BAD_PARAMETER', err.message);
    default:
      return new ProtocolError('INTERNAL', err.message);
  }
}
