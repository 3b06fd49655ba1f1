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
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
