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
  /** After every live message, journaled or not, once what it does has been done. */
  settled(): void;
  persistFailed(err: unknown): void;
  /**
   * A journal write failed: stop this incarnation now (the next message recovers
   * the actor from its journal). Messages reduced after it are answered INTERNAL.
   */
  abort(err: unknown): void;
  /**
   * Right after a message's journal write was queued, with the new state: the
   * directory may queue a snapshot of it behind that write (same commit order).
   */
  journaled?(state: S): void;
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
 * Turns an ActorDef into a nact handler. Messages are reduced one after the
 * other without waiting for each journal write: a burst of 200 entries to one
 * room becomes 200 queued writes that share one group commit, instead of 200
 * commits in a row. What a message does — its reply, pushes, timers — runs
 * only after its own write and every earlier one of the actor committed, in
 * order; so does the reply to a message that changed nothing (it read state
 * that earlier messages changed). When a write fails, the actor stops: it
 * and every message reduced after it are answered INTERNAL, the journal keeps
 * no gap (see SqliteJournalEngine), and the next message recovers the actor.
 */
export function persistentHandler<S, M>(def: ActorDef<S, M>, hooks: ShellHooks<S>): Handler<S, Envelope<M> | Journaled<M>> {
  let tail: Promise<void> = Promise.resolve();
  let broken = false;
  let aborted = false;
  /** Runs `work` after everything queued before it; `work` never throws (a throw would break the chain). */
  const then = (work: () => void) => {
    tail = tail.then(() => guarded(work));
  };
  /** A bug in an effect must not break the chain: it stops the actor, as a throw in a handler would. */
  const guarded = (work: () => void) => {
    try {
      work();
    } catch (err) {
      broken = true;
      if (!aborted) {
        aborted = true;
        hooks.abort(err);
      }
    } finally {
      hooks.settled();
    }
  };
  const failed = (replyTo: ReplyTo | undefined) => {
    if (replyTo) hooks.reply(replyTo, { ok: false, error: 'INTERNAL' } satisfies Reply);
  };
  return (state, input, ctx) => {
    if (ctx.recovering) {
      const { m, at } = input as Journaled<M>;
      return def.reduce(state, m, at).state;
    }
    const envelope = input as Envelope<M>;
    if ('sys' in envelope) {
      then(() => {
        if (envelope.sys === 'state') hooks.reply(envelope.replyTo, state);
        else hooks.deadlines?.(def.deadlines?.(state) ?? [], true);
      });
      return state;
    }
    if (broken) {
      then(() => failed(envelope.replyTo));
      return state;
    }
    // Timers may fire a hair early against the wall clock; a deadline's
    // message is handled at its due time at the earliest.
    const at = Math.max(hooks.clock.now(), envelope.due ?? 0);
    // Read before reducing: the reducer may update nested state in place.
    const before = def.deadlines?.(state) ?? [];
    const step = def.reduce(state, envelope.msg, at);
    if (step.state === state) {
      then(() => runEffects(step.effects, envelope.replyTo, hooks));
      return state;
    }
    const after = def.deadlines?.(step.state) ?? [];
    const moved = !sameDeadlines(before, after);
    const writes = [...(step.writes ?? [])];
    if (moved && hooks.deadlineWrite) writes.push(hooks.deadlineWrite(after));
    const written = ctx.persist({ m: envelope.msg, at } satisfies Journaled<M>, writes);
    hooks.journaled?.(step.state);
    // Known failed at once, so messages reduced from now on are refused; the actor
    // stops in turn, after the messages before this one have been answered.
    const committed = written.then(
      () => undefined,
      (err: unknown) => {
        broken = true;
        return err;
      },
    );
    tail = tail.then(() => committed).then((err) =>
      guarded(() => {
        if (err !== undefined) {
          if (!aborted) {
            aborted = true;
            hooks.persistFailed(err);
            hooks.abort(new JournalWriteFailed(err));
          }
          return failed(envelope.replyTo);
        }
        if (moved) hooks.deadlines?.(after, false);
        runEffects(step.effects, envelope.replyTo, hooks);
      }),
    );
    return step.state;
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
