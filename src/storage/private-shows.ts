import type Database from 'better-sqlite3';
import type { Profile } from '../protocol/schemas.js';
import type { DurableWrite } from './durable-writes.js';

/** The two parties of an invitation or a booking, as both are stored. */
export interface PartiesRow {
  id: number;
  hostId: number;
  viewerId: number;
  from: 'viewer' | 'host';
  host: Profile;
  viewer: Profile;
  createdAt: number;
}

/** Reads the shared columns of an `invites` or `bookings` row. */
export function partiesOf(r: Record<string, unknown>): PartiesRow {
  return {
    id: r.id as number,
    hostId: r.host_id as number,
    viewerId: r.viewer_id as number,
    from: r.from_role as 'viewer' | 'host',
    host: JSON.parse(r.host as string) as Profile,
    viewer: JSON.parse(r.viewer as string) as Profile,
    createdAt: r.created_at as number,
  };
}

/** An invitation as stored (the desk's Invite). */
export interface InviteRow extends PartiesRow {
  expiresAt: number;
}

export interface InviteRef {
  id: number;
  hostId: number;
  viewerId: number;
  from: 'viewer' | 'host';
}

export interface ShowRef {
  id: number;
  hostId: number;
  viewerId: number;
  ended: boolean;
}

type ShowWrite = Extract<DurableWrite, { t: 'invite.new' | 'invite.end' | 'show.new' | 'show.start' | 'show.end' }>;

/**
 * Invitations and private shows as tables: written only as durable writes of
 * the desks' journal entries (the desks decide), read for lists, counts and
 * "whose is this id". A pending row whose expiry passed while the server was
 * down counts as gone to readers before its desk catches up.
 */
export class PrivateShowStore {
  private readonly st: Record<string, Database.Statement>;

  constructor(db: Database.Database) {
    const pendingOf = `status = 'pending' AND expires_at > @now AND (CASE WHEN @role = 'host' THEN host_id ELSE viewer_id END) = @userId`;
    this.st = {
      insertInvite: db.prepare(
        'INSERT INTO invites (id, host_id, viewer_id, from_role, host, viewer, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      endInvite: db.prepare("UPDATE invites SET status = ?, ended_at = ? WHERE id = ? AND status = 'pending'"),
      insertShow: db.prepare('INSERT INTO shows (id, host_id, viewer_id, invite_id, booking_id, accepted_at) VALUES (?, ?, ?, ?, ?, ?)'),
      startShow: db.prepare('UPDATE shows SET started_at = ? WHERE id = ?'),
      endShow: db.prepare('UPDATE shows SET ended_at = ?, end_reason = ?, duration_sec = ? WHERE id = ? AND ended_at IS NULL'),
      maxInvite: db.prepare('SELECT coalesce(max(id), 0) FROM invites').pluck(),
      maxShow: db.prepare('SELECT coalesce(max(id), 0) FROM shows').pluck(),
      invite: db.prepare("SELECT id, host_id AS hostId, viewer_id AS viewerId, from_role AS 'from' FROM invites WHERE id = ? AND status = 'pending' AND expires_at > ?"),
      show: db.prepare('SELECT id, host_id AS hostId, viewer_id AS viewerId, ended_at IS NOT NULL AS ended FROM shows WHERE id = ?'),
      liveShows: db.prepare('SELECT id, host_id AS hostId, viewer_id AS viewerId, 0 AS ended FROM shows WHERE ended_at IS NULL'),
      sentPending: db.prepare(`SELECT id, host_id AS hostId, viewer_id AS viewerId, from_role AS 'from' FROM invites WHERE ${pendingOf} AND from_role = @role ORDER BY id`),
      page: db.prepare(`SELECT * FROM invites WHERE ${pendingOf} ORDER BY id DESC LIMIT @limit OFFSET @offset`),
      total: db.prepare(`SELECT count(*) FROM invites WHERE ${pendingOf}`).pluck(),
      received: db.prepare(`SELECT count(*) AS total, coalesce(sum(id > @seen), 0) AS unread FROM invites WHERE ${pendingOf} AND from_role <> @role`),
    };
  }

  apply(w: ShowWrite): void {
    switch (w.t) {
      case 'invite.new': {
        const i = w.invite;
        this.st.insertInvite!.run(i.id, i.hostId, i.viewerId, i.from, JSON.stringify(i.host), JSON.stringify(i.viewer), i.createdAt, i.expiresAt);
        break;
      }
      case 'invite.end':
        this.st.endInvite!.run(w.status, w.at, w.inviteId);
        break;
      case 'show.new':
        this.st.insertShow!.run(w.showId, w.hostId, w.viewerId, w.inviteId, w.bookingId ?? null, w.at);
        break;
      case 'show.start':
        this.st.startShow!.run(w.at, w.showId);
        break;
      case 'show.end':
        this.st.endShow!.run(w.at, w.reason, w.durationSec, w.showId);
        break;
    }
  }

  /** The highest ids stored; new ones are allocated above them. */
  lastIds(): { invite: number; show: number } {
    return { invite: this.st.maxInvite!.get() as number, show: this.st.maxShow!.get() as number };
  }

  /** A pending, unexpired invitation. */
  pendingInvite(id: number, now: number): InviteRef | undefined {
    return this.st.invite!.get(id, now) as InviteRef | undefined;
  }

  show(id: number): ShowRef | undefined {
    const row = this.st.show!.get(id) as (Omit<ShowRef, 'ended'> & { ended: number }) | undefined;
    return row && { ...row, ended: row.ended === 1 };
  }

  liveShows(): ShowRef[] {
    return (this.st.liveShows!.all() as Array<Omit<ShowRef, 'ended'>>).map((r) => ({ ...r, ended: false }));
  }

  /** Pending invitations a user sent (a user of `role` sends as that role). */
  sentPending(userId: number, role: 'viewer' | 'host', now: number): InviteRef[] {
    return this.st.sentPending!.all({ userId, role, now }) as InviteRef[];
  }

  /** A user's pending invitations, sent and received, newest first. */
  pendingPage(userId: number, role: 'viewer' | 'host', now: number, page: number, pageSize: number): { total: number; rows: InviteRow[] } {
    const args = { userId, role, now, limit: pageSize, offset: (page - 1) * pageSize };
    const rows = (this.st.page!.all(args) as Array<Record<string, unknown>>).map((r) => ({ ...partiesOf(r), expiresAt: r.expires_at as number }));
    return { total: this.st.total!.get({ userId, role, now }) as number, rows };
  }

  /** Pending invitations the user received: all, and those with an id above `seen`. */
  receivedCount(userId: number, role: 'viewer' | 'host', now: number, seen: number): { total: number; unread: number } {
    return this.st.received!.get({ userId, role, now, seen }) as { total: number; unread: number };
  }
}
