import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import type { DurableWrite } from '../storage/durable-writes.js';
import { askActor } from './ask.js';
import type { EffectPorts } from './effects.js';
import type { ActorRuntime, ActorRef } from './runtime.js';
import { JournalWriteFailed, persistentHandler, type ActorDef, type Deadline, type Envelope, type Journaled } from './shell.js';

/** The deadline index as the directory reads it at start (rows are written with journal entries). */
export interface DeadlineStore {
  /** Calls `fn` for each actor of `kind` listed with its next due time, (in no particular order). */
  eachDue(kind: string, fn: (key: string, nextAt: number) => void): void;
  /** Drops a row no actor state backs any more (found when the actor came back without deadlines). */
  clear(key: string): void;
}

/** What the directory needs of storage to snapshot its actors. */
export interface SnapshotStore {
  lastSequence(key: string): number;
  /** The sequence number of the newest write of `key`, queued or stored, without committing anything. */
  position(key: string): number;
  takeSnapshot(snapshot: { data: unknown; sequenceNumber: number; key: string; createdAt: number }): Promise<void>;
}

export interface DirectoryOptions<S, M> {
  runtime: ActorRuntime;
  def: ActorDef<S, M>;
  clock: Clock;
  ports: EffectPorts;
  logger: Logger;
  snapshots: SnapshotStore;
  /** Passivate an actor after this long without messages. */
  idleMs: number;
  snapshotEvery: number;
  askTimeoutMs: number;
  /** Requests refused with BUSY (908) once this many messages wait for one actor. */
  maxQueue?: number;
  /** Required when the actor kind has deadlines. */
  deadlineStore?: DeadlineStore;
}

export interface AskOptions {
  /** Refuse with BUSY when the actor's queue is full (default); internal asks that must not be lost pass false. */
  shed?: boolean;
  /** Default: the directory's askTimeoutMs; Infinity waits until the actor answers or stops. */
  timeoutMs?: number;
}

interface ArmedDeadline {
  at: number;
  handle: TimerHandle;
  fired: boolean;
}

/** Idle actors passivated per turn of the event loop by a sweep. */
const PASSIVATE_PER_TURN = 200;

/** The timer armed from the index at start, before the actor itself reports its deadlines. */
const FROM_INDEX = '#index';

interface Entry<M> {
  key: string;
  ref: ActorRef<Envelope<M>>;
  pending: number;
  lastUsed: number;
  /** Journaled since the last snapshot: worth a snapshot when passivated. */
  sinceSnapshot: number;
  retired: boolean;
}

/**
 * Spawns `<kind>:<id>` persistent actors on demand and passivates idle ones,
 * so 100k known users do not mean 100k live actors. A passivated actor is
 * snapshotted, stopped, and recovered from snapshot + journal on its next
 * message. Deadline timers outlive passivation: a firing timer recovers the actor.
 */
export class Directory<S, M> {
  private readonly live = new Map<string, Entry<M>>();
  /** Deadline timers by actor key; they outlive passivation (a firing timer respawns the actor). */
  private readonly armed = new Map<string, Map<string, ArmedDeadline>>();
  private sweepTimer: TimerHandle | undefined;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly maxQueue: number;

  constructor(private readonly opts: DirectoryOptions<S, M>) {
    this.maxQueue = opts.maxQueue ?? Number.POSITIVE_INFINITY;
    this.scheduleSweep();
  }

  get size(): number {
    return this.live.size;
  }

  /** Deadline timers armed (actors holding deadlines, live or passivated). */
  get armedActors(): number {
    return this.armed.size;
  }

  tell(id: string | number, msg: M): void {
    const entry = this.enter(id);
    this.opts.runtime.dispatch(entry.ref, { msg });
  }

  /** Sends and waits for the reducer's reply; a refused reply throws ProtocolError. */
  async ask<R>(id: string | number, msg: M, opts: AskOptions = {}): Promise<R> {
    const key = this.keyOf(id);
    if (opts.shed !== false && (this.live.get(key)?.pending ?? 0) >= this.maxQueue) {
      throw new ProtocolError('BUSY', `${this.opts.def.kind} queue full`);
    }
    const entry = this.enter(id);
    return askActor<M, R>(this.opts.runtime, entry.ref, msg, opts.timeoutMs ?? this.opts.askTimeoutMs, this.opts.logger, key);
  }

  /**
   * At start: arms one timer per actor listed in the deadline index, at its
   * next due time, without recovering anybody. When it fires (or a message
   * comes first) the actor is recovered and re-reports its deadlines.
   */
  armFromIndex(): number {
    const { deadlineStore, def, clock } = this.opts;
    let n = 0;
    deadlineStore?.eachDue(def.kind, (key, nextAt) => {
      const id = key.slice(def.kind.length + 1);
      const wake: ArmedDeadline = {
        at: nextAt,
        fired: false,
        handle: clock.setTimeout(() => {
          wake.fired = true;
          // Spawning is enough: a recovered actor's first message is `rearm`.
          if (!this.closed) this.enter(id, false);
        }, Math.max(0, nextAt - clock.now())),
      };
      this.armed.set(key, new Map<string, ArmedDeadline>().set(FROM_INDEX, wake));
      n++;
    });
    return n;
  }

  /** Passivates every idle actor now (the sweep does this periodically). */
  async passivateIdle(): Promise<void> {
    const now = this.opts.clock.now();
    const idle = [...this.live.values()].filter((e) => e.pending === 0 && now - e.lastUsed >= this.opts.idleMs);
    // A few hundred per turn of the event loop: after a storm thousands are idle at once, and
    // passivating them in one go (a snapshot each) would stall everything else for a while.
    for (let i = 0; i < idle.length; i += PASSIVATE_PER_TURN) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      await Promise.all(idle.slice(i, i + PASSIVATE_PER_TURN).filter((e) => this.live.get(e.key) === e && e.pending === 0).map((e) => this.passivate(e)));
    }
  }

  /** Waits for in-flight messages, snapshots and stops every actor. */
  async close(): Promise<void> {
    this.closed = true;
    this.opts.clock.clearTimeout(this.sweepTimer);
    for (const timers of this.armed.values()) for (const t of timers.values()) this.opts.clock.clearTimeout(t.handle);
    this.armed.clear();
    await this.whenIdle();
    await Promise.all([...this.live.values()].map((e) => this.passivate(e)));
  }

  private keyOf(id: string | number): string {
    return `${this.opts.def.kind}:${id}`;
  }

  /** The live entry of an actor, spawning (recovering) it if needed; counts one message in flight. */
  private enter(id: string | number, counted = true): Entry<M> {
    if (this.closed) throw new ProtocolError('UNAVAILABLE');
    const key = this.keyOf(id);
    let entry = this.live.get(key);
    if (!entry) {
      const fresh: Entry<M> = { key, ref: undefined as unknown as ActorRef<Envelope<M>>, pending: 0, lastUsed: 0, sinceSnapshot: 0, retired: false };
      fresh.ref = this.spawn(fresh, String(id));
      entry = fresh;
      this.live.set(key, entry);
      if (this.opts.def.deadlines) {
        // First in its mailbox: the recovered actor reports its deadlines before anything else.
        entry.pending++;
        this.opts.runtime.dispatch(entry.ref, { sys: 'rearm' });
      }
    }
    if (counted) entry.pending++;
    entry.lastUsed = this.opts.clock.now();
    return entry;
  }

  /** Spawns the actor of `entry`; its hooks count for this incarnation only (a successor may share the key). */
  private spawn(entry: Entry<M>, id: string): ActorRef<Envelope<M>> {
    const key = entry.key;
    const { runtime, def, clock, ports, logger } = this.opts;
    // Plain fields rather than a child logger per actor: a pino child costs about a kilobyte, and most actors never log.
    const log = { error: (fields: object, msg: string) => logger.error({ ...fields, actor: key }, msg) };
    const handler = persistentHandler<S, M>(def, {
      clock,
      ports,
      reply: (to, value) => runtime.reply(to, value),
      settled: () => this.settled(entry),
      persistFailed: (err) => log.error({ err }, 'journal write failed; message refused, the actor restarts from its journal'),
      abort: (err) => {
        if (!(err instanceof JournalWriteFailed)) log.error({ err }, 'actor failed; it restarts from its journal on the next message');
        if (this.live.get(key)?.ref === ref) this.live.delete(key);
        runtime.stop(ref);
        this.wakeIdleWaiters();
      },
      journaled: (state) => this.journaled(entry, state),
      deadlineWrite: (list): DurableWrite => ({ t: 'deadline', key, nextAt: list.length ? Math.min(...list.map((d) => d.at)) : null }),
      deadlines: (list, rearm) => this.reconcileDeadlines(key, id, list as Deadline<M>[], rearm),
    });
    // The journal feeds Journaled<M> back in during recovery; callers only ever send envelopes.
    const ref = runtime.spawnPersistent<S, Envelope<M> | Journaled<M>>(key, handler as never, {
      initialState: def.initialState(id),
      fromSnapshot: def.fromSnapshot,
      onCrash: (err) => {
        if (!(err instanceof JournalWriteFailed)) log.error({ err }, 'actor crashed; it restarts from its journal on the next message');
        // Only this incarnation: a successor may already be live under the same key.
        if (this.live.get(key)?.ref === ref) this.live.delete(key);
        this.wakeIdleWaiters();
      },
    }) as ActorRef<Envelope<M>>;
    return ref;
  }

  /** Arms timers for new or moved deadlines, cancels gone ones. */
  private reconcileDeadlines(key: string, id: string, list: Deadline<M>[], rearm: boolean): void {
    const { clock, deadlineStore, logger } = this.opts;
    const before = this.armed.get(key) ?? new Map<string, ArmedDeadline>();
    const fromIndex = before.get(FROM_INDEX);
    before.delete(FROM_INDEX);
    const after = new Map<string, ArmedDeadline>();
    for (const d of list) {
      const prev = before.get(d.id);
      before.delete(d.id);
      if (prev && prev.at === d.at) {
        if (prev.fired && !rearm) logger.warn({ actor: key, deadline: d.id }, 'deadline still held after it fired; it fires again after a restart');
        after.set(d.id, prev);
        continue;
      }
      if (prev) clock.clearTimeout(prev.handle);
      const fire = () => {
        armed.fired = true;
        if (this.closed) return;
        this.opts.runtime.dispatch(this.enter(id).ref, { msg: d.msg, due: d.at });
      };
      const armed: ArmedDeadline = { at: d.at, fired: false, handle: clock.setTimeout(fire, Math.max(0, d.at - clock.now())) };
      after.set(d.id, armed);
    }
    for (const gone of before.values()) clock.clearTimeout(gone.handle);
    if (fromIndex) clock.clearTimeout(fromIndex.handle);
    if (after.size > 0) {
      this.armed.set(key, after);
      return;
    }
    this.armed.delete(key);
    // Listed in the index but holding nothing: a stale row (e.g. written by an older build); drop it.
    if (fromIndex && rearm) deadlineStore?.clear(key);
  }

  /**
   * Right after a journal write was queued: every N of them, a snapshot of the
   * state as it is now is queued behind it (encoded now: later messages update
   * the state in place). It commits after that write, or fails with it.
   */
  private journaled(entry: Entry<M>, state: S): void {
    const key = entry.key;
    if (this.live.get(key) !== entry) return;
    entry.retired = this.opts.def.retired?.(state) ?? false;
    if (entry.retired || ++entry.sinceSnapshot < this.opts.snapshotEvery) return;
    entry.sinceSnapshot = 0;
    this.snapshot(key, state, this.opts.snapshots.position(key)).catch((err) =>
      this.opts.logger.warn({ err, actor: key }, 'snapshot failed; the journal still has everything'),
    );
  }

  /** Stores `state` as the snapshot of `key` at `sequenceNumber` (default: the journal's position now). */
  private async snapshot(key: string, state: S, sequenceNumber = this.opts.snapshots.lastSequence(key)): Promise<void> {
    const { snapshots, def, clock } = this.opts;
    const data = def.toSnapshot ? def.toSnapshot(state) : state;
    await snapshots.takeSnapshot({ data, sequenceNumber, key, createdAt: clock.now() });
  }

  private settled(entry: Entry<M>): void {
    if (this.live.get(entry.key) === entry) {
      entry.pending = Math.max(0, entry.pending - 1);
      entry.lastUsed = this.opts.clock.now();
      // A finished actor (a closed room) has nothing left to do in memory.
      if (entry.retired && entry.pending === 0 && !this.closed) void this.passivate(entry);
    }
    this.wakeIdleWaiters();
  }

  private wakeIdleWaiters(): void {
    if (this.idleWaiters.length && this.allIdle()) this.idleWaiters.splice(0).forEach((wake) => wake());
  }

  private allIdle(): boolean {
    for (const e of this.live.values()) if (e.pending > 0) return false;
    return true;
  }

  private whenIdle(): Promise<void> {
    return this.allIdle() ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async passivate(entry: Entry<M>): Promise<void> {
    const { runtime, snapshots, logger } = this.opts;
    this.live.delete(entry.key);
    try {
      if (entry.sinceSnapshot > 0 && !entry.retired) {
        // Read the journal position now: a successor spawned for the same key may
        // append after this point, and the snapshot must match this actor's state.
        const sequenceNumber = snapshots.lastSequence(entry.key);
        const state = await runtime.ask<Envelope<M>, S>(entry.ref, (replyTo) => ({ sys: 'state', replyTo }), this.opts.askTimeoutMs);
        await this.snapshot(entry.key, state, sequenceNumber);
      }
    } catch (err) {
      logger.warn({ err, actor: entry.key }, 'snapshot on passivation failed; the journal still has everything');
    } finally {
      runtime.stop(entry.ref);
    }
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.opts.clock.setTimeout(() => {
      void this.passivateIdle().finally(() => {
        if (!this.closed) this.scheduleSweep();
      });
    }, Math.max(1000, Math.floor(this.opts.idleMs / 2)));
  }
}
