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
  /**
   * The deadlines the state holds (countdown ends, expiries…): at `at`, `msg`
   * is delivered to the actor, even across restarts. The reducer must treat
   * it idempotently: it may arrive late, or for a deadline already gone.
   */
  deadlines?(state: S): Deadline<M>[];
}

export interface Deadline<M> {
  id: string;
  at: number;
  msg: M;
}

/** What travels in an actor's mailbox. `sys` messages belong to the shell. */
export type Envelope<M> =
  /** `due`: set when a deadline delivers `msg`; the reducer's `now` is then never before it. */
  | { msg: M; replyTo?: ReplyTo; due?: number }
  | { sys: 'state'; replyTo: ReplyTo }
  /** After a (re)start: report the deadlines of the recovered state. */
  | { sys: 'rearm' };

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
  /** The actor's deadlines changed (or are re-reported after a start). */
  deadlines?(list: Deadline<unknown>[]): void;
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
      if (envelope.sys === 'state') hooks.reply(envelope.replyTo, state);
      else hooks.deadlines?.(def.deadlines?.(state) ?? []);
      hooks.settled(false);
      return state;
    }
    let persisted = false;
    try {
      // Timers may fire a hair early against the wall clock; a deadline's
      // message is handled at its due time at the earliest.
      const at = Math.max(hooks.clock.now(), envelope.due ?? 0);
      const step = def.reduce(state, envelope.msg, at);
      if (step.state !== state) {
        // Deadlines are indexed before the journal write: a crash in between
        // leaves at worst a wake-up for a deadline that no longer exists.
        const before = def.deadlines?.(state) ?? [];
        const after = def.deadlines?.(step.state) ?? [];
        const moved = !sameDeadlines(before, after);
        if (moved) hooks.deadlines?.(after);
        try {
          await ctx.persist({ m: envelope.msg, at } satisfies Journaled<M>);
          persisted = true;
        } catch (err) {
          if (moved) hooks.deadlines?.(before);
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
      if (envelope.sys === 'state') hooks.reply(envelope.replyTo, state);
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
    switch (effect.type) {
      case 'reply':
        if (replyTo) hooks.reply(replyTo, effect.reply);
        break;
      case 'push':
        hooks.ports.push(effect.userId, effect.op, effect.d);
        break;
      case 'publish':
        hooks.ports.publish(effect.topic, effect.op, effect.d);
        break;
      case 'emit':
        hooks.ports.emit(effect.event);
        break;
    }
  }
}

function sameDeadlines(a: Deadline<unknown>[], b: Deadline<unknown>[]): boolean {
  return a.length === b.length && a.every((d, i) => d.id === b[i]!.id && d.at === b[i]!.at);
}
