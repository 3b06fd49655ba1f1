import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import { askActor } from './ask.js';
import type { EffectPorts } from './effects.js';
import type { ActorRef, ActorRuntime } from './runtime.js';
import { transientHandler, type ActorDef, type Envelope } from './shell.js';

/** One in-memory actor of a kind (e.g. presence), reached by tell/ask. */
export class Singleton<S, M> {
  private readonly ref: ActorRef<Envelope<M>>;
  private readonly logger: Logger;
  private readonly askTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly kind: string;
  /** Messages sent and not yet handled. */
  private pending = 0;

  constructor(
    private readonly runtime: ActorRuntime,
    def: ActorDef<S, M>,
    deps: { clock: Clock; ports: EffectPorts; logger: Logger; askTimeoutMs: number; maxQueue?: number },
  ) {
    this.kind = def.kind;
    this.logger = deps.logger.child({ actor: def.kind });
    this.askTimeoutMs = deps.askTimeoutMs;
    this.maxQueue = deps.maxQueue ?? Number.POSITIVE_INFINITY;
    this.ref = runtime.spawn<S, Envelope<M>>(def.kind, transientHandler(def, {
      clock: deps.clock,
      ports: deps.ports,
      reply: (to, value) => runtime.reply(to, value),
      settled: () => void this.pending--,
      persistFailed: () => {},
      abort: () => {},
    }), {
      initialState: def.initialState(def.kind),
      // The shell's `settled` already counted the failed message.
      onCrash: (err, msg) => {
        this.logger.error({ err, msg }, 'actor failed on a message; it keeps running');
      },
    });
  }

  /** Fire and forget; never shed (state changes reported by the server itself). */
  tell(msg: M): void {
    this.pending++;
    this.runtime.dispatch(this.ref, { msg });
  }

  /** A request: refused at once with BUSY (908) while the actor's queue is full. */
  ask<R>(msg: M): Promise<R> {
    if (this.pending >= this.maxQueue) return Promise.reject(new ProtocolError('BUSY', `${this.kind} queue full`));
    this.pending++;
    return askActor<M, R>(this.runtime, this.ref, msg, this.askTimeoutMs, this.logger, this.kind);
  }
}
