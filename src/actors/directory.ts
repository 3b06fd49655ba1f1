import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import { askActor } from './ask.js';
import type { EffectPorts } from './effects.js';
import type { ActorRuntime, ActorRef } from './runtime.js';
import { persistentHandler, type ActorDef, type Deadline, type Envelope, type Journaled } from './shell.js';

/** Where actors holding deadlines are listed, so they can be woken at start. */
export interface DeadlineStore {
  set(key: string, nextAt: number): void;
  clear(key: string): void;
  keysOf(kind: string): string[];
}

/** What the directory needs of storage to snapshot an actor it passivates. */
export interface SnapshotStore {
  lastSequence(key: string): number;
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
  /** Required when the actor kind has deadlines. */
  deadlineStore?: DeadlineStore;
}

interface ArmedDeadline {
  at: number;
  handle: TimerHandle;
  fired: boolean;
}

interface Entry<M> {
  key: string;
  ref: ActorRef<Envelope<M>>;
  pending: number;
  lastUsed: number;
  /** Persisted something since spawn: worth a snapshot when passivated. */
  dirty: boolean;
}

/**
 * Spawns `<kind>:<id>` persistent actors on demand and passivates idle ones,
 * so 100k known users do not mean 100k live actors. A passivated actor is
 * snapshotted, stopped, and recovered from snapshot + journal on its next message.
 */
export class Directory<S, M> {
  private readonly live = new Map<string, Entry<M>>();
  /** Deadline timers by actor key; they outlive passivation (a firing timer respawns the actor). */
  private readonly armed = new Map<string, Map<string, ArmedDeadline>>();
  private sweepTimer: TimerHandle | undefined;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: DirectoryOptions<S, M>) {
    this.scheduleSweep();
  }

  get size(): number {
    return this.live.size;
  }

  tell(id: string | number, msg: M): void {
    const entry = this.enter(id);
    this.opts.runtime.dispatch(entry.ref, { msg });
  }

  /** Sends and waits for the reducer's reply; a refused reply throws ProtocolError. */
  async ask<R>(id: string | number, msg: M): Promise<R> {
    const entry = this.enter(id);
    return askActor<M, R>(this.opts.runtime, entry.ref, msg, this.opts.askTimeoutMs, this.opts.logger, entry.key);
  }

  /** Wakes every actor of this kind that holds deadlines, so their timers run again (at start). */
  wakeAll(): number {
    const keys = this.opts.deadlineStore?.keysOf(this.opts.def.kind) ?? [];
    for (const key of keys) {
      const entry = this.enter(key.slice(this.opts.def.kind.length + 1));
      this.opts.runtime.dispatch(entry.ref, { sys: 'rearm' });
    }
    return keys.length;
  }

  /** Passivates every idle actor now (the sweep does this periodically). */
  async passivateIdle(): Promise<void> {
    const now = this.opts.clock.now();
    const idle = [...this.live.values()].filter((e) => e.pending === 0 && now - e.lastUsed >= this.opts.idleMs);
    await Promise.all(idle.map((e) => this.passivate(e)));
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

  private enter(id: string | number): Entry<M> {
    if (this.closed) throw new ProtocolError('UNAVAILABLE');
    const key = `${this.opts.def.kind}:${id}`;
    let entry = this.live.get(key);
    if (!entry) {
      entry = { key, ref: this.spawn(key, String(id)), pending: 0, lastUsed: 0, dirty: false };
      this.live.set(key, entry);
    }
    entry.pending++;
    entry.lastUsed = this.opts.clock.now();
    return entry;
  }

  private spawn(key: string, id: string): ActorRef<Envelope<M>> {
    const { runtime, def, clock, ports, logger } = this.opts;
    const log = logger.child({ actor: key });
    const handler = persistentHandler(def, {
      clock,
      ports,
      reply: (to, value) => runtime.reply(to, value),
      settled: (persisted) => this.settled(key, persisted),
      persistFailed: (err) => log.error({ err }, 'journal write failed; message refused'),
      deadlines: (list) => this.reconcileDeadlines(key, id, list as Deadline<M>[]),
    });
    // The journal feeds Journaled<M> back in during recovery; callers only ever send envelopes.
    return runtime.spawnPersistent<S, Envelope<M> | Journaled<M>>(key, handler, {
      initialState: def.initialState(id),
      snapshotEvery: this.opts.snapshotEvery,
      onCrash: (err, msg) => {
        log.error({ err, msg }, 'actor crashed; it restarts from its journal on the next message');
        this.live.delete(key);
      },
    }) as ActorRef<Envelope<M>>;
  }

  /** Arms timers for new or moved deadlines, cancels gone ones, and keeps the index in step. */
  private reconcileDeadlines(key: string, id: string, list: Deadline<M>[]): void {
    const { clock, deadlineStore, logger } = this.opts;
    const before = this.armed.get(key) ?? new Map<string, ArmedDeadline>();
    const after = new Map<string, ArmedDeadline>();
    for (const d of list) {
      const prev = before.get(d.id);
      before.delete(d.id);
      if (prev && prev.at === d.at) {
        if (prev.fired) logger.warn({ actor: key, deadline: d.id }, 'deadline still held after it fired; it fires again after a restart');
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
    if (after.size === 0) {
      this.armed.delete(key);
      deadlineStore?.clear(key);
      return;
    }
    this.armed.set(key, after);
    if (!deadlineStore) throw new Error(`${this.opts.def.kind} actors hold deadlines but the directory has no deadline store`);
    deadlineStore.set(key, Math.min(...[...after.values()].map((d) => d.at)));
  }

  private settled(key: string, persisted: boolean): void {
    const entry = this.live.get(key);
    if (!entry) return;
    entry.pending = Math.max(0, entry.pending - 1);
    entry.lastUsed = this.opts.clock.now();
    entry.dirty ||= persisted;
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
    // Read the journal position now: a successor spawned for the same key may
    // append after this point, and the snapshot must match this actor's state.
    const sequenceNumber = snapshots.lastSequence(entry.key);
    try {
      if (entry.dirty && sequenceNumber > 0) {
        const data = await runtime.query<Envelope<M>, S>(entry.ref, (replyTo) => ({ sys: 'state', replyTo }), this.opts.askTimeoutMs);
        await snapshots.takeSnapshot({ data, sequenceNumber, key: entry.key, createdAt: this.opts.clock.now() });
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
