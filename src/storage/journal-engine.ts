import type Database from 'better-sqlite3';
import { Packr, Unpackr } from 'msgpackr';
import type { PersistenceEngine } from 'nact';
import {
  AbstractPersistenceEngine,
  PersistedEvent,
  PersistedSnapshot,
} from 'nact/lib/persistence/persistence-engine.js';
import { sqliteWriteApplier, type DurableWrite, type WriteApplier } from './durable-writes.js';
import { CODEC, checkSeq, decodeTags, DuplicateSequenceError, encodeTags, isConstraintViolation, isPrimaryKeyViolation } from './journal-codec.js';

export { DuplicateSequenceError } from './journal-codec.js';

const EMPTY = Buffer.alloc(0);

/** Refused because an earlier event of the same key failed and the key was not read (recovered) since. */
export class EarlierWriteFailed extends Error {
  override readonly name = 'EarlierWriteFailed';

  constructor(
    readonly key: string,
    readonly seq: number,
    cause: Error,
  ) {
    super(`an earlier journal write of ${key} failed; ${key}#${seq} refused until it recovers`, { cause });
  }
}

export interface JournalEngineOptions {
  /** Flush as soon as this many writes are queued instead of waiting for setImmediate. */
  maxBatch?: number;
  /** Longest a write waits for others to join its commit while more keep coming (default 2 ms). */
  maxDelayMs?: number;
  /** Called after every successful commit with its duration and the number of items in the batch. */
  onCommit?: (seconds: number, items: number) => void;
  /** nact only console-logs failed snapshots, so failures are surfaced here as well. */
  onError?: (err: unknown, what: string) => void;
  /** Applies the durable side writes of an event inside the commit; default: the SQLite tables of this database. */
  applyWrite?: WriteApplier;
}

/**
 * Other durable work riding the group commit (the ledger's batch of transfers): applied inside the
 * commit's transaction, after the journal items queued before it. `apply` throwing fails the whole
 * commit. `done` is called synchronously when the commit succeeded or failed.
 */
export interface CommitWork {
  apply(): void;
  done(err?: Error): void;
}

interface Pending {
  kind: 'event' | 'snapshot' | 'work';
  key: string;
  seq: number;
  createdAt: number;
  tags: string;
  deleted: 0 | 1;
  data: Buffer;
  writes: readonly DurableWrite[];
  work?: CommitWork;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface EventRow {
  seq: number;
  created_at: number;
  tags: string;
  deleted: number;
  data: Buffer;
}

type SnapshotRow = Omit<EventRow, 'tags' | 'deleted'>;

/**
 * nact persistence engine over the `journal` / `snapshots` tables.
 * Writes are group-committed: everything queued within one turn of the event loop
 * shares a transaction (one fsync), and each promise settles only after that commit.
 */
export class SqliteJournalEngine extends AbstractPersistenceEngine {
  private readonly packr = new Packr(CODEC);
  private readonly unpackr = new Unpackr(CODEC);
  private readonly maxBatch: number;
  private readonly onCommit: JournalEngineOptions['onCommit'];
  private readonly onError: JournalEngineOptions['onError'];
  private readonly applyWrite: WriteApplier;
  private queue: Pending[] = [];
  /**
   * Keys whose event write failed: their later events are refused until the
   * key is read again (its actor recovering), so an actor that journals
   * without waiting for each commit never leaves a gap in its journal.
   */
  private readonly poisoned = new Map<string, Error>();
  private scheduled: NodeJS.Immediate | undefined;
  private readonly maxDelayNs: bigint;
  /** Queue length seen at the last turn, and when the oldest queued write arrived. */
  private seenLength = 0;
  private waitingSince = 0n;
  private closed = false;

  private readonly insertEvent: Database.Statement;
  private readonly insertSnapshot: Database.Statement;
  private readonly pruneSnapshots: Database.Statement;
  private readonly compactJournal: Database.Statement;
  private readonly selectEvents: Database.Statement;
  private readonly selectTaggedEvents: Database.Statement;
  private readonly selectLatestSnapshot: Database.Statement;
  private readonly selectLastSeq: Database.Statement;
  private readonly writeBatch: (batch: Pending[], outcomes: (Error | undefined)[]) => void;
  /** One event and its side writes, under a savepoint inside the batch: all of them or none. */
  private readonly writeItem: (item: Pending) => void;

  constructor(
    private readonly db: Database.Database,
    opts: JournalEngineOptions = {},
  ) {
    super();
    this.maxBatch = Math.max(1, Math.trunc(opts.maxBatch ?? 512));
    this.maxDelayNs = BigInt(Math.round((opts.maxDelayMs ?? 2) * 1e6));
    this.onCommit = opts.onCommit;
    this.onError = opts.onError;
    this.applyWrite = opts.applyWrite ?? sqliteWriteApplier(db);

    this.insertEvent = db.prepare(
      'INSERT INTO journal (key, seq, created_at, tags, deleted, data) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertSnapshot = db.prepare('INSERT OR REPLACE INTO snapshots (key, seq, created_at, data) VALUES (?, ?, ?, ?)');
    // A snapshot replaces everything before it: older snapshots and the journal up to its seq.
    this.pruneSnapshots = db.prepare('DELETE FROM snapshots WHERE key = ? AND seq < ?');
    this.compactJournal = db.prepare('DELETE FROM journal WHERE key = ? AND seq <= ?');
    this.selectEvents = db.prepare(
      'SELECT seq, created_at, tags, deleted, data FROM journal WHERE key = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.selectTaggedEvents = db.prepare(
      `SELECT seq, created_at, tags, deleted, data FROM journal
       WHERE key = ? AND seq > ?
         AND NOT EXISTS (SELECT 1 FROM json_each(?) AS t WHERE instr(journal.tags, char(31) || t.value || char(31)) = 0)
       ORDER BY seq LIMIT ?`,
    );
    this.selectLatestSnapshot = db.prepare(
      'SELECT seq, created_at, data FROM snapshots WHERE key = ? ORDER BY seq DESC LIMIT 1',
    );
    // The journal may have been compacted behind a snapshot: the position is the newer of both.
    this.selectLastSeq = db
      .prepare(
        'SELECT max(coalesce((SELECT max(seq) FROM journal WHERE key = @key), 0), coalesce((SELECT max(seq) FROM snapshots WHERE key = @key), 0))',
      )
      .pluck();

    this.writeItem = db.transaction((item: Pending) => {
      this.insertEvent.run(item.key, item.seq, item.createdAt, item.tags, item.deleted, item.data);
      for (const w of item.writes) this.applyWrite(w);
    });
    this.writeBatch = db.transaction((batch: Pending[], outcomes: (Error | undefined)[]) => {
      const snapshots = new Map<string, number>();
      batch.forEach((item, i) => {
        const earlier = this.poisoned.get(item.key);
        if (earlier) {
          outcomes[i] = new EarlierWriteFailed(item.key, item.seq, earlier);
          return;
        }
        // Not under a savepoint: a failure of other work fails the commit, journal items included.
        if (item.work) return item.work.apply();
        try {
          if (item.kind === 'snapshot') {
            this.insertSnapshot.run(item.key, item.seq, item.createdAt, item.data);
            snapshots.set(item.key, Math.max(item.seq, snapshots.get(item.key) ?? 0));
          } else if (item.writes.length > 0) {
            this.writeItem(item);
          } else {
            this.insertEvent.run(item.key, item.seq, item.createdAt, item.tags, item.deleted, item.data);
          }
        } catch (err) {
          // A constraint error only undoes its own item; the rest of the batch still commits.
          if (isPrimaryKeyViolation(err) && !item.writes.length) outcomes[i] = new DuplicateSequenceError(item.kind as 'event' | 'snapshot', item.key, item.seq);
          else if (isConstraintViolation(err)) outcomes[i] = err as Error;
          else throw err;
          if (item.kind === 'event') this.poisoned.set(item.key, outcomes[i]!);
        }
      });
      for (const [key, seq] of snapshots) {
        this.pruneSnapshots.run(key, seq);
        this.compactJournal.run(key, seq);
      }
    });
  }

  /**
   * Synchronous on purpose: nact calls `.reduce` on the result without awaiting it.
   * Committed events only; queued writes of the same key are committed first (read-your-writes).
   */
  override events(key: string, offset = 0, limit?: number, tags?: string[]): PersistedEvent[] {
    this.flushIfQueued(key);
    // Read by a recovering actor: it starts again from what is stored.
    this.poisoned.delete(key);
    const max = typeof limit === 'number' && Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : -1;
    const rows = (
      tags && tags.length > 0
        ? this.selectTaggedEvents.all(key, offset, JSON.stringify(tags), max)
        : this.selectEvents.all(key, offset, max)
    ) as EventRow[];
    return rows.map(
      (r) =>
        new PersistedEvent(this.unpackr.unpack(r.data), r.seq, key, decodeTags(r.tags), r.created_at, r.deleted !== 0),
    );
  }

  override async latestSnapshot(key: string): Promise<PersistedSnapshot | undefined> {
    this.flushIfQueued(key);
    this.poisoned.delete(key);
    const row = this.selectLatestSnapshot.get(key) as SnapshotRow | undefined;
    return row && new PersistedSnapshot(this.unpackr.unpack(row.data), row.seq, key, row.created_at);
  }

  /** Journals an event; `writes` commit in the same transaction (nact passes them through from ctx.persist). */
  override persist(event: PersistedEvent, writes: readonly DurableWrite[] = []): Promise<void> {
    return this.enqueue('event', event, () => ({
      tags: encodeTags(event.tags ?? []),
      deleted: event.isDeleted ? 1 : 0,
      writes,
    }));
  }

  override takeSnapshot(snapshot: PersistedSnapshot): Promise<void> {
    return this.enqueue('snapshot', snapshot, () => ({ tags: '', deleted: 0, writes: [] }));
  }

  /** Queues `work` into the next group commit (same transaction, same fsync as the journal items beside it). */
  submit(work: CommitWork): void {
    if (this.closed) return work.done(new Error('engine closed'));
    const item: Pending = {
      kind: 'work', key: '', seq: 0, createdAt: 0, tags: '', deleted: 0, data: EMPTY, writes: [], work,
      resolve: () => work.done(),
      reject: (err) => work.done(err),
    };
    this.queueItem(item);
  }

  /** The newest sequence number of `key`, queued or committed; commits nothing. */
  position(key: string): number {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.key === key) return this.queue[i]!.seq;
    return this.selectLastSeq.get({ key }) as number;
  }

  lastSequence(key: string): number {
    this.flushIfQueued(key);
    return this.selectLastSeq.get({ key }) as number;
  }

  /**
   * Reads commit early only when the key has writes waiting: a login storm
   * spawns many actors whose recovery reads would otherwise each force a
   * commit (an fsync under FULL) and undo group commit.
   */
  private flushIfQueued(key: string): void {
    if (this.queue.some((item) => item.key === key)) this.flushNow();
  }

  /** Commits whatever is queued now; rejects only if the commit itself failed. */
  flush(): Promise<void> {
    const err = this.flushNow();
    return err ? Promise.reject(err) : Promise.resolve();
  }

  /** Commits the queue if the database is still open, then refuses further writes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.db.open) {
      this.flushNow();
    } else {
      this.cancelScheduled();
      const batch = this.queue;
      this.queue = [];
      for (const item of batch) item.reject(new Error('engine closed'));
    }
  }

  private enqueue(
    kind: Pending['kind'],
    entry: { key: string; sequenceNumber: number; createdAt?: number; data: unknown },
    extra: () => Pick<Pending, 'tags' | 'deleted' | 'writes'>,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new Error('engine closed'));
    let item: Omit<Pending, 'resolve' | 'reject'>;
    try {
      if (typeof entry.key !== 'string' || entry.key === '') throw new Error('persistence key must be a non-empty string');
      item = {
        kind,
        key: entry.key,
        seq: checkSeq(entry.sequenceNumber),
        createdAt: Math.trunc(entry.createdAt ?? Date.now()),
        // Encoded now so later mutation of the caller's object cannot change what is stored.
        data: this.packr.pack(entry.data),
        ...extra(),
      };
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<void>((resolve, reject) => this.queueItem({ ...item, resolve, reject }));
  }

  private queueItem(item: Pending): void {
    this.queue.push(item);
    if (this.queue.length >= this.maxBatch) this.flushNow();
    else if (this.scheduled === undefined) {
      this.waitingSince = process.hrtime.bigint();
      this.seenLength = 0;
      this.scheduled = setImmediate(() => this.turn());
    }
  }

  /**
   * Once per turn of the event loop while writes wait: commit when a turn
   * brought no new write, or when the oldest has waited maxDelayMs. An actor
   * handles one message per turn (nact), so a burst to one actor keeps adding
   * a write per turn: waiting for the burst to end puts it in one commit.
   */
  private turn(): void {
    this.scheduled = undefined;
    const grew = this.queue.length > this.seenLength;
    if (grew && process.hrtime.bigint() - this.waitingSince < this.maxDelayNs) {
      this.seenLength = this.queue.length;
      this.scheduled = setImmediate(() => this.turn());
      return;
    }
    this.flushNow();
  }

  private cancelScheduled(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  /** Returns the commit error, if the whole batch failed. */
  private flushNow(): Error | undefined {
    this.cancelScheduled();
    const batch = this.queue;
    if (batch.length === 0) return undefined;
    this.queue = [];
    const outcomes: (Error | undefined)[] = new Array(batch.length);
    const started = process.hrtime.bigint();
    try {
      this.writeBatch(batch, outcomes);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const item of batch) {
        if (item.kind === 'event') this.poisoned.set(item.key, error);
        item.reject(error);
      }
      this.report(error, 'commit');
      return error;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    batch.forEach((item, i) => {
      const failed = outcomes[i];
      if (!failed) return item.resolve();
      item.reject(failed);
      if (item.kind === 'snapshot') this.report(failed, 'takeSnapshot');
    });
    try {
      this.onCommit?.(seconds, batch.length);
    } catch (err) {
      this.report(err, 'onCommit');
    }
    return undefined;
  }

  private report(err: unknown, what: string): void {
    try {
      this.onError?.(err, what);
    } catch {
      // A broken error hook must not turn into an unhandled exception inside a flush.
    }
  }
}

/**
 * For `configurePersistence`: nact's typings declare `events()` as PromiseLike, but the
 * runtime only calls `.reduce` on it, which the returned array provides.
 */
export function asNactEngine(engine: SqliteJournalEngine): PersistenceEngine {
  return engine as unknown as PersistenceEngine;
}
