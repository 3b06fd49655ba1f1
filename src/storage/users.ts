import type Database from 'better-sqlite3';
import type { Profile } from '../protocol/schemas.js';
import { committed, type CommitQueue } from './commit-queue.js';

export type UserRole = 'host' | 'viewer';

/** What the server remembers of a user across restarts: a row, not a live actor. */
export interface UserRecord {
  userId: number;
  role: UserRole;
  profile: Profile;
  /** Latest socket session id (F12): the media service and kicks refer to it. */
  latestSessionId: string;
  logins: number;
  firstLoginAt: number;
  lastLoginAt: number;
  lastSeenAt: number | null;
  /** Received invitations / bookings with ids up to these were listed (the unread counts). */
  invitesSeen: number;
  bookingsSeen: number;
}

export type SeenList = 'invitesSeen' | 'bookingsSeen';

/**
 * Users known to the server (logged in at least once). Writes ride the
 * node's group commit and resolve after it, in the order they were made (a
 * user's login, logout and "seen" marks come from that user's lane); reads
 * go to what is committed. A user who never logged in has no row: looking
 * them up creates nothing. A PostgreSQL implementation will implement the
 * same interface when the server runs on several nodes.
 */
export interface UserStore {
  get(userId: number): UserRecord | undefined;
  /** Whether the user ever logged in (a primary-key probe: nothing is parsed). */
  known(userId: number): boolean;
  /** One "seen" mark (0 for an unknown user), without reading the rest of the row. */
  seenMark(userId: number, list: SeenList): number;
  /** A login: the row is created or updated (latest session, profile, role, count) once committed. */
  login(userId: number, sessionId: string, role: UserRole, profile: Profile, at: number): Promise<void>;
  /** A session ended: last seen, unless a newer session replaced it (then nothing changes). */
  logout(userId: number, sessionId: string, at: number): Promise<void>;
  /** Received items up to `upto` were listed; a lower mark than the stored one changes nothing. */
  seen(userId: number, list: SeenList, upto: number): Promise<void>;
}

/** Every statement of the store (the query-plan test reads them from here). */
export const USER_SQL = {
  get: `SELECT user_id, role, profile, latest_session_id, logins, first_login_at, last_login_at, last_seen_at, invites_seen, bookings_seen
        FROM users WHERE user_id = ?`,
  login: `INSERT INTO users (user_id, role, profile, latest_session_id, logins, first_login_at, last_login_at)
          VALUES (@userId, @role, @profile, @sessionId, 1, @at, @at)
          ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, profile = excluded.profile,
            latest_session_id = excluded.latest_session_id, logins = logins + 1, last_login_at = excluded.last_login_at`,
  known: 'SELECT 1 FROM users WHERE user_id = ?',
  invitesSeenOf: 'SELECT invites_seen FROM users WHERE user_id = ?',
  bookingsSeenOf: 'SELECT bookings_seen FROM users WHERE user_id = ?',
  logout: 'UPDATE users SET last_seen_at = ? WHERE user_id = ? AND latest_session_id = ?',
  invitesSeen: 'UPDATE users SET invites_seen = ? WHERE user_id = ? AND invites_seen < ?',
  bookingsSeen: 'UPDATE users SET bookings_seen = ? WHERE user_id = ? AND bookings_seen < ?',
  /** A user from an earlier build's journal; a row already there keeps whichever login is newer, and the larger counts and marks. */
  merge: `INSERT INTO users
             (user_id, role, profile, latest_session_id, logins, first_login_at, last_login_at, last_seen_at, invites_seen, bookings_seen)
           VALUES (@userId, @role, @profile, @latestSessionId, @logins, @firstLoginAt, @lastLoginAt, @lastSeenAt, @invitesSeen, @bookingsSeen)
           ON CONFLICT (user_id) DO UPDATE SET
             role = CASE WHEN excluded.last_login_at > last_login_at THEN excluded.role ELSE role END,
             profile = CASE WHEN excluded.last_login_at > last_login_at THEN excluded.profile ELSE profile END,
             latest_session_id = CASE WHEN excluded.last_login_at > last_login_at THEN excluded.latest_session_id ELSE latest_session_id END,
             logins = max(logins, excluded.logins),
             first_login_at = min(first_login_at, excluded.first_login_at),
             last_login_at = max(last_login_at, excluded.last_login_at),
             last_seen_at = coalesce(max(last_seen_at, excluded.last_seen_at), last_seen_at, excluded.last_seen_at),
             invites_seen = max(invites_seen, excluded.invites_seen),
             bookings_seen = max(bookings_seen, excluded.bookings_seen)`,
} as const;

interface UserRow {
  user_id: number;
  role: UserRole;
  profile: string;
  latest_session_id: string;
  logins: number;
  first_login_at: number;
  last_login_at: number;
  last_seen_at: number | null;
  invites_seen: number;
  bookings_seen: number;
}

export class SqliteUserStore implements UserStore {
  private readonly st: { [K in keyof typeof USER_SQL]: Database.Statement };

  constructor(
    private readonly db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.st = Object.fromEntries(Object.entries(USER_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as SqliteUserStore['st'];
    for (const single of [this.st.known, this.st.invitesSeenOf, this.st.bookingsSeenOf]) single.pluck();
  }

  get(userId: number): UserRecord | undefined {
    const r = this.st.get.get(userId) as UserRow | undefined;
    if (!r) return undefined;
    return {
      userId: r.user_id,
      role: r.role,
      profile: JSON.parse(r.profile) as Profile,
      latestSessionId: r.latest_session_id,
      logins: r.logins,
      firstLoginAt: r.first_login_at,
      lastLoginAt: r.last_login_at,
      lastSeenAt: r.last_seen_at,
      invitesSeen: r.invites_seen,
      bookingsSeen: r.bookings_seen,
    };
  }

  known(userId: number): boolean {
    return this.st.known.get(userId) === 1;
  }

  seenMark(userId: number, list: SeenList): number {
    const st = list === 'invitesSeen' ? this.st.invitesSeenOf : this.st.bookingsSeenOf;
    return (st.get(userId) as number | undefined) ?? 0;
  }

  login(userId: number, sessionId: string, role: UserRole, profile: Profile, at: number): Promise<void> {
    const params = { userId, role, profile: JSON.stringify(profile), sessionId, at };
    return committed(this.commits, () => void this.st.login.run(params));
  }

  logout(userId: number, sessionId: string, at: number): Promise<void> {
    return committed(this.commits, () => void this.st.logout.run(at, userId, sessionId));
  }

  seen(userId: number, list: SeenList, upto: number): Promise<void> {
    return committed(this.commits, () => void this.st[list].run(upto, userId, upto));
  }

  /**
   * Databases written by earlier builds kept users as `user:<id>` actor journals. Each such
   * user, as `recover` rebuilds it from its snapshot and journal, becomes a row (merged with a row
   * already there: the newer login wins, counts and marks keep the larger), and its journal and
   * snapshots go. Run at start, before anything is served, IMPORT_CHUNK users per transaction, so
   * a crash midway leaves each user either moved or still in its journal, and a restart goes on.
   * A journal that cannot be read is left in place and reported through `failed`; the others move.
   */
  async importActorJournals(
    recover: (key: string) => Promise<UserRecord | undefined>,
    failed: (key: string, err: unknown) => void,
  ): Promise<{ users: number; failed: number }> {
    const keys = this.db
      .prepare(
        `SELECT key FROM journal WHERE key >= 'user:' AND key < 'user;'
         UNION SELECT key FROM snapshots WHERE key >= 'user:' AND key < 'user;'`,
      )
      .pluck()
      .all() as string[];
    const dropJournal = this.db.prepare('DELETE FROM journal WHERE key = ?');
    const dropSnapshots = this.db.prepare('DELETE FROM snapshots WHERE key = ?');
    const move = this.db.transaction((chunk: Array<[string, UserRecord | undefined]>) => {
      for (const [key, record] of chunk) {
        if (record) this.st.merge.run({ ...record, profile: JSON.stringify(record.profile) });
        dropJournal.run(key);
        dropSnapshots.run(key);
      }
    });
    const out = { users: 0, failed: 0 };
    for (let i = 0; i < keys.length; i += IMPORT_CHUNK) {
      const chunk: Array<[string, UserRecord | undefined]> = [];
      for (const key of keys.slice(i, i + IMPORT_CHUNK)) {
        try {
          const record = await recover(key);
          chunk.push([key, record]);
          if (record) out.users++;
        } catch (err) {
          out.failed++;
          failed(key, err);
        }
      }
      move(chunk);
    }
    return out;
  }
}

/** Users moved from earlier builds' journals per transaction (one fsync each). */
const IMPORT_CHUNK = 1000;
