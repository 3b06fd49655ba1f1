import type { Clock } from '../clock.js';
import type { DurableWrite } from '../storage/durable-writes.js';
import type { Effect, EffectPorts, Reply, Step } from './effects.js';
import type { Handler, ReplyTo } from './runtime.js';

/**
 * One kind of actor: its state, and a reducer. `reduce` may not read the
 * clock or do I/O; time comes in as `now`, which is journaled with the message
 * so replay reproduces the same state.
 *
 * A reducer signals a change by returning a different top-level object; it may
 * update nested collections of the state in place (so one viewer entering a
 * room of thousands costs O(1), not a copy of the room), because a state whose
 * journal write fails is thrown away: the actor stops and recovers from its
 * journal. A refusal returns the same object and must not touch anything.
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
  /** A finished actor (a closed room): never snapshotted again; its journal was dropped when it finished. */
  retired?(state: S): boolean;
  /** Snapshot form of the state, when it holds values MessagePack would not give back (Maps); default: as is. */
  toSnapshot?(state: S): unknown;
  fromSnapshot?(data: unknown): S;
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

export interface ShellHooks<S = unknown> {
  clock: Clock;
  ports: EffectPorts;
  reply(to: ReplyTo, value: Reply | unknown): void;
  /** After every live message, journaled or not. */
  settled(): void;
  persistFailed(err: unknown): void;
  /** After a journaled message, with the new state (the directory snapshots every N). */
  persisted?(state: S): void;
  /** The durable write that records the actor's new deadlines in the index (same commit as the journal entry). */
  deadlineWrite?(list: Deadline<unknown>[]): DurableWrite;
  /** The actor's deadlines changed (after the commit), or are re-reported after a start (`rearm`). */
  deadlines?(list: Deadline<unknown>[], rearm: boolean): void;
}

/** Thrown out of the handler when a journal write failed, so nact stops the actor (see ActorDef). */
export class JournalWriteFailed extends Error {
  constructor(cause: unknown) {
    super('journal write failed', { cause });
  }
}

/**
 * Turns an ActorDef into a nact handler: reduce; journal the message (with
 * its durable side writes and the deadline index row, in one commit) when the
 * state changed, before anyone is told; then arm timers and run the effects.
 */
export function persistentHandler<S, M>(def: ActorDef<S, M>, hooks: ShellHooks<S>): Handler<S, Envelope<M> | Journaled<M>> {
  return async (state, input, ctx) => {
    if (ctx.recovering) {
      const { m, at } = input as Journaled<M>;
      return def.reduce(state, m, at).state;
    }
    const envelope = input as Envelope<M>;
    if ('sys' in envelope) {
      if (envelope.sys === 'state') hooks.reply(envelope.replyTo, state);
      else hooks.deadlines?.(def.deadlines?.(state) ?? [], true);
      hooks.settled();
      return state;
    }
    try {
      // Timers may fire a hair early against the wall clock; a deadline's
      // message is handled at its due time at the earliest.
      const at = Math.max(hooks.clock.now(), envelope.due ?? 0);
      // Read before reducing: the reducer may update nested state in place.
      const before = def.deadlines?.(state) ?? [];
      const step = def.reduce(state, envelope.msg, at);
      if (step.state !== state) {
        const after = def.deadlines?.(step.state) ?? [];
        const moved = !sameDeadlines(before, after);
        const writes = [...(step.writes ?? [])];
        if (moved && hooks.deadlineWrite) writes.push(hooks.deadlineWrite(after));
        try {
          await ctx.persist({ m: envelope.msg, at } satisfies Journaled<M>, writes);
        } catch (err) {
          hooks.persistFailed(err);
          if (envelope.replyTo) hooks.reply(envelope.replyTo, { ok: false, error: 'INTERNAL' } satisfies Reply);
          throw new JournalWriteFailed(err);
        }
        if (moved) hooks.deadlines?.(after, false);
        hooks.persisted?.(step.state);
      }
      runEffects(step.effects, envelope.replyTo, hooks);
      return step.state;
    } finally {
      hooks.settled();
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
      hooks.settled();
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
