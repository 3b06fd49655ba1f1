import type Database from 'better-sqlite3';
import { DeadlineIndex } from './deadline-index.js';
import { BookingStore, type BookingRow } from './bookings.js';
import { PrivateShowStore, type InviteRow } from './private-shows.js';
import { RoomRegistry } from './room-registry.js';
import { SqliteOutboxStore } from './outbox.js';
import { TalentRequestStore, type TalentRequestRow } from './talents.js';

/**
 * Writes to storage tables that belong to one journal entry: the journal
 * engine applies them in the same transaction as the entry (same group
 * commit, same fsync), so the entry and its side rows are stored together or
 * not at all. Actors describe them as data; only this module knows the SQL.
 */
export type DurableWrite =
  /** A room opened: its registry row (one open room per host, unique index). */
  | { t: 'room.open'; roomId: number; hostId: number; at: number }
  /** A room closed: the row keeps its totals; the room actor's journal and snapshots are dropped. */
  | { t: 'room.close'; roomId: number; at: number; totals: Record<string, number> }
  /** An instant invitation was made (a host's desk); and its end. */
  | { t: 'invite.new'; invite: InviteRow }
  | { t: 'invite.end'; inviteId: number; status: 'accepted' | 'declined' | 'cancelled' | 'expired'; at: number }
  /** A private show was created, started, ended (a host's desk). */
  | { t: 'show.new'; showId: number; hostId: number; viewerId: number; inviteId: number | null; bookingId?: number; at: number }
  /** A booking was made; its status moved (and the show it got, once entered). */
  | { t: 'booking.new'; booking: BookingRow }
  | { t: 'booking.update'; bookingId: number; status: string; at: number; showId?: number }
  | { t: 'show.start'; showId: number; at: number }
  | { t: 'show.end'; showId: number; at: number; reason: string; durationSec: number }
  /** A talent request was made (a host's talent actor); its status moved. */
  | { t: 'talent.new'; request: TalentRequestRow }
  | { t: 'talent.update'; requestId: number; status: TalentRequestRow['status']; expiresAt: number; endedAt: number | null }
  /** The actor's next deadline moved (null: it holds none any more). */
  | { t: 'deadline'; key: string; nextAt: number | null }
  /** A push for a user who may be offline, into the push outbox (`kind`: the push's op; `payload`: its data, as JSON). */
  | { t: 'outbox'; userId: number; kind: string; payload: unknown; at: number };

export interface WriteHooks {
  /** An outbox item was written (inside the transaction: it exists once that commits). */
  outboxAppended?(userId: number): void;
}

export type WriteApplier = (write: DurableWrite) => void;

/** The SQLite applier of durable writes (run inside the journal engine's transaction). */
export function sqliteWriteApplier(db: Database.Database, hooks: WriteHooks = {}): WriteApplier {
  const rooms = new RoomRegistry(db);
  const deadlines = new DeadlineIndex(db);
  const shows = new PrivateShowStore(db);
  const bookings = new BookingStore(db);
  const outbox = new SqliteOutboxStore(db);
  const talents = new TalentRequestStore(db);
  const purgeJournal = db.prepare('DELETE FROM journal WHERE key = ?');
  const purgeSnapshots = db.prepare('DELETE FROM snapshots WHERE key = ?');
  return (w) => {
    switch (w.t) {
      case 'room.open':
        rooms.insertOpen(w.roomId, w.hostId, w.at);
        break;
      case 'room.close': {
        rooms.markClosed(w.roomId, w.at, w.totals);
        const key = `room:${w.roomId}`;
        purgeJournal.run(key);
        purgeSnapshots.run(key);
        break;
      }
      case 'invite.new':
      case 'invite.end':
      case 'show.new':
      case 'show.start':
      case 'show.end':
        shows.apply(w);
        break;
      case 'booking.new':
      case 'booking.update':
        bookings.apply(w);
        break;
      case 'talent.new':
      case 'talent.update':
        talents.apply(w);
        break;
      case 'deadline':
        if (w.nextAt === null) deadlines.clear(w.key);
        else deadlines.set(w.key, w.nextAt);
        break;
      case 'outbox':
        outbox.append(w.userId, w.kind, w.payload, w.at);
        hooks.outboxAppended?.(w.userId);
        break;
    }
  };
}
