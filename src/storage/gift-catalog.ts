import type Database from 'better-sqlite3';
import { committed, type CommitQueue } from './commit-queue.js';

export interface Gift {
  id: number;
  name: string;
  /** Credits per gift. */
  price: number;
  image: string;
  icon: string;
  /** 1: static, 2: animated (seed 002 gift type). */
  type: 1 | 2;
  /** Listing order, ascending. */
  sort: number;
  /** Inactive gifts are not listed and cannot be sent; they stay for history. */
  active: boolean;
  updatedAt: number;
}

interface GiftRow extends Omit<Gift, 'active' | 'updatedAt' | 'type'> {
  type: number;
  active: number;
  updated_at: number;
}

/**
 * The gift catalog: held in memory, stored in the `gifts` table. A change
 * (from the admin API) is written inside the node's group commit and applied
 * in memory once committed.
 */
export class GiftCatalog {
  private readonly byId = new Map<number, Gift>();
  private readonly upsert: Database.Statement;
  private listed: Gift[] | undefined;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO gifts (id, name, price, image, icon, type, sort, active, updated_at) VALUES (@id, @name, @price, @image, @icon, @type, @sort, @active, @updatedAt)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price, image = excluded.image, icon = excluded.icon,
         type = excluded.type, sort = excluded.sort, active = excluded.active, updated_at = excluded.updated_at`,
    );
    for (const row of db.prepare('SELECT * FROM gifts').all() as GiftRow[]) {
      this.byId.set(row.id, { id: row.id, name: row.name, price: row.price, image: row.image, icon: row.icon, type: row.type as 1 | 2, sort: row.sort, active: row.active === 1, updatedAt: row.updated_at });
    }
  }

  get(id: number): Gift | undefined {
    return this.byId.get(id);
  }

  /** Every gift, active or not, by id. */
  all(): Gift[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  /** Active gifts in listing order. */
  list(): Gift[] {
    this.listed ??= [...this.byId.values()].filter((g) => g.active).sort((a, b) => a.sort - b.sort || a.id - b.id);
    return this.listed;
  }

  /** When the catalog last changed (0: never): clients may cache the list until it moves. */
  version(): number {
    let v = 0;
    for (const g of this.byId.values()) v = Math.max(v, g.updatedAt);
    return v;
  }

  /** Creates or replaces a gift; resolves once stored. */
  put(gift: Gift): Promise<Gift> {
    return committed(this.commits, () => void this.upsert.run({ ...gift, active: gift.active ? 1 : 0 })).then(() => {
      this.byId.set(gift.id, gift);
      this.listed = undefined;
      return gift;
    });
  }
}
