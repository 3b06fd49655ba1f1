import type Database from 'better-sqlite3';
import type { DurableWrite } from './durable-writes.js';
import { partiesOf, type PartiesRow } from './private-shows.js';

/** A booking as stored. */
export interface BookingRow extends PartiesRow {
  startsAt: number;
  durationMin: number;
  status: string;
  showId: number | null;
}

export type BookingListState = 'pending' | 'upcoming' | 'closed';

type BookingWrite = Extract<DurableWrite, { t: 'booking.new' | 'booking.update' }>;

const FILTERS: Record<BookingListState, string> = {
  pending: "status = 'pending' ORDER BY starts_at, id",
  upcoming: "status IN ('accepted', 'due') ORDER BY starts_at, id",
  closed: "status NOT IN ('pending', 'accepted', 'due') ORDER BY id DESC",
};

/**
 * Bookings as a table: written only as durable writes of the desks' journal
 * entries (the host's desk decides), read for lists, counts and "whose is
 * this id".
 */
export class BookingStore {
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly maxId: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly pages: Record<BookingListState, { rows: Database.Statement; total: Database.Statement }>;
  private readonly received: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO bookings (id, host_id, viewer_id, from_role, host, viewer, created_at, starts_at, duration_min, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.update = db.prepare('UPDATE bookings SET status = ?, updated_at = ?, show_id = coalesce(?, show_id) WHERE id = ?');
    this.maxId = db.prepare('SELECT coalesce(max(id), 0) FROM bookings').pluck();
    this.byId = db.prepare("SELECT id, host_id AS hostId, viewer_id AS viewerId, from_role AS 'from', status FROM bookings WHERE id = ?");
    const mine = "(CASE WHEN @role = 'host' THEN host_id ELSE viewer_id END) = @userId";
    const page = (state: BookingListState) => ({
      rows: db.prepare(`SELECT * FROM bookings WHERE ${mine} AND ${FILTERS[state]} LIMIT @limit OFFSET @offset`),
      total: db.prepare(`SELECT count(*) FROM bookings WHERE ${mine} AND ${FILTERS[state].replace(/ ORDER BY.*/, '')}`).pluck(),
    });
    this.pages = { pending: page('pending'), upcoming: page('upcoming'), closed: page('closed') };
    this.received = db.prepare(
      `SELECT count(*) AS total, coalesce(sum(id > @seen), 0) AS unread FROM bookings WHERE ${mine} AND status = 'pending' AND from_role <> @role`,
    );
  }

  apply(w: BookingWrite): void {
    if (w.t === 'booking.new') {
      const b = w.booking;
      this.insert.run(b.id, b.hostId, b.viewerId, b.from, JSON.stringify(b.host), JSON.stringify(b.viewer), b.createdAt, b.startsAt, b.durationMin, b.createdAt);
    } else {
      this.update.run(w.status, w.at, w.showId ?? null, w.bookingId);
    }
  }

  lastId(): number {
    return this.maxId.get() as number;
  }

  ref(id: number): { id: number; hostId: number; viewerId: number; from: 'viewer' | 'host'; status: string } | undefined {
    return this.byId.get(id) as ReturnType<BookingStore['ref']>;
  }

  page(userId: number, role: 'viewer' | 'host', state: BookingListState, page: number, pageSize: number): { total: number; rows: BookingRow[] } {
    const q = this.pages[state];
    const rows = (q.rows.all({ userId, role, limit: pageSize, offset: (page - 1) * pageSize }) as Array<Record<string, unknown>>).map((r) => ({
      ...partiesOf(r),
      startsAt: r.starts_at as number,
      durationMin: r.duration_min as number,
      status: r.status as string,
      showId: (r.show_id as number | null) ?? null,
    }));
    return { total: q.total.get({ userId, role }) as number, rows };
  }

  receivedCount(userId: number, role: 'viewer' | 'host', seen: number): { total: number; unread: number } {
    return this.received.get({ userId, role, seen }) as { total: number; unread: number };
  }
}
