import nact from 'nact';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';

/**
 * The only file that knows nact. Everything else speaks ActorRef/Runtime, so
 * nact's quirks stay here and a remote (cluster) runtime can replace it later.
 *
 * nact facts this relies on (7.6.x): a handler returning a promise is awaited
 * before the next message; a persistent actor buffers messages while it
 * recovers; dispatch to a stopped actor is dropped.
 *
 * Two nact habits are kept out on purpose, because both name things with a
 * 32-bit random number and fail (or misdeliver) on a collision:
 * - an actor spawned without a name gets `anonymous-<random>`, and spawning
 *   throws "child actor … already exists" when a live sibling has it: every
 *   actor here gets a name from a counter instead;
 * - `nact.query` files its reply address under a random id, so two queries in
 *   flight can overwrite each other: replies here go through our own table,
 *   keyed by a counter, and a reply address is just that number.
 */
export interface ActorRef<M> {
  readonly __msg?: M;
  readonly __nact: unknown;
  /** Unique for the life of the runtime: the actor's nact name. */
  readonly name: string;
}

/** Where a reply goes: an entry in the runtime's table of pending replies. */
export type ReplyTo = { readonly __replyTo: number };

export interface HandlerContext {
  recovering: boolean;
  /** Journals `event`; `writes` are durable side writes that commit in the same transaction. */
  persist(event: unknown, writes?: readonly unknown[]): Promise<void>;
}

export type Handler<S, M> = (state: S, msg: M, ctx: HandlerContext) => S | Promise<S>;

export interface SpawnOptions<S> {
  initialState: S;
  /** Turns a stored snapshot back into a state (persistent actors). */
  fromSnapshot?(data: unknown): S;
  /** Called when the handler throws; the actor is then stopped (its directory respawns it from the journal). */
  onCrash(err: unknown, msg: unknown): void;
}

/** Why an ask ended without a reply. */
export class AskError extends Error {
  constructor(readonly reason: 'timeout' | 'stopped') {
    super(reason === 'timeout' ? 'the actor did not answer in time' : 'the actor stopped before answering');
  }
}

interface PendingReply {
  resolve(value: unknown): void;
  reject(err: AskError): void;
  timer: TimerHandle | undefined;
  actor: string;
}

type NactRef = nact.Ref<unknown>;
const unwrap = (ref: ActorRef<unknown>) => ref.__nact as NactRef;

export class ActorRuntime {
  private readonly system: nact.ActorSystemRef;
  private nextName = 1;
  private stopped = false;
  private nextReply = 1;
  private readonly replies = new Map<number, PendingReply>();
  /** Reply ids waiting on each actor, so a stopped actor's askers hear of it at once. */
  private readonly waiting = new Map<string, Set<number>>();

  /** `clock` times ask timeouts (the server passes its own, so tests drive them like every other timer). */
  constructor(
    persistenceEngine: unknown,
    private readonly clock: Clock = systemClock(),
  ) {
    this.system = nact.start(nact.configurePersistence(persistenceEngine as never));
  }

  /** Replies not yet delivered (for metrics and tests). */
  get pendingReplies(): number {
    return this.replies.size;
  }

  spawnPersistent<S, M>(key: string, handler: Handler<S, M>, opts: SpawnOptions<S>): ActorRef<M> {
    const name = this.uniqueName(key);
    const ref = nact.spawnPersistent(
      this.system,
      ((state: S, msg: M, ctx: nact.ActorContext<M, never> & { recovering?: boolean; persist: (e: unknown, tags: string[], ...rest: unknown[]) => Promise<void> }) =>
        handler(state, msg, {
          recovering: ctx.recovering === true,
          // nact hands extra persist() arguments to the engine's persist(event, ...rest).
          persist: (event, writes) => ctx.persist(event, [], writes ?? []),
        })) as never,
      key,
      name,
      {
        initialState: opts.initialState,
        // Snapshots are taken by the caller (see Directory), not by nact's counter.
        ...(opts.fromSnapshot ? { snapshotDecoder: opts.fromSnapshot } : {}),
        onCrash: ((msg: unknown, err: unknown, ctx: { stop: symbol }) => {
          opts.onCrash(err, msg);
          this.failWaiting(name);
          return ctx.stop;
        }) as never,
      } as never,
    );
    return { __nact: ref, name } as ActorRef<M>;
  }

  spawn<S, M>(kind: string, handler: Handler<S, M>, opts: SpawnOptions<S>): ActorRef<M> {
    const ref = nact.spawn(
      this.system,
      ((state: S, msg: M) => handler(state, msg, { recovering: false, persist: notPersistent })) as never,
      this.uniqueName(kind),
      {
        initialState: opts.initialState,
        onCrash: ((msg: unknown, err: unknown, ctx: { resume: symbol }) => {
          opts.onCrash(err, msg);
          // A transient actor has no journal to come back from: keep it running.
          return ctx.resume;
        }) as never,
      } as never,
    );
    return { __nact: ref, name: (ref as unknown as { name: string }).name } as ActorRef<M>;
  }

  dispatch<M>(ref: ActorRef<M>, msg: M): void {
    nact.dispatch(unwrap(ref), msg);
  }

  /**
   * Sends the message built around a reply address and waits for the reply.
   * Without a timeout it waits until the actor answers or stops.
   */
  ask<M, R>(ref: ActorRef<M>, build: (replyTo: ReplyTo) => M, timeoutMs?: number): Promise<R> {
    if (this.stopped) return Promise.reject(new AskError('stopped'));
    const id = this.nextReply++;
    return new Promise<R>((resolve, reject) => {
      const pending: PendingReply = { resolve: resolve as (v: unknown) => void, reject, timer: undefined, actor: ref.name };
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        pending.timer = this.clock.setTimeout(() => this.settle(id)?.reject(new AskError('timeout')), timeoutMs);
      }
      this.replies.set(id, pending);
      let waiting = this.waiting.get(ref.name);
      if (!waiting) this.waiting.set(ref.name, (waiting = new Set()));
      waiting.add(id);
      nact.dispatch(unwrap(ref), build({ __replyTo: id }));
    });
  }

  /** Delivers a reply; a reply nobody waits for any more (timed out) is dropped. */
  reply(to: ReplyTo, value: unknown): void {
    this.settle(to.__replyTo)?.resolve(value);
  }

  /** Stops an actor; whoever still waits on it is told at once. */
  stop(ref: ActorRef<unknown>): void {
    nact.stop(unwrap(ref));
    this.failWaiting(ref.name);
  }

  shutdown(): void {
    this.stopped = true;
    nact.stop(this.system);
    for (const name of [...this.waiting.keys()]) this.failWaiting(name);
  }

  private uniqueName(label: string): string {
    // nact names allow [a-z0-9-$_.+!*'(),]; keys look like "room:12".
    return `${label.replace(/[^a-z0-9_.-]/gi, '.')}-${this.nextName++}`;
  }

  private settle(id: number): PendingReply | undefined {
    const pending = this.replies.get(id);
    if (!pending) return undefined;
    this.replies.delete(id);
    this.clock.clearTimeout(pending.timer);
    const waiting = this.waiting.get(pending.actor);
    waiting?.delete(id);
    if (waiting?.size === 0) this.waiting.delete(pending.actor);
    return pending;
  }

  private failWaiting(name: string): void {
    const ids = this.waiting.get(name);
    if (!ids) return;
    for (const id of [...ids]) this.settle(id)?.reject(new AskError('stopped'));
  }
}

function notPersistent(): Promise<void> {
  return Promise.reject(new Error('persist() called in a transient actor'));
}
