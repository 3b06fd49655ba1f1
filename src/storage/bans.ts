import type Database from 'better-sqlite3';
import { committed, type CommitQueue } from './commit-queue.js';

/** `account`: may not log in (封号); `live`: may not go live or publish video (禁播). */
export type BanKind = 'account' | 'live';

export interface Ban {
  userId: number;
  kind: BanKind;
  /** When it ends (ms); null: until lifted. */
  until: number | null;
  reason: string;
  at: number;
}

/**
 * Bans set by the platform through the admin API. All of them are held in
 * memory (they are few) and read at start; writes ride the group commit.
 */
export interface BanStore {
  /** The ban of that kind in force at `now`, if any. */
  get(userId: number, kind: BanKind, now: number): Ban | undefined;
  put(ban: Ban): Promise<void>;
  /** Resolves with true when there was a ban (in force or not) to lift. */
  lift(userId: number, kind: BanKind): Promise<boolean>;
}

export class SqliteBanStore implements BanStore {
  private readonly bans = new Map<string, Ban>();
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.upsert = db.prepare(
      'INSERT INTO bans (user_id, kind, until, reason, at) VALUES (@userId, @kind, @until, @reason, @at) ' +
        'ON CONFLICT (user_id, kind) DO UPDATE SET until = excluded.until, reason = excluded.reason, at = excluded.at',
    );
    this.remove = db.prepare('DELETE FROM bans WHERE user_id = ? AND kind = ?');
    const rows = db.prepare('SELECT user_id AS userId, kind, until, reason, at FROM bans').all() as Ban[];
    for (const ban of rows) this.bans.set(keyOf(ban.userId, ban.kind), ban);
  }

  get(userId: number, kind: BanKind, now: number): Ban | undefined {
    const ban = this.bans.get(keyOf(userId, kind));
    return ban && (ban.until === null || ban.until > now) ? ban : undefined;
  }

  put(ban: Ban): Promise<void> {
    return this.write(() => void this.upsert.run(ban)).then(() => void this.bans.set(keyOf(ban.userId, ban.kind), ban));
  }

  lift(userId: number, kind: BanKind): Promise<boolean> {
    return this.write(() => this.remove.run(userId, kind).changes === 1).then((removed) => {
      this.bans.delete(keyOf(userId, kind));
      return removed;
    });
  }

  private write<T>(apply: () => T): Promise<T> {
    return committed(this.commits, apply);
  }
}

const keyOf = (userId: number, kind: BanKind) => `${kind}:${userId}`;
