import nact from 'nact';

/**
 * The only file that knows nact. Everything else speaks ActorRef/Runtime, so
 * nact's quirks stay here and a remote (cluster) runtime can replace it later.
 *
 * nact facts this relies on (7.6.x): a handler returning a promise is awaited
 * before the next message; a persistent actor buffers messages while it
 * recovers; dispatch to a stopped actor is dropped; query needs a timeout.
 */
export interface ActorRef<M> {
  readonly __msg?: M;
  readonly __nact: unknown;
}

/** Where a reply goes: nact's temporary reference of a query. */
export type ReplyTo = { readonly __replyTo: unknown };

export interface HandlerContext {
  recovering: boolean;
  persist(event: unknown): Promise<void>;
}

export type Handler<S, M> = (state: S, msg: M, ctx: HandlerContext) => S | Promise<S>;

export interface SpawnOptions<S> {
  initialState: S;
  /** Take a snapshot after this many persisted messages. */
  snapshotEvery?: number;
  /** Called when the handler throws; the actor is then stopped (its directory respawns it from the journal). */
  onCrash(err: unknown, msg: unknown): void;
}

type NactRef = nact.Ref<unknown>;
const wrap = <M>(ref: unknown): ActorRef<M> => ({ __nact: ref }) as ActorRef<M>;
const unwrap = (ref: ActorRef<unknown>) => ref.__nact as NactRef;

export class ActorRuntime {
  private readonly system: nact.ActorSystemRef;

  constructor(persistenceEngine: unknown) {
    this.system = nact.start(nact.configurePersistence(persistenceEngine as never));
  }

  spawnPersistent<S, M>(key: string, handler: Handler<S, M>, opts: SpawnOptions<S>): ActorRef<M> {
    const ref = nact.spawnPersistent(
      this.system,
      ((state: S, msg: M, ctx: nact.ActorContext<M, never> & { recovering?: boolean; persist: (e: unknown) => Promise<void> }) =>
        handler(state, msg, { recovering: ctx.recovering === true, persist: ctx.persist })) as never,
      key,
      undefined,
      {
        initialState: opts.initialState,
        snapshotEvery: opts.snapshotEvery,
        onCrash: ((msg: unknown, err: unknown, ctx: { stop: symbol }) => {
          opts.onCrash(err, msg);
          return ctx.stop;
        }) as never,
      } as never,
    );
    return wrap<M>(ref);
  }

  spawn<S, M>(name: string, handler: Handler<S, M>, opts: SpawnOptions<S>): ActorRef<M> {
    const ref = nact.spawn(
      this.system,
      ((state: S, msg: M) => handler(state, msg, { recovering: false, persist: notPersistent })) as never,
      name,
      {
        initialState: opts.initialState,
        onCrash: ((msg: unknown, err: unknown, ctx: { resume: symbol }) => {
          opts.onCrash(err, msg);
          // A transient actor has no journal to come back from: keep it running.
          return ctx.resume;
        }) as never,
      } as never,
    );
    return wrap<M>(ref);
  }

  dispatch<M>(ref: ActorRef<M>, msg: M): void {
    nact.dispatch(unwrap(ref), msg);
  }

  /** Sends the message built around a reply address and waits for the reply. */
  query<M, R>(ref: ActorRef<M>, build: (replyTo: ReplyTo) => M, timeoutMs: number): Promise<R> {
    return nact.query(unwrap(ref), ((temp: unknown) => build({ __replyTo: temp })) as never, timeoutMs) as Promise<R>;
  }

  reply(to: ReplyTo, value: unknown): void {
    nact.dispatch(to.__replyTo as NactRef, value);
  }

  stop(ref: ActorRef<unknown>): void {
    nact.stop(unwrap(ref));
  }

  shutdown(): void {
    nact.stop(this.system);
  }
}

function notPersistent(): Promise<void> {
  return Promise.reject(new Error('persist() called in a transient actor'));
}
