import type { Clock } from '../clock.js';
import type { Effect, EffectPorts, Reply, Step } from './effects.js';
import type { Handler, ReplyTo } from './runtime.js';

/**
 * One kind of actor: its state, and a pure reducer. `reduce` may not read the
 * clock or do I/O; time comes in as `now`, which is journaled with the message
 * so replay reproduces the same state.
 */
export interface ActorDef<S, M> {
  kind: string;
  initialState(id: string): S;
  reduce(state: S, msg: M, now: number): Step<S>;
}

/** What travels in an actor's mailbox. `sys` messages belong to the shell. */
export type Envelope<M> =
  | { msg: M; replyTo?: ReplyTo }
  | { sys: 'state'; replyTo: ReplyTo };

/** What is journaled: the message and the time it was handled at. */
export interface Journaled<M> {
  m: M;
  at: number;
}

export interface ShellHooks {
  clock: Clock;
  ports: EffectPorts;
  reply(to: ReplyTo, value: Reply | unknown): void;
  /** After every live message; `persisted` says whether it was journaled. */
  settled(persisted: boolean): void;
  persistFailed(err: unknown): void;
}

/**
 * Turns a pure ActorDef into a nact handler: reduce; journal the message when
 * the state changed (before anyone is told); then run the effects.
 */
export function persistentHandler<S, M>(def: ActorDef<S, M>, hooks: ShellHooks): Handler<S, Envelope<M> | Journaled<M>> {
  return async (state, input, ctx) => {
    if (ctx.recovering) {
      const { m, at } = input as Journaled<M>;
      return def.reduce(state, m, at).state;
    }
    const envelope = input as Envelope<M>;
    if ('sys' in envelope) {
      hooks.reply(envelope.replyTo, state);
      return state;
    }
    let persisted = false;
    try {
      const at = hooks.clock.now();
      const step = def.reduce(state, envelope.msg, at);
      if (step.state !== state) {
        try {
          await ctx.persist({ m: envelope.msg, at } satisfies Journaled<M>);
          persisted = true;
        } catch (err) {
          hooks.persistFailed(err);
          if (envelope.replyTo) hooks.reply(envelope.replyTo, { ok: false, error: 'INTERNAL' } satisfies Reply);
          return state;
        }
      }
      runEffects(step.effects, envelope.replyTo, hooks);
      return step.state;
    } finally {
      hooks.settled(persisted);
    }
  };
}

/** The same shell for actors whose state lives only in memory (never replayed). */
export function transientHandler<S, M>(def: ActorDef<S, M>, hooks: ShellHooks): Handler<S, Envelope<M>> {
  return (state, envelope) => {
    if ('sys' in envelope) {
      hooks.reply(envelope.replyTo, state);
      return state;
    }
    try {
      const step = def.reduce(state, envelope.msg, hooks.clock.now());
      runEffects(step.effects, envelope.replyTo, hooks);
      return step.state;
    } finally {
      hooks.settled(false);
    }
  };
}

function runEffects(effects: Effect[], replyTo: ReplyTo | undefined, hooks: ShellHooks): void {
  for (const effect of effects) {
    if (effect.type === 'reply') {
      if (replyTo) hooks.reply(replyTo, effect.reply);
    } else {
      hooks.ports.push(effect.userId, effect.op, effect.d);
    }
  }
}
