import type Database from 'better-sqlite3';
import type { CommitQueue } from './commit-queue.js';

/**
 * Credits. Every change of a balance is a transfer: legs that sum to zero
 * over accounts, stored as entries, under an idempotency key. Accounts:
 *   user:<id>      a user's credits (never below zero)
 *   house          the platform's cut
 *   mint           where top-ups come from and withdrawals go (the only account below zero:
 *                  minus everything ever minted)
 *   hold:<what>    credits set aside (a show's first minute, a booking's deposit, a talent request) until the thing
 *                  they are for happens or does not
 *   promo          where the platform pays hosts for gifts given out of backpacks (below zero:
 *                  minus all it paid; counted as minted)
 * Backpack items are a second currency in the same ledger, counted in items:
 *   bag:<user>:<gift>  a user's items of one gift
 *   items              where granted items come from and used ones go (below zero)
 * Each transfer's legs sum to zero in each currency, so each currency sums to
 * 0 overall, and Σ credit balances except mint and promo = credits minted.
 */
export type TransferKind =
  | 'topup'
  | 'withdraw'
  | 'adjust'
  | 'gift'
  | 'barrage'
  | 'hold'
  | 'release'
  | 'bill'
  | 'rebate'
  | 'forfeit'
  | 'grant'
  | 'talent';

export interface Leg {
  account: string;
  /** Credits added (positive) or taken (negative): a non-zero safe integer. */
  delta: number;
}

export interface TransferCommand {
  /** Idempotency key, scoped by the caller (`u:<userId>:<clientKey>`, `bill:<show>:<minute>`, `topup:<order>`). */
  key: string;
  kind: TransferKind;
  legs: readonly Leg[];
  /** What it was for (gift id, room, show, minute…): stored with the transfer and part of its identity. */
  meta?: Readonly<Record<string, string | number>>;
  /** What it belongs to (`room:<id>`, `show:<id>`): transfers are summed by it (indexed). */
  ref?: string;
  /** Kept with the result and given back on a replay, but not part of the transfer's identity (e.g. a combo's position). */
  note?: Readonly<Record<string, string | number | null>>;
  at: number;
}

export interface TransferDone {
  transferId: number;
  key: string;
  kind: TransferKind;
  at: number;
  /** Balance of each account of the transfer right after it. */
  balances: Record<string, number>;
  meta: Record<string, string | number>;
  note: Record<string, string | number | null>;
  /** True when the key had been applied before: this is the first result, nothing changed now. */
  replayed: boolean;
}

export type LedgerErrorCode =
  /** An account would go below zero. */
  | 'INSUFFICIENT_CREDIT'
  /** The key was used before for a different transfer. */
  | 'KEY_REUSED'
  /** Legs that do not sum to zero, repeat an account, or carry a bad amount. */
  | 'BAD_TRANSFER'
  /** The commit failed (disk full, I/O error): nothing of it is stored. */
  | 'STORAGE';

export class LedgerError extends Error {
  override readonly name = 'LedgerError';

  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    readonly account?: string,
  ) {
    super(message);
  }
}

/**
 * The ledger as the server uses it. The SQLite implementation is the single
 * writer of one node; a PostgreSQL one will implement the same interface when
 * the server runs on several nodes.
 */
export interface Ledger {
  /**
   * Applies the transfer once: resolves after its commit (durable), or with the
   * first result when the key was applied before (same parameters). Refused
   * transfers (LedgerError) change nothing and are not remembered: the same key
   * may be tried again.
   */
  transfer(cmd: TransferCommand): Promise<TransferDone>;
  /** The balance of an account, transfers in flight included. */
  balance(account: string): number;
  /** The first result of a committed transfer under `key` (replayed: true), if there is one. */
  find(key: string): TransferDone | undefined;
  /** Committed balances of the accounts starting with `prefix` (transfers in flight included for those already known), zero ones left out. */
  balancesOf(prefix: string): Record<string, number>;
  /** Σ of what was paid (the payer's side) in committed transfers of one kind under `ref`, and how many. */
  totalOf(ref: string, kind: TransferKind): { amount: number; transfers: number };
}

/** Balances kept in memory before they are dropped (at a moment when no transfer is in flight). */
const MAX_CACHED_ACCOUNTS = 200_000;

/** Accounts that may go below zero. */
const MAY_GO_NEGATIVE = new Set(['mint', 'promo', 'items']);

/** Whether an account counts items (backpacks) rather than credits. */
export const isItemAccount = (account: string) => account === 'items' || account.startsWith('bag:');

interface Queued {
  cmd: TransferCommand;
  id: number;
  fingerprint: string;
  balances: Record<string, number>;
  resolve: (done: TransferDone) => void;
  reject: (err: Error) => void;
}

interface StoredTransfer {
  id: number;
  kind: TransferKind;
  fingerprint: string;
  at: number;
  result: string;
}


/**
 * The SQLite ledger: decides each transfer at once against balances held in
 * memory (loaded per account on first use, with the transfers still in flight
 * applied), then writes the whole batch of one turn inside the node's group
 * commit and answers each after that commit. If a commit fails, its transfers
 * are refused and the balances they touched are read again from what is stored.
 */
export class SqliteLedger implements Ledger {
  private readonly balances = new Map<string, number>();
  /** Keys in flight (decided, not yet committed): a retry joins the first attempt. */
  private readonly inFlight = new Map<string, { fingerprint: string; done: Promise<TransferDone> }>();
  private batch: Queued[] | undefined;
  private nextId: number;

  private readonly selectBalance: Database.Statement;
  private readonly selectTransfer: Database.Statement;
  private readonly insertTransfer: Database.Statement;
  private readonly insertEntry: Database.Statement;
  private readonly upsertAccount: Database.Statement;
  private readonly selectTotal: Database.Statement;
  private readonly selectPrefix: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.selectBalance = db.prepare('SELECT balance FROM ledger_accounts WHERE account = ?').pluck();
    this.selectTransfer = db.prepare('SELECT id, kind, fingerprint, at, result FROM ledger_transfers WHERE key = ?');
    this.insertTransfer = db.prepare('INSERT INTO ledger_transfers (id, key, kind, fingerprint, at, ref, amount, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.selectPrefix = db.prepare('SELECT account, balance FROM ledger_accounts WHERE account >= ? AND account < ?').raw();
    this.selectTotal = db.prepare('SELECT coalesce(sum(amount), 0) AS amount, count(*) AS transfers FROM ledger_transfers WHERE ref = ? AND kind = ?');
    this.insertEntry = db.prepare('INSERT INTO ledger_entries (transfer_id, account, delta, balance) VALUES (?, ?, ?, ?)');
    this.upsertAccount = db.prepare(
      'INSERT INTO ledger_accounts (account, balance, updated_at) VALUES (?, ?, ?) ON CONFLICT (account) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at',
    );
    this.nextId = ((db.prepare('SELECT max(id) FROM ledger_transfers').pluck().get() as number | null) ?? 0) + 1;
  }

  balance(account: string): number {
    let balance = this.balances.get(account);
    if (balance === undefined) {
      balance = (this.selectBalance.get(account) as number | undefined) ?? 0;
      this.balances.set(account, balance);
    }
    return balance;
  }

  balancesOf(prefix: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [account, stored] of this.selectPrefix.all(prefix, `${prefix}\uffff`) as Array<[string, number]>) {
      const balance = this.balances.get(account) ?? stored;
      if (balance !== 0) out[account] = balance;
    }
    return out;
  }

  find(key: string): TransferDone | undefined {
    const stored = this.selectTransfer.get(key) as StoredTransfer | undefined;
    return stored && replay(key, stored);
  }

  totalOf(ref: string, kind: TransferKind): { amount: number; transfers: number } {
    return this.selectTotal.get(ref, kind) as { amount: number; transfers: number };
  }

  transfer(cmd: TransferCommand): Promise<TransferDone> {
    try {
      checkTransfer(cmd);
    } catch (err) {
      return Promise.reject(err);
    }
    const fingerprint = fingerprintOf(cmd);
    const flying = this.inFlight.get(cmd.key);
    if (flying) {
      if (flying.fingerprint !== fingerprint) return Promise.reject(keyReused(cmd.key));
      return flying.done.then((done) => ({ ...done, replayed: true }));
    }
    const stored = this.selectTransfer.get(cmd.key) as StoredTransfer | undefined;
    if (stored) {
      if (stored.fingerprint !== fingerprint) return Promise.reject(keyReused(cmd.key));
      return Promise.resolve(replay(cmd.key, stored));
    }
    // Decide now, against the balances as they will be once everything in flight commits.
    const after: Record<string, number> = {};
    for (const leg of cmd.legs) {
      const next = this.balance(leg.account) + leg.delta;
      if (next < 0 && !MAY_GO_NEGATIVE.has(leg.account)) {
        return Promise.reject(new LedgerError('INSUFFICIENT_CREDIT', `${leg.account} has ${this.balance(leg.account)}, needs ${-leg.delta}`, leg.account));
      }
      if (!Number.isSafeInteger(next)) return Promise.reject(new LedgerError('BAD_TRANSFER', `${leg.account} would overflow`, leg.account));
      after[leg.account] = next;
    }
    for (const [account, balance] of Object.entries(after)) this.balances.set(account, balance);
    let queued!: Queued;
    const done = new Promise<TransferDone>((resolve, reject) => {
      queued = { cmd, id: this.nextId++, fingerprint, balances: after, resolve, reject };
    });
    this.inFlight.set(cmd.key, { fingerprint, done });
    if (this.batch) this.batch.push(queued);
    else {
      const batch = [queued];
      this.batch = batch;
      this.commits.submit({ apply: () => this.write(batch), done: (err) => this.settle(batch, err) });
    }
    return done;
  }

  /** Inside the group commit: the batch's transfers, entries, and each touched account once. */
  private write(batch: Queued[]): void {
    if (this.batch === batch) this.batch = undefined;
    const touched = new Map<string, [balance: number, at: number]>();
    for (const q of batch) {
      const { cmd } = q;
      const amount = cmd.legs.reduce((sum, leg) => sum + Math.max(0, leg.delta), 0);
      this.insertTransfer.run(q.id, cmd.key, cmd.kind, q.fingerprint, cmd.at, cmd.ref ?? null, amount, JSON.stringify({ balances: q.balances, meta: cmd.meta ?? {}, note: cmd.note ?? {} }));
      for (const leg of cmd.legs) {
        const balance = q.balances[leg.account]!;
        this.insertEntry.run(q.id, leg.account, leg.delta, balance);
        touched.set(leg.account, [balance, cmd.at]);
      }
    }
    for (const [account, [balance, at]] of touched) this.upsertAccount.run(account, balance, at);
  }

  private settle(batch: Queued[], err?: Error): void {
    if (this.batch === batch) this.batch = undefined;
    if (err) {
      // What memory says of these accounts did not reach the disk: read them again when next used.
      for (const q of batch) for (const leg of q.cmd.legs) this.balances.delete(leg.account);
    }
    // Nothing in flight: memory may forget accounts (they are read again from the table when used).
    if (this.balances.size > MAX_CACHED_ACCOUNTS && this.inFlight.size === batch.length) this.balances.clear();
    for (const q of batch) {
      this.inFlight.delete(q.cmd.key);
      if (err) q.reject(new LedgerError('STORAGE', `transfer ${q.cmd.key} not stored: ${err.message}`));
      else q.resolve({ transferId: q.id, key: q.cmd.key, kind: q.cmd.kind, at: q.cmd.at, balances: q.balances, meta: { ...(q.cmd.meta ?? {}) }, note: { ...(q.cmd.note ?? {}) }, replayed: false });
    }
  }
}

function keyReused(key: string): LedgerError {
  return new LedgerError('KEY_REUSED', `key ${key} was used for a different transfer`);
}

function replay(key: string, stored: StoredTransfer): TransferDone {
  const { balances, meta, note } = JSON.parse(stored.result) as Pick<TransferDone, 'balances' | 'meta' | 'note'>;
  return { transferId: stored.id, key, kind: stored.kind, at: stored.at, balances, meta, note, replayed: true };
}

/** The identity of a transfer's parameters: the same key must come with the same ones. */
function fingerprintOf(cmd: TransferCommand): string {
  const legs = [...cmd.legs].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0)).map((l) => [l.account, l.delta]);
  const meta = Object.keys(cmd.meta ?? {})
    .sort()
    .map((k) => [k, cmd.meta![k]]);
  return JSON.stringify([cmd.kind, legs, meta, cmd.ref ?? null]);
}

function checkTransfer(cmd: TransferCommand): void {
  const bad = (why: string) => new LedgerError('BAD_TRANSFER', `transfer ${cmd.key}: ${why}`);
  if (typeof cmd.key !== 'string' || cmd.key.length === 0 || cmd.key.length > 200) throw bad('key must be 1–200 characters');
  if (cmd.legs.length < 2) throw bad('needs at least two legs');
  const seen = new Set<string>();
  let sum = 0;
  for (const leg of cmd.legs) {
    if (!Number.isSafeInteger(leg.delta) || leg.delta === 0) throw bad(`amount ${leg.delta} of ${leg.account} is not a non-zero integer`);
    if (seen.has(leg.account)) throw bad(`account ${leg.account} repeated`);
    seen.add(leg.account);
    sum += leg.delta;
  }
  if (sum !== 0) throw bad(`legs sum to ${sum}, not 0`);
}
