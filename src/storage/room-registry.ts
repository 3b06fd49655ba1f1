import type Database from 'better-sqlite3';

/**
 * Room ids and which rooms are open. Rows are written only as durable writes
 * of the room actor's journal entries (opened, ended), so a row is open
 * exactly when the room's opening is journaled and its end is not. The
 * unique partial index keeps "one open room per host" even against a bug.
 * Closed rows stay as the history of lives, with their totals.
 */
export class RoomRegistry {
  private readonly insert: Database.Statement;
  private readonly close: Database.Statement;
  private readonly allOpen: Database.Statement;
  private readonly maxId: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare('INSERT INTO rooms (id, host_id, opened_at) VALUES (?, ?, ?)');
    this.close = db.prepare('UPDATE rooms SET closed_at = ?, totals = ? WHERE id = ? AND closed_at IS NULL');
    this.allOpen = db.prepare('SELECT id, host_id AS hostId FROM rooms WHERE closed_at IS NULL ORDER BY id');
    this.maxId = db.prepare('SELECT coalesce(max(id), 0) FROM rooms').pluck();
  }

  /** The highest room id ever stored; new ids are allocated above it. */
  lastId(): number {
    return this.maxId.get() as number;
  }

  insertOpen(roomId: number, hostId: number, at: number): void {
    this.insert.run(roomId, hostId, at);
  }

  markClosed(roomId: number, at: number, totals: Record<string, number> | null = null): void {
    this.close.run(at, totals === null ? null : JSON.stringify(totals), roomId);
  }

  openRooms(): Array<{ id: number; hostId: number }> {
    return this.allOpen.all() as Array<{ id: number; hostId: number }>;
  }
}
