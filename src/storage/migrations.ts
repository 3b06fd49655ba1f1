import type Database from 'better-sqlite3';

export interface Migration {
  readonly description: string;
  readonly sql: string;
}

/**
 * Append-only: migration N (1-based) moves `PRAGMA user_version` from N-1 to N.
 * Never edit a migration that has shipped; add a new one.
 */
export const migrations: readonly Migration[] = [
  {
    description: 'journal and snapshots for persistent actors',
    sql: `
      CREATE TABLE journal (
        key        TEXT    NOT NULL,
        seq        INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        tags       TEXT    NOT NULL DEFAULT '',
        deleted    INTEGER NOT NULL DEFAULT 0,
        data       BLOB    NOT NULL,
        PRIMARY KEY (key, seq)
      ) WITHOUT ROWID;

      CREATE TABLE snapshots (
        key        TEXT    NOT NULL,
        seq        INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        data       BLOB    NOT NULL,
        PRIMARY KEY (key, seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    description: 'index of actors holding deadlines, woken at start so their timers are re-armed',
    sql: `
      CREATE TABLE actor_deadlines (
        key     TEXT    NOT NULL PRIMARY KEY,
        next_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    description: 'public rooms: ids, and at most one open room per host',
    sql: `
      CREATE TABLE rooms (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        host_id   INTEGER NOT NULL,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER
      );
      CREATE UNIQUE INDEX rooms_one_open_per_host ON rooms (host_id) WHERE closed_at IS NULL;
    `,
  },
  {
    description: 'closed rooms keep their totals (JSON) as the history of lives',
    sql: `
      ALTER TABLE rooms ADD COLUMN totals TEXT;
    `,
  },
  {
    description: 'instant invitations and private shows, written with their desk journal entries (lists, counts, lookups by id)',
    sql: `
      CREATE TABLE invites (
        id         INTEGER PRIMARY KEY,
        host_id    INTEGER NOT NULL,
        viewer_id  INTEGER NOT NULL,
        from_role  TEXT    NOT NULL,
        host       TEXT    NOT NULL,
        viewer     TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        status     TEXT    NOT NULL DEFAULT 'pending',
        ended_at   INTEGER
      );
      CREATE INDEX invites_pending_host ON invites (host_id, id) WHERE status = 'pending';
      CREATE INDEX invites_pending_viewer ON invites (viewer_id, id) WHERE status = 'pending';
      CREATE TABLE shows (
        id           INTEGER PRIMARY KEY,
        host_id      INTEGER NOT NULL,
        viewer_id    INTEGER NOT NULL,
        invite_id    INTEGER,
        accepted_at  INTEGER NOT NULL,
        started_at   INTEGER,
        ended_at     INTEGER,
        end_reason   TEXT,
        duration_sec INTEGER
      );
      CREATE UNIQUE INDEX shows_one_per_host ON shows (host_id) WHERE ended_at IS NULL;
      CREATE UNIQUE INDEX shows_one_per_viewer ON shows (viewer_id) WHERE ended_at IS NULL;
    `,
  },
  {
    description: 'bookings (scheduled private shows), written with their desk journal entries; a show may belong to a booking',
    sql: `
      CREATE TABLE bookings (
        id           INTEGER PRIMARY KEY,
        host_id      INTEGER NOT NULL,
        viewer_id    INTEGER NOT NULL,
        from_role    TEXT    NOT NULL,
        host         TEXT    NOT NULL,
        viewer       TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        starts_at    INTEGER NOT NULL,
        duration_min INTEGER NOT NULL,
        status       TEXT    NOT NULL DEFAULT 'pending',
        show_id      INTEGER,
        updated_at   INTEGER NOT NULL
      );
      CREATE INDEX bookings_host ON bookings (host_id, starts_at);
      CREATE INDEX bookings_viewer ON bookings (viewer_id, starts_at);
      ALTER TABLE shows ADD COLUMN booking_id INTEGER;
    `,
  },
  {
    description: 'the credits ledger: accounts, transfers (one per idempotency key) and their entries',
    sql: `
      CREATE TABLE ledger_accounts (
        account    TEXT    NOT NULL PRIMARY KEY,
        balance    INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE ledger_transfers (
        id          INTEGER PRIMARY KEY,
        key         TEXT    NOT NULL UNIQUE,
        kind        TEXT    NOT NULL,
        fingerprint TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        ref         TEXT,
        amount      INTEGER NOT NULL,
        result      TEXT    NOT NULL
      );
      CREATE INDEX ledger_transfers_ref ON ledger_transfers (ref, kind) WHERE ref IS NOT NULL;
      CREATE TABLE ledger_entries (
        transfer_id INTEGER NOT NULL,
        account     TEXT    NOT NULL,
        delta       INTEGER NOT NULL,
        balance     INTEGER NOT NULL,
        PRIMARY KEY (transfer_id, account)
      ) WITHOUT ROWID;
      CREATE INDEX ledger_entries_account ON ledger_entries (account, transfer_id);
    `,
  },
  {
    description: 'the gift catalog, managed through the admin API',
    sql: `
      CREATE TABLE gifts (
        id         INTEGER PRIMARY KEY,
        name       TEXT    NOT NULL,
        price      INTEGER NOT NULL,
        image      TEXT    NOT NULL,
        icon       TEXT    NOT NULL,
        type       INTEGER NOT NULL,
        sort       INTEGER NOT NULL,
        active     INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    // Each entry put a row into this index on its account's own page: a batch of gifts from
    // different senders dirtied one page per sender in every commit (about half of what a commit
    // wrote). Nothing online reads entries by account; the auditor sorts them itself.
    description: 'ledger entries are no longer indexed by account (the write cost of every commit)',
    sql: `DROP INDEX ledger_entries_account;`,
  },
  {
    description: 'who follows whom: paged newest first both ways',
    sql: `
      CREATE TABLE follows (
        follower_id INTEGER NOT NULL,
        host_id     INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        PRIMARY KEY (follower_id, host_id)
      ) WITHOUT ROWID;
      CREATE INDEX follows_following ON follows (follower_id, at, host_id);
      CREATE INDEX follows_followers ON follows (host_id, at, follower_id);
    `,
  },
  {
    description: 'bans set by the platform: no login (account) or no going live (live), until a time or lifted',
    sql: `
      CREATE TABLE bans (
        user_id INTEGER NOT NULL,
        kind    TEXT    NOT NULL CHECK (kind IN ('account', 'live')),
        until   INTEGER,
        reason  TEXT    NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (user_id, kind)
      ) WITHOUT ROWID;
    `,
  },
  {
    // next_attempt_at is set on one pending row per user, the head of that user's queue (the lowest
    // id still pending); the rows behind it wait with NULL and are promoted when it is delivered or
    // dead. So "what is due now" reads the heads off one partial index, in due order.
    description: 'the push outbox: pushes for users who may be offline, delivered at least once to the push gateway',
    sql: `
      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id         INTEGER NOT NULL,
        kind            TEXT    NOT NULL,
        payload         TEXT    NOT NULL,
        created_at      INTEGER NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        status          TEXT    NOT NULL DEFAULT 'pending',
        last_error      TEXT,
        updated_at      INTEGER NOT NULL
      );
      CREATE INDEX outbox_pending_user ON outbox (user_id, id) WHERE status = 'pending';
      CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending' AND next_attempt_at IS NOT NULL;
      CREATE INDEX outbox_pending_created ON outbox (created_at) WHERE status = 'pending';
      CREATE INDEX outbox_dead ON outbox (updated_at, id) WHERE status = 'dead';
    `,
  },
  {
    // History pages by (conversation_id, id); the conversation list by (user_id, last_message_id);
    // a keyed retry finds its message by (sender_id, client_key). Nothing reads messages otherwise.
    description: 'private messages: conversations (one per pair), messages, per-user conversation state (unread, read-up-to), blocks',
    sql: `
      CREATE TABLE conversations (
        id         INTEGER PRIMARY KEY,
        user_lo    INTEGER NOT NULL,
        user_hi    INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (user_lo, user_hi)
      );
      CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL,
        sender_id       INTEGER NOT NULL,
        receiver_id     INTEGER NOT NULL,
        text            TEXT    NOT NULL,
        created_at      INTEGER NOT NULL,
        client_key      TEXT
      );
      CREATE INDEX messages_conversation ON messages (conversation_id, id);
      CREATE UNIQUE INDEX messages_sender_key ON messages (sender_id, client_key) WHERE client_key IS NOT NULL;
      CREATE TABLE conversation_members (
        user_id         INTEGER NOT NULL,
        conversation_id INTEGER NOT NULL,
        peer_id         INTEGER NOT NULL,
        last_message_id INTEGER NOT NULL,
        unread          INTEGER NOT NULL DEFAULT 0,
        read_up_to      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, conversation_id)
      ) WITHOUT ROWID;
      CREATE INDEX conversation_members_recent ON conversation_members (user_id, last_message_id);
      CREATE TABLE blocks (
        user_id    INTEGER NOT NULL,
        blocked_id INTEGER NOT NULL,
        at         INTEGER NOT NULL,
        PRIMARY KEY (user_id, blocked_id)
      ) WITHOUT ROWID;
      CREATE INDEX blocks_recent ON blocks (user_id, at, blocked_id);
    `,
  },
  {
    description: 'talent requests and intimacy (F9)',
    sql: `
      CREATE TABLE talent_requests (
        id         INTEGER PRIMARY KEY,
        host_id    INTEGER NOT NULL,
        viewer_id  INTEGER NOT NULL,
        talent_id  INTEGER NOT NULL,
        name       TEXT    NOT NULL,
        price      INTEGER NOT NULL,
        room_id    INTEGER,
        status     TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        ended_at   INTEGER
      );
      CREATE INDEX talent_requests_host ON talent_requests (host_id, id);
      CREATE TABLE intimacy (
        viewer_id  INTEGER NOT NULL,
        host_id    INTEGER NOT NULL,
        points     INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (viewer_id, host_id)
      ) WITHOUT ROWID;
      CREATE INDEX intimacy_host ON intimacy (host_id, viewer_id);
    `,
  },
  {
    description: 'backpack vehicles and coupons (F5, F10): their catalog and the vehicle each user has in use',
    sql: `
      CREATE TABLE backpack_items (
        kind       TEXT    NOT NULL CHECK (kind IN ('vehicle', 'coupon')),
        id         INTEGER NOT NULL,
        name       TEXT    NOT NULL,
        image      TEXT    NOT NULL,
        animation  TEXT    NOT NULL,
        sort       INTEGER NOT NULL,
        active     INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (kind, id)
      ) WITHOUT ROWID;
      CREATE TABLE vehicles_in_use (
        user_id    INTEGER PRIMARY KEY,
        vehicle_id INTEGER NOT NULL,
        at         INTEGER NOT NULL
      );
    `,
  },
  {
    description: 'credits each viewer spent on hosts, for viewer levels (5.30)',
    sql: `
      CREATE TABLE viewer_spend (
        user_id    INTEGER PRIMARY KEY,
        credits    INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    description: 'delivered outbox items are found by age (they are deleted LIVE_PUSH_KEEP_DELIVERED_MS after delivery)',
    sql: `CREATE INDEX outbox_delivered ON outbox (updated_at) WHERE status = 'delivered';`,
  },
  {
    description: 'users as rows written through the group commit (they were user actors with journals)',
    sql: `
      CREATE TABLE users (
        user_id           INTEGER PRIMARY KEY,
        role              TEXT    NOT NULL,
        profile           TEXT    NOT NULL,
        latest_session_id TEXT    NOT NULL,
        logins            INTEGER NOT NULL,
        first_login_at    INTEGER NOT NULL,
        last_login_at     INTEGER NOT NULL,
        last_seen_at      INTEGER,
        invites_seen      INTEGER NOT NULL DEFAULT 0,
        bookings_seen     INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
];

export const schemaVersion = migrations.length;

function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema up to `schemaVersion`. Returns the version found before migrating.
 * Each step runs in its own IMMEDIATE transaction and re-reads the version inside it,
 * so two processes opening the same file cannot apply a step twice.
 */
export function migrate(db: Database.Database): number {
  const found = userVersion(db);
  if (found > schemaVersion) {
    throw new Error(
      `database schema version ${found} is newer than this build supports (${schemaVersion}); refusing to open`,
    );
  }
  for (let target = found + 1; target <= schemaVersion; target++) {
    const step = migrations[target - 1]!;
    db.transaction(() => {
      if (userVersion(db) >= target) return;
      db.exec(step.sql);
      // user_version lives in the file header, so it commits or rolls back with the DDL.
      db.pragma(`user_version = ${target}`);
    }).immediate();
  }
  return found;
}
