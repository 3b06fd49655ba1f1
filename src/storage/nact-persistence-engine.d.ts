// nact 7.6.2 defines these classes but neither re-exports them from 'nact' nor types
// them; the package has no "exports" map, so the deep path resolves at runtime.
declare module 'nact/lib/persistence/persistence-engine.js' {
  export class PersistedEvent {
    constructor(
      data: unknown,
      sequenceNumber: number,
      key: string,
      tags?: string[],
      createdAt?: number,
      isDeleted?: boolean,
    );
    data: unknown;
    sequenceNumber: number;
    key: string;
    /** Sorted in place by the constructor. */
    tags: string[];
    createdAt: number;
    isDeleted: boolean;
  }

  export class PersistedSnapshot {
    constructor(data: unknown, sequenceNumber: number, key: string, createdAt?: number);
    data: unknown;
    sequenceNumber: number;
    key: string;
    createdAt: number;
  }

  /** Every method throws "not implemented"; subclasses override all four. */
  export class AbstractPersistenceEngine {
    events(persistenceKey: string, offset?: number, limit?: number, tags?: string[]): unknown;
    latestSnapshot(persistenceKey: string): unknown;
    takeSnapshot(persistedSnapshot: PersistedSnapshot): unknown;
    persist(persistedEvent: PersistedEvent): unknown;
  }
}
