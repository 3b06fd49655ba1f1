import type { Static, TSchema } from '@sinclair/typebox';
import type { ErrorName } from './errors.js';

export type Role = 'host' | 'viewer';

/** One request op: what a client sends, what it gets back, what can go wrong. */
export interface OpDef<Req extends TSchema = TSchema, Rep extends TSchema = TSchema> {
  summary: string;
  /** Seed document number(s) this op implements, e.g. "5.2" or "002 live-like". */
  seed: string;
  /** Roles allowed to call it. */
  roles: readonly Role[];
  request: Req;
  reply: Rep;
  /** Business errors this op may answer with (transport errors apply to all ops). */
  errors: readonly ErrorName[];
  /** Pushes this op causes, to the caller or to others. */
  pushes?: readonly string[];
}

/**
 * A server push. `stream: 'room'` pushes are published once to a room's topic
 * and carry `ch: "room/<id>"` with a `seq` of that channel.
 * `stream: 'session'` pushes carry a per-session `seq` and are
 * replayed on resume; `control` pushes concern the connection itself (welcome,
 * kicked) and carry no `seq`.
 */
export interface PushDef<D extends TSchema = TSchema> {
  summary: string;
  seed: string;
  stream: 'session' | 'control' | 'room';
  data: D;
}

export const defineOp = <Req extends TSchema, Rep extends TSchema>(def: OpDef<Req, Rep>) => def;
export const definePush = <D extends TSchema>(def: PushDef<D>) => def;

export type RequestOf<O> = O extends OpDef<infer Req, TSchema> ? Static<Req> : never;
export type ReplyOf<O> = O extends OpDef<TSchema, infer Rep> ? Static<Rep> : never;
export type PushDataOf<P> = P extends PushDef<infer D> ? Static<D> : never;
