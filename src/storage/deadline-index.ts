import type Database from 'better-sqlite3';

/**
 * Which actors hold deadlines (countdowns, expiries, billing minutes). The
 * deadlines themselves live in each actor's journaled state; this index only
 * says whom to wake at start so their timers are armed again. A stale row
 * costs one harmless wake-up, so rows are written before the journal and
 * removed after it.
 */
export class DeadlineIndex {
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly byPrefix: Database.Statement;

  constructor(db: Database.Database) {
    this.upsert = db.prepare(
      'INSERT INTO actor_deadlines (key, next_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET next_at = excluded.next_at',
    );
    this.remove = db.prepare('DELETE FROM actor_deadlines WHERE key = ?');
    this.byPrefix = db.prepare('SELECT key FROM actor_deadlines WHERE key >= ? AND key < ? ORDER BY next_at').pluck();
  }

  set(key: string, nextAt: number): void {
    this.upsert.run(key, nextAt);
  }

  clear(key: string): void {
    this.remove.run(key);
  }

  /** Keys of one actor kind (`<kind>:…`) that hold deadlines, soonest first. */
  keysOf(kind: string): string[] {
    // ';' sorts right after ':', so [kind:, kind;) is exactly the kind's keys.
    return this.byPrefix.all(`${kind}:`, `${kind};`) as string[];
  }
}
