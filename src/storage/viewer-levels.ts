import type Database from 'better-sqlite3';
import { committed, type CommitQueue } from './commit-queue.js';

/**
 * Credits each viewer has spent on hosts (for viewer levels, 5.30): one row
 * per viewer who ever spent. Writes ride the group commit; reads see what is
 * committed (the service keeps what it wrote since in memory).
 */
export class ViewerSpendStore {
  private readonly upsert: Database.Statement;
  private readonly select: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.upsert = db.prepare(
      'INSERT INTO viewer_spend (user_id, credits, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET credits = excluded.credits, updated_at = excluded.updated_at',
    );
    this.select = db.prepare('SELECT credits FROM viewer_spend WHERE user_id = ?').pluck();
  }

  get(userId: number): number {
    return (this.select.get(userId) as number | undefined) ?? 0;
  }

  /** Stores a viewer's total as of `at`; resolves after the commit. */
  put(userId: number, credits: number, at: number): Promise<void> {
    return committed(this.commits, () => void this.upsert.run(userId, credits, at));
  }
}
