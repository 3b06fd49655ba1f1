import type Database from 'better-sqlite3';

/**
 * Each actor holding deadlines (countdowns, expiries, billing minutes) with
 * its next due time. The deadlines themselves live in the actor's journaled
 * state; this index is written in the same commit as the journal entry that
 * moved them, and at start a timer is armed per row from `next_at`, so an
 * actor is recovered only when its deadline is due or a message comes.
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
    this.byPrefix = db.prepare('SELECT key, next_at FROM actor_deadlines WHERE key >= ? AND key < ?').raw();
  }

  set(key: string, nextAt: number): void {
    this.upsert.run(key, nextAt);
  }

  clear(key: string): void {
    this.remove.run(key);
  }

  /** Calls `fn` for each actor of one kind (`<kind>:…`) holding deadlines. */
  eachDue(kind: string, fn: (key: string, nextAt: number) => void): void {
    // ';' sorts right after ':', so [kind:, kind;) is exactly the kind's keys. Raw rows streamed:
    // at start this reads every pending deadline, and 100k row objects would only feed the GC.
    for (const [key, nextAt] of this.byPrefix.iterate(`${kind}:`, `${kind};`) as IterableIterator<[string, number]>) fn(key, nextAt);
  }

  /** Keys of one actor kind that hold deadlines. */
  keysOf(kind: string): string[] {
    const keys: string[] = [];
    this.eachDue(kind, (key) => keys.push(key));
    return keys;
  }
}
