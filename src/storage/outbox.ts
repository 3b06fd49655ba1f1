import type Database from 'better-sqlite3';

/** One push waiting in (or gone through) the outbox. `id` is the delivery id the gateway dedupes on. */
export interface OutboxItem {
  id: number;
  userId: number;
  kind: string;
  payload: unknown;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number | null;
  status: 'pending' | 'delivered' | 'dead';
  lastError: string | null;
}

export interface OutboxBacklog {
  pending: number;
  dead: number;
  /** created_at of the oldest pending item (null: none pending). */
  oldestPendingAt: number | null;
  /** The most recently dead items, newest first. */
  lastDead: OutboxItem[];
}

/**
 * The push outbox. Per user, pending items go out one at a time in id order:
 * only the head of a user's queue has a `nextAttemptAt`; the others wait
 * (null) and are promoted when the head is delivered or dead. The writing
 * methods run inside the journal engine's commit (durable writes, CommitWork).
 */
export interface OutboxStore {
  /** A new item for `userId`: the head of its queue (due at `at`) if the user has nothing pending, else behind the rest. */
  append(userId: number, kind: string, payload: unknown, at: number): void;
  /** Heads due at `now`, soonest first. */
  due(now: number, limit: number): OutboxItem[];
  /** The earliest `nextAttemptAt` after `now` (null: none). */
  nextDueAfter(now: number): number | null;
  delivered(id: number, attempts: number, at: number): void;
  /** A failed attempt to be retried at `nextAt`. */
  failed(id: number, attempts: number, nextAt: number, error: string, at: number): void;
  dead(id: number, attempts: number, error: string, at: number): void;
  /** A dead item back to pending with no attempts (behind the user's head, if it has one). False: no dead item with that id. */
  retryDead(id: number, at: number): boolean;
  get(id: number): OutboxItem | undefined;
  backlog(deadLimit: number): OutboxBacklog;
  /** Deletes up to `limit` delivered items last updated before `before`, oldest first; returns how many. */
  pruneDelivered(before: number, limit: number): number;
}

interface Row {
  id: number;
  user_id: number;
  kind: string;
  payload: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number | null;
  status: OutboxItem['status'];
  last_error: string | null;
}

const itemOf = (r: Row): OutboxItem => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
  payload: JSON.parse(r.payload) as unknown,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  status: r.status,
  lastError: r.last_error,
});

/** The outbox as an SQLite table (migration 10). */
export class SqliteOutboxStore implements OutboxStore {
  private readonly st: Record<string, Database.Statement>;

  constructor(db: Database.Database) {
    this.st = {
      hasPending: db.prepare("SELECT 1 FROM outbox WHERE user_id = ? AND status = 'pending' LIMIT 1").pluck(),
      insert: db.prepare('INSERT INTO outbox (user_id, kind, payload, created_at, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      due: db.prepare("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"),
      nextDue: db.prepare("SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at > ?").pluck(),
      finish: db.prepare("UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = NULL, last_error = ?, updated_at = ? WHERE id = ? AND status = 'pending'"),
      promote: db.prepare(
        "UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE id = (SELECT id FROM outbox WHERE user_id = ? AND status = 'pending' ORDER BY id LIMIT 1) AND next_attempt_at IS NULL",
      ),
      failed: db.prepare("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = 'pending'"),
      deadUser: db.prepare("SELECT user_id FROM outbox WHERE id = ? AND status = 'dead'").pluck(),
      revive: db.prepare("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?"),
      get: db.prepare('SELECT * FROM outbox WHERE id = ?'),
      pending: db.prepare("SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE status = 'pending'"),
      deadCount: db.prepare("SELECT count(*) FROM outbox WHERE status = 'dead'").pluck(),
      lastDead: db.prepare("SELECT * FROM outbox WHERE status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT ?"),
      prune: db.prepare(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'delivered' AND updated_at < ? ORDER BY updated_at LIMIT ?)",
      ),
    };
  }

  pruneDelivered(before: number, limit: number): number {
    return this.st.prune!.run(before, limit).changes;
  }

  append(userId: number, kind: string, payload: unknown, at: number): void {
    const behind = this.st.hasPending!.get(userId) !== undefined;
    this.st.insert!.run(userId, kind, JSON.stringify(payload ?? null), at, behind ? null : at, at);
  }

  due(now: number, limit: number): OutboxItem[] {
    return (this.st.due!.all(now, limit) as Row[]).map(itemOf);
  }

  nextDueAfter(now: number): number | null {
    return (this.st.nextDue!.get(now) as number | null) ?? null;
  }

  delivered(id: number, attempts: number, at: number): void {
    this.finish(id, 'delivered', attempts, null, at);
  }

  failed(id: number, attempts: number, nextAt: number, error: string, at: number): void {
    this.st.failed!.run(attempts, nextAt, error, at, id);
  }

  dead(id: number, attempts: number, error: string, at: number): void {
    this.finish(id, 'dead', attempts, error, at);
  }

  retryDead(id: number, at: number): boolean {
    const userId = this.st.deadUser!.get(id) as number | undefined;
    if (userId === undefined) return false;
    const behind = this.st.hasPending!.get(userId) !== undefined;
    this.st.revive!.run(behind ? null : at, at, id);
    return true;
  }

  get(id: number): OutboxItem | undefined {
    const row = this.st.get!.get(id) as Row | undefined;
    return row && itemOf(row);
  }

  backlog(deadLimit: number): OutboxBacklog {
    const pending = this.st.pending!.get() as { n: number; oldest: number | null };
    return {
      pending: pending.n,
      dead: this.st.deadCount!.get() as number,
      oldestPendingAt: pending.oldest,
      lastDead: (this.st.lastDead!.all(deadLimit) as Row[]).map(itemOf),
    };
  }

  /** Ends the head's turn and promotes the next pending item of its user (due at once). */
  private finish(id: number, status: 'delivered' | 'dead', attempts: number, error: string | null, at: number): void {
    const current = this.st.get!.get(id) as Row | undefined;
    if (!current || current.status !== 'pending') return;
    this.st.finish!.run(status, attempts, error, at, id);
    this.st.promote!.run(at, at, current.user_id);
  }
}
