import type { ErrorName } from '../protocol/errors.js';
import type { PushName } from '../protocol/ops/index.js';

/**
 * What a reducer wants done, as data. The shell runs effects only for live
 * messages, never while an actor replays its journal.
 */
export type Effect =
  | { type: 'reply'; reply: Reply }
  | { type: 'push'; userId: number; op: PushName; d: unknown };

export type Reply = { ok: true; value: unknown } | { ok: false; error: ErrorName; detail?: string };

export interface Step<S> {
  state: S;
  effects: Effect[];
}

export const ok = (value: unknown = {}): Effect => ({ type: 'reply', reply: { ok: true, value } });
export const fail = (error: ErrorName, detail?: string): Effect => ({ type: 'reply', reply: { ok: false, error, detail } });
export const push = (userId: number, op: PushName, d: unknown): Effect => ({ type: 'push', userId, op, d });

/** What the outside world offers to effects. */
export interface EffectPorts {
  push(userId: number, op: PushName, d: unknown): void;
}
