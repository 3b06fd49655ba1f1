import type Database from 'better-sqlite3';
import { committed, type CommitQueue } from './commit-queue.js';

/** A pair's intimacy as stored: its points right after its last growth, and when that was. */
export interface IntimacyRow {
  viewerId: number;
  points: number;
  updatedAt: number;
}

/**
 * Intimacy between a viewer and a host (F9): one row per pair that ever grew.
 * Writes ride the node's group commit (applied in the order they were put);
 * reads go to what is committed (the service keeps what it wrote since in memory).
 */
export class IntimacyStore {
  private readonly upsert: Database.Statement;
  private readonly selectPair: Database.Statement;
  private readonly selectHost: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.upsert = db.prepare(
      'INSERT INTO intimacy (viewer_id, host_id, points, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (viewer_id, host_id) DO UPDATE SET points = excluded.points, updated_at = excluded.updated_at',
    );
    this.selectPair = db.prepare('SELECT viewer_id AS viewerId, points, updated_at AS updatedAt FROM intimacy WHERE viewer_id = ? AND host_id = ?');
    this.selectHost = db.prepare('SELECT viewer_id AS viewerId, points, updated_at AS updatedAt FROM intimacy WHERE host_id = ?');
  }

  get(viewerId: number, hostId: number): IntimacyRow | undefined {
    return this.selectPair.get(viewerId, hostId) as IntimacyRow | undefined;
  }

  /** Every pair of one host (read through the host index). */
  ofHost(hostId: number): IntimacyRow[] {
    return this.selectHost.all(hostId) as IntimacyRow[];
  }

  /** Stores a pair's points as of `at`; resolves after the commit. */
  put(viewerId: number, hostId: number, points: number, at: number): Promise<void> {
    return committed(this.commits, () => void this.upsert.run(viewerId, hostId, points, at));
  }
}
