import type Database from 'better-sqlite3';

/**
 * Room ids and which rooms are open. The unique partial index makes "one open
 * room per host" hold even across crashes; open rooms are woken at start.
 */
export class RoomRegistry {
  private readonly insert: Database.Statement;
  private readonly openOf: Database.Statement;
  private readonly close: Database.Statement;
  private readonly allOpen: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare('INSERT INTO rooms (host_id, opened_at) VALUES (?, ?) RETURNING id').pluck();
    this.openOf = db.prepare('SELECT id FROM rooms WHERE host_id = ? AND closed_at IS NULL').pluck();
    this.close = db.prepare('UPDATE rooms SET closed_at = ? WHERE id = ? AND closed_at IS NULL');
    this.allOpen = db.prepare('SELECT id, host_id AS hostId FROM rooms WHERE closed_at IS NULL ORDER BY id');
  }

  /** A new room id for the host, or null when the host already has an open room. */
  create(hostId: number, at: number): number | null {
    try {
      return this.insert.get(hostId, at) as number;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return null;
      throw err;
    }
  }

  openRoomOf(hostId: number): number | undefined {
    return this.openOf.get(hostId) as number | undefined;
  }

  markClosed(roomId: number, at: number): void {
    this.close.run(at, roomId);
  }

  openRooms(): Array<{ id: number; hostId: number }> {
    return this.allOpen.all() as Array<{ id: number; hostId: number }>;
  }
}
