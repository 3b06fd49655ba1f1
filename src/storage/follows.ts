import type Database from 'better-sqlite3';
import { committed, type CommitQueue } from './commit-queue.js';

export interface FollowPage {
  /** Followed (or following) users, newest first, with when the follow was made. */
  users: Array<{ userId: number; since: number }>;
  /** Pass back as `before` for the next page; null at the end. */
  next: string | null;
}

/**
 * Who follows whom (F10). Writes ride the node's group commit and resolve
 * after it; reads go to what is committed. A PostgreSQL implementation will
 * implement the same interface when the server runs on several nodes.
 */
export interface FollowStore {
  /** Resolves with true when the follow is new, false when it existed. */
  follow(followerId: number, hostId: number, at: number): Promise<boolean>;
  /** Resolves with true when there was a follow to remove. */
  unfollow(followerId: number, hostId: number): Promise<boolean>;
  isFollowing(followerId: number, hostId: number): boolean;
  /** How many users one follows, and how many follow them. */
  counts(userId: number): { following: number; followers: number };
  following(userId: number, limit: number, before?: string): FollowPage;
  followers(userId: number, limit: number, before?: string): FollowPage;
  /** Every user `userId` follows (bounded by the follow limit): for the directory of live followed rooms. */
  allFollowing(userId: number): number[];
}

/** A cursor is `<since>:<userId>` of the last row of the page before. */
function parseCursor(before: string | undefined): [number, number] {
  if (before === undefined) return [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  const m = /^(\d{1,16}):(\d{1,16})$/.exec(before);
  if (!m) throw new RangeError('bad cursor');
  return [Number(m[1]), Number(m[2])];
}

/** Every statement of the store (the query-plan test reads them from here). */
export const FOLLOW_SQL = {
  insert: 'INSERT OR IGNORE INTO follows (follower_id, host_id, at) VALUES (?, ?, ?)',
  remove: 'DELETE FROM follows WHERE follower_id = ? AND host_id = ?',
  exists: 'SELECT 1 FROM follows WHERE follower_id = ? AND host_id = ?',
  countFollowing: 'SELECT count(*) FROM follows WHERE follower_id = ?',
  countFollowers: 'SELECT count(*) FROM follows WHERE host_id = ?',
  following: 'SELECT host_id, at FROM follows WHERE follower_id = ? AND (at, host_id) < (?, ?) ORDER BY at DESC, host_id DESC LIMIT ?',
  followers: 'SELECT follower_id, at FROM follows WHERE host_id = ? AND (at, follower_id) < (?, ?) ORDER BY at DESC, follower_id DESC LIMIT ?',
  allFollowing: 'SELECT host_id FROM follows WHERE follower_id = ?',
} as const;

export class SqliteFollowStore implements FollowStore {
  private readonly insert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly exists: Database.Statement;
  private readonly countFollowing: Database.Statement;
  private readonly countFollowers: Database.Statement;
  private readonly pageFollowing: Database.Statement;
  private readonly pageFollowers: Database.Statement;
  private readonly selectAllFollowing: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.insert = db.prepare(FOLLOW_SQL.insert);
    this.remove = db.prepare(FOLLOW_SQL.remove);
    this.exists = db.prepare(FOLLOW_SQL.exists).pluck();
    this.countFollowing = db.prepare(FOLLOW_SQL.countFollowing).pluck();
    this.countFollowers = db.prepare(FOLLOW_SQL.countFollowers).pluck();
    this.pageFollowing = db.prepare(FOLLOW_SQL.following).raw();
    this.pageFollowers = db.prepare(FOLLOW_SQL.followers).raw();
    this.selectAllFollowing = db.prepare(FOLLOW_SQL.allFollowing).pluck();
  }

  follow(followerId: number, hostId: number, at: number): Promise<boolean> {
    return this.write(() => this.insert.run(followerId, hostId, at).changes === 1);
  }

  unfollow(followerId: number, hostId: number): Promise<boolean> {
    return this.write(() => this.remove.run(followerId, hostId).changes === 1);
  }

  isFollowing(followerId: number, hostId: number): boolean {
    return this.exists.get(followerId, hostId) === 1;
  }

  counts(userId: number): { following: number; followers: number } {
    return { following: this.countFollowing.get(userId) as number, followers: this.countFollowers.get(userId) as number };
  }

  following(userId: number, limit: number, before?: string): FollowPage {
    return page(this.pageFollowing.all(userId, ...parseCursor(before), limit) as Array<[number, number]>, limit);
  }

  followers(userId: number, limit: number, before?: string): FollowPage {
    return page(this.pageFollowers.all(userId, ...parseCursor(before), limit) as Array<[number, number]>, limit);
  }

  allFollowing(userId: number): number[] {
    return this.selectAllFollowing.all(userId) as number[];
  }

  private write(apply: () => boolean): Promise<boolean> {
    return committed(this.commits, apply);
  }
}

function page(rows: Array<[number, number]>, limit: number): FollowPage {
  const users = rows.map(([userId, since]) => ({ userId, since }));
  const last = rows.length === limit ? rows[rows.length - 1] : undefined;
  return { users, next: last ? `${last[1]}:${last[0]}` : null };
}
