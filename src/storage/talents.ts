import type Database from 'better-sqlite3';
import type { DurableWrite } from './durable-writes.js';

/** A talent request as stored (written by the host's talent actor, in the commit of its journal entry). */
export interface TalentRequestRow {
  id: number;
  hostId: number;
  viewerId: number;
  talentId: number;
  name: string;
  price: number;
  roomId: number | null;
  status: 'holding' | 'pending' | 'accepted' | 'declined' | 'expired' | 'refused';
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
}

type TalentWrite = Extract<DurableWrite, { t: 'talent.new' | 'talent.update' }>;

/**
 * Talent requests as a table: written only as durable writes of the talent
 * actors' journal entries (the actors decide), read for "whose is this id"
 * and for the answer to a repeated request key. Ids are allocated by the
 * server above the highest stored.
 */
export class TalentRequestStore {
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly select: Database.Statement;
  private nextId: number;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO talent_requests (id, host_id, viewer_id, talent_id, name, price, room_id, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.update = db.prepare('UPDATE talent_requests SET status = ?, expires_at = ?, ended_at = ? WHERE id = ?');
    this.select = db.prepare(
      'SELECT id, host_id AS hostId, viewer_id AS viewerId, talent_id AS talentId, name, price, room_id AS roomId, status, created_at AS createdAt, expires_at AS expiresAt, ended_at AS endedAt FROM talent_requests WHERE id = ?',
    );
    this.nextId = ((db.prepare('SELECT coalesce(max(id), 0) FROM talent_requests').pluck().get() as number) ?? 0) + 1;
  }

  /** A new request id: never one stored, never one given out before by this process (a refused one leaves a gap). */
  allocate(): number {
    return this.nextId++;
  }

  byId(id: number): TalentRequestRow | undefined {
    return this.select.get(id) as TalentRequestRow | undefined;
  }

  apply(w: TalentWrite): void {
    if (w.t === 'talent.new') {
      const r = w.request;
      this.insert.run(r.id, r.hostId, r.viewerId, r.talentId, r.name, r.price, r.roomId, r.status, r.createdAt, r.expiresAt);
    } else {
      this.update.run(w.status, w.expiresAt, w.endedAt, w.requestId);
    }
  }
}
