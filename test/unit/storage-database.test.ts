import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { openDatabase, type SyncMode } from '../../src/storage/database.js';
import { migrate, migrations, schemaVersion } from '../../src/storage/migrations.js';

const LEVEL: Record<SyncMode, number> = { OFF: 0, NORMAL: 1, FULL: 2, EXTRA: 3 };

t.test('synchronous reads back as set, also after reopening a WAL file', async (t) => {
  const dir = t.testdir();
  for (const mode of ['FULL', 'NORMAL', 'EXTRA', 'OFF'] as const) {
    const path = join(dir, `sync-${mode}.db`);
    for (const round of ['fresh', 'reopened']) {
      const db = openDatabase({ path, synchronous: mode });
      t.equal(db.pragma('synchronous', { simple: true }), LEVEL[mode], `${mode} ${round}`);
      t.equal(db.pragma('journal_mode', { simple: true }), 'wal', `${mode} ${round} journal_mode`);
      t.equal(db.pragma('foreign_keys', { simple: true }), 1);
      db.close();
    }
  }
});

t.test('the WAL checkpoint interval is set on every open when asked, SQLite\'s default otherwise; nonsense refused', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'ckpt.db');
  const asked = openDatabase({ path, synchronous: 'FULL', walCheckpointPages: 4000 });
  t.equal(asked.pragma('wal_autocheckpoint', { simple: true }), 4000);
  asked.close();
  const plain = openDatabase({ path, synchronous: 'FULL' });
  t.equal(plain.pragma('wal_autocheckpoint', { simple: true }), 1000, 'not kept in the file: each open sets it');
  plain.close();
  for (const bad of [0, -1, 1.5]) t.throws(() => openDatabase({ path, synchronous: 'FULL', walCheckpointPages: bad }), /walCheckpointPages/);
});

t.test('the WAL reopen pitfall the check guards against is real', async (t) => {
  const path = join(t.testdir(), 'pitfall.db');
  openDatabase({ path, synchronous: 'FULL' }).close();
  const raw = new Database(path);
  t.equal(raw.pragma('synchronous', { simple: true }), 1, 'plain reopen comes back NORMAL');
  raw.close();
});

t.test('an unknown synchronous mode is refused, not silently NORMAL', async (t) => {
  const path = join(t.testdir(), 'bogus.db');
  t.throws(() => openDatabase({ path, synchronous: 'FASTEST' as SyncMode }), /unknown synchronous mode/);
});

t.test('creates the parent directory', async (t) => {
  const path = join(t.testdir(), 'a', 'b', 'c.db');
  const db = openDatabase({ path, synchronous: 'FULL' });
  t.ok(existsSync(path));
  db.close();
});

t.test(':memory: works and is migrated', async (t) => {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  t.equal(db.pragma('user_version', { simple: true }), schemaVersion);
  t.equal(db.pragma('synchronous', { simple: true }), 2);
  db.close();
});

t.test('migrations: versioned, idempotent on reopen, schema present', async (t) => {
  const path = join(t.testdir(), 'm.db');
  t.ok(migrations.length >= 1);
  let db = openDatabase({ path, synchronous: 'NORMAL' });
  t.equal(db.pragma('user_version', { simple: true }), migrations.length);
  db.prepare("INSERT INTO journal (key, seq, created_at, data) VALUES ('k', 1, 0, x'00')").run();
  db.close();

  db = openDatabase({ path, synchronous: 'NORMAL' });
  t.equal(db.pragma('user_version', { simple: true }), migrations.length);
  t.equal(migrate(db), migrations.length, 'nothing left to apply');
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .pluck()
    .all();
  t.same(tables, [
    'actor_deadlines', 'backpack_items', 'bans', 'blocks', 'bookings', 'conversation_members', 'conversations', 'follows', 'gifts', 'intimacy', 'invites', 'journal',
    'ledger_accounts', 'ledger_entries', 'ledger_transfers', 'messages', 'outbox', 'rooms', 'shows', 'snapshots', 'sqlite_sequence',
    'talent_requests', 'users', 'vehicles_in_use', 'viewer_spend',
  ]);
  t.equal(db.prepare('SELECT count(*) FROM journal').pluck().get(), 1, 'data kept across reopen');
  const row = db.prepare("SELECT tags, deleted FROM journal WHERE key = 'k'").get();
  t.same(row, { tags: '', deleted: 0 }, 'column defaults');
  t.throws(
    () => db.prepare("INSERT INTO journal (key, seq, created_at, data) VALUES ('k', 1, 0, x'00')").run(),
    { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
  );
  db.close();
});

t.test('a database from a newer build is refused', async (t) => {
  const path = join(t.testdir(), 'future.db');
  openDatabase({ path, synchronous: 'FULL' }).close();
  const raw = new Database(path);
  raw.pragma(`user_version = ${schemaVersion + 1}`);
  raw.close();
  t.throws(() => openDatabase({ path, synchronous: 'FULL' }), /newer than this build supports/);
  const again = new Database(path);
  t.equal(again.pragma('user_version', { simple: true }), schemaVersion + 1, 'left untouched');
  again.close();
});

t.test('a database from an older build is upgraded in place, its data kept', async (t) => {
  const path = join(t.testdir(), 'old.db');
  const old = new Database(path);
  old.exec(migrations[0]!.sql);
  old.pragma('user_version = 1');
  old.prepare("INSERT INTO journal (key, seq, created_at, data) VALUES ('user:1', 1, 0, x'00')").run();
  old.close();
  const db = openDatabase({ path, synchronous: 'FULL' });
  t.teardown(() => db.close());
  t.equal(db.pragma('user_version', { simple: true }), migrations.length);
  t.equal(db.prepare('SELECT count(*) FROM journal').pluck().get(), 1);
  t.equal(db.prepare('SELECT count(*) FROM actor_deadlines').pluck().get(), 0, 'the new table exists');
});
