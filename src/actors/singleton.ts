import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { askActor } from './ask.js';
import type { EffectPorts } from './effects.js';
import type { ActorRef, ActorRuntime } from './runtime.js';
import { transientHandler, type ActorDef, type Envelope } from './shell.js';

/** One in-memory actor of a kind (e.g. presence), reached by tell/ask. */
export class Singleton<S, M> {
  private readonly ref: ActorRef<Envelope<M>>;
  private readonly logger: Logger;
  private readonly askTimeoutMs: number;
  private readonly kind: string;

  constructor(
    private readonly runtime: ActorRuntime,
    def: ActorDef<S, M>,
    deps: { clock: Clock; ports: EffectPorts; logger: Logger; askTimeoutMs: number },
  ) {
    this.kind = def.kind;
    this.logger = deps.logger.child({ actor: def.kind });
    this.askTimeoutMs = deps.askTimeoutMs;
    this.ref = runtime.spawn<S, Envelope<M>>(def.kind, transientHandler(def, {
      clock: deps.clock,
      ports: deps.ports,
      reply: (to, value) => runtime.reply(to, value),
      settled: () => {},
      persistFailed: () => {},
    }), {
      initialState: def.initialState(def.kind),
      onCrash: (err, msg) => this.logger.error({ err, msg }, 'actor failed on a message; it keeps running'),
    });
  }

  tell(msg: M): void {
    this.runtime.dispatch(this.ref, { msg });
  }

  ask<R>(msg: M): Promise<R> {
    return askActor<M, R>(this.runtime, this.ref, msg, this.askTimeoutMs, this.logger, this.kind);
  }
}
