import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

export type SyncMode = 'FULL' | 'NORMAL' | 'EXTRA' | 'OFF';

export interface DatabaseOptions {
  /** File path, or ':memory:' for tests. */
  path: string;
  synchronous: SyncMode;
  /** How long a writer waits on a locked database before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** WAL pages written before a commit also checkpoints them into the database file (SQLite's default 1000). */
  walCheckpointPages?: number;
}

// What `PRAGMA synchronous` reports for each mode.
const SYNC_LEVEL: Record<SyncMode, number> = { OFF: 0, NORMAL: 1, FULL: 2, EXTRA: 3 };

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '' || path.startsWith('file::memory:');
}

/**
 * Opens (creating if needed) a WAL database with the requested durability and an
 * up-to-date schema. Throws instead of running with weaker durability than asked:
 * better-sqlite3 is built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1, so a reopened WAL
 * file silently comes back as NORMAL, and an unknown mode is silently taken as NORMAL.
 */
export function openDatabase(opts: DatabaseOptions): Database.Database {
  const level = SYNC_LEVEL[opts.synchronous];
  if (level === undefined) throw new Error(`unknown synchronous mode ${JSON.stringify(opts.synchronous)}`);
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new Error(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }

  const memory = isMemory(opts.path);
  if (!memory) mkdirSync(dirname(resolve(opts.path)), { recursive: true });

  const db = new Database(opts.path);
  try {
    if (!memory) lockExclusively(db, opts.path);
    const mode = String(db.pragma('journal_mode = WAL', { simple: true })).toLowerCase();
    // In-memory databases cannot use WAL and report 'memory'; nothing to enforce there.
    if (!memory && mode !== 'wal') {
      throw new Error(`could not enable WAL on ${opts.path}: journal_mode is ${mode}`);
    }

    // Set after journal_mode: switching to WAL is where the build default would apply.
    db.pragma(`synchronous = ${opts.synchronous}`);
    const got = db.pragma('synchronous', { simple: true });
    if (got !== level) {
      throw new Error(
        `PRAGMA synchronous = ${opts.synchronous} did not stick on ${opts.path}: expected ${level}, read back ${String(got)}`,
      );
    }

    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (!memory && String(db.pragma('locking_mode', { simple: true })).toLowerCase() !== 'exclusive') {
      throw new Error(`could not lock ${opts.path} exclusively`);
    }
    db.pragma('foreign_keys = ON');
    if (opts.walCheckpointPages !== undefined) {
      const pages = opts.walCheckpointPages;
      if (!Number.isInteger(pages) || pages < 1) throw new Error(`walCheckpointPages must be a positive integer, got ${pages}`);
      db.pragma(`wal_autocheckpoint = ${pages}`);
      if (db.pragma('wal_autocheckpoint', { simple: true }) !== pages) throw new Error(`PRAGMA wal_autocheckpoint = ${pages} did not stick`);
    }
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Thrown when another process (another server) holds the database. */
export class DatabaseInUseError extends Error {
  constructor(readonly path: string) {
    super(`database ${path} is locked by another process: is another server running on it? Refusing to start`);
    this.name = 'DatabaseInUseError';
  }
}

/**
 * One server per database file: the connection takes SQLite's exclusive lock
 * at open and holds it until it closes (the OS drops it if the process dies,
 * even by kill -9). A second server fails here at once instead of sharing the
 * file and colliding on journal sequence numbers.
 */
function lockExclusively(db: Database.Database, path: string): void {
  db.pragma('busy_timeout = 0');
  db.pragma('locking_mode = EXCLUSIVE');
  try {
    // In exclusive mode the first write lock is kept for the connection's life.
    db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseInUseError(path);
    throw err;
  }
}
