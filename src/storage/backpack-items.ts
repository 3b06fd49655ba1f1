import type Database from 'better-sqlite3';
import { committed, type CommitQueue } from './commit-queue.js';

/** Backpack items that are not gifts: vehicles (座驾, shown when their owner enters a room) and coupons (券). */
export type ItemKind = 'vehicle' | 'coupon';

export interface BackpackItem {
  kind: ItemKind;
  /** Ids are per kind: vehicle 1 and coupon 1 are two items. */
  id: number;
  name: string;
  image: string;
  /** Vehicles: the entrance animation URL; '' when none. */
  animation: string;
  /** Listing order, ascending. */
  sort: number;
  /** Retired from the catalog: an inactive vehicle cannot be chosen (vehicle.use) nor is shown on entering; items held stay held and listed. */
  active: boolean;
  updatedAt: number;
}

interface ItemRow {
  kind: ItemKind;
  id: number;
  name: string;
  image: string;
  animation: string;
  sort: number;
  active: number;
  updated_at: number;
}

const keyOf = (kind: ItemKind, id: number) => `${kind}:${id}`;

/**
 * The catalog of vehicles and coupons (table `backpack_items`) and the vehicle
 * each user has in use (`vehicles_in_use`). Both are held in memory (the
 * catalog is small; in-use rows are read on first need) and written inside the
 * node's group commit; the memory changes once committed.
 */
export class BackpackItemStore {
  private readonly items = new Map<string, BackpackItem>();
  private readonly inUse = new Map<number, number | null>();
  private readonly upsert: Database.Statement;
  private readonly selectInUse: Database.Statement;
  private readonly setInUse: Database.Statement;
  private readonly clearInUse: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO backpack_items (kind, id, name, image, animation, sort, active, updated_at)
       VALUES (@kind, @id, @name, @image, @animation, @sort, @active, @updatedAt)
       ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name, image = excluded.image, animation = excluded.animation,
         sort = excluded.sort, active = excluded.active, updated_at = excluded.updated_at`,
    );
    this.selectInUse = db.prepare('SELECT vehicle_id FROM vehicles_in_use WHERE user_id = ?').pluck();
    this.setInUse = db.prepare(
      'INSERT INTO vehicles_in_use (user_id, vehicle_id, at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET vehicle_id = excluded.vehicle_id, at = excluded.at',
    );
    this.clearInUse = db.prepare('DELETE FROM vehicles_in_use WHERE user_id = ?');
    for (const r of db.prepare('SELECT * FROM backpack_items').all() as ItemRow[]) {
      this.items.set(keyOf(r.kind, r.id), { kind: r.kind, id: r.id, name: r.name, image: r.image, animation: r.animation, sort: r.sort, active: r.active === 1, updatedAt: r.updated_at });
    }
  }

  get(kind: ItemKind, id: number): BackpackItem | undefined {
    return this.items.get(keyOf(kind, id));
  }

  /** Every item of the catalog, active or not, by kind then id. */
  all(): BackpackItem[] {
    return [...this.items.values()].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.id - b.id));
  }

  /** Creates or replaces an item; resolves once stored. */
  put(item: BackpackItem): Promise<BackpackItem> {
    return this.write(() => void this.upsert.run({ ...item, active: item.active ? 1 : 0 })).then(() => {
      this.items.set(keyOf(item.kind, item.id), item);
      return item;
    });
  }

  /** The vehicle the user has in use, if they chose one. */
  vehicleInUse(userId: number): number | null {
    let id = this.inUse.get(userId);
    if (id === undefined) {
      id = (this.selectInUse.get(userId) as number | undefined) ?? null;
      // A cache of rows read: dropped as a whole when it grows large (rows are read again on need).
      if (this.inUse.size >= 100_000) this.inUse.clear();
      this.inUse.set(userId, id);
    }
    return id;
  }

  /** Sets (or, with null, clears) the vehicle in use; resolves once stored. */
  useVehicle(userId: number, vehicleId: number | null, at: number): Promise<void> {
    return this.write(() => void (vehicleId === null ? this.clearInUse.run(userId) : this.setInUse.run(userId, vehicleId, at))).then(() => {
      this.inUse.set(userId, vehicleId);
    });
  }

  private write(apply: () => void): Promise<void> {
    return committed(this.commits, apply);
  }
}
