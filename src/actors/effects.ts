import type { ErrorName } from '../protocol/errors.js';
import type { PushName } from '../protocol/ops/index.js';
import type { Charge } from './charges.js';
import type { TalentCharge } from './talent.js';
import type { Profile } from '../protocol/schemas.js';
import type { DurableWrite } from '../storage/durable-writes.js';

/**
 * What a reducer wants done, as data. The shell runs effects only for live
 * messages, never while an actor replays its journal.
 */
export type Effect =
  | { type: 'reply'; reply: Reply }
  | { type: 'push'; userId: number; op: PushName; d: unknown }
  /** Once to everyone subscribed to the topic (uWS fans it out in C++). */
  | { type: 'publish'; topic: string; op: PushName; d: unknown }
  /** A fact for the server around the actors (memberships, listings, presence). */
  | { type: 'emit'; event: DomainEvent };

/** Facts actors report outward; the server keeps its indexes from them. */
export type DomainEvent =
  | { kind: 'room.opened'; roomId: number; hostId: number; muted: number[]; pricePerMinute: number }
  | { kind: 'room.muted'; roomId: number; userId: number; muted: boolean }
  | { kind: 'room.member_left'; roomId: number; userId: number }
  | { kind: 'room.listing'; roomId: number; listing: RoomListing }
  | { kind: 'room.closed'; roomId: number; hostId: number }
  /** A private show exists (accepted, or found again after a restart). */
  | { kind: 'show.opened'; showId: number; hostId: number; viewerId: number }
  | { kind: 'show.ended'; showId: number; hostId: number; viewerId: number }
  /** A desk asks the ledger to move credits for a show (answered with a `charged` message). */
  | { kind: 'charge'; charge: Charge }
  /** A co-host call of a room was joined (or found again after a restart), or ended. */
  | { kind: 'call.changed'; roomId: number; hostId: number; viewerId: number; on: boolean }
  /** A host's talent actor asks the ledger to move credits for a request (answered with a `charged` message). */
  | { kind: 'talent.charge'; charge: TalentCharge };

export interface RoomListing {
  hostId: number;
  host: Profile;
  title: string;
  viewers: number;
  likes: number;
  openedAt: number;
}

export type Reply = { ok: true; value: unknown } | { ok: false; error: ErrorName; detail?: string };

export interface Step<S> {
  state: S;
  effects: Effect[];
  /** Rows in storage tables that commit with this message's journal entry (only when the state changed). */
  writes?: DurableWrite[];
}

export const ok = (value: unknown = {}): Effect => ({ type: 'reply', reply: { ok: true, value } });
export const fail = (error: ErrorName, detail?: string): Effect => ({ type: 'reply', reply: { ok: false, error, detail } });
export const push = (userId: number, op: PushName, d: unknown): Effect => ({ type: 'push', userId, op, d });
export const publish = (topic: string, op: PushName, d: unknown): Effect => ({ type: 'publish', topic, op, d });
export const emit = (event: DomainEvent): Effect => ({ type: 'emit', event });

/**
 * The durable write that puts push `op` with data `d` for `userId` into the
 * push outbox, in the same commit as the journal entry of the fact it
 * announces (list it in the step's `writes`). Written whether or not the
 * user is online: the push gateway decides whether to notify.
 */
export const offlinePush = (userId: number, op: PushName, d: unknown, at: number): DurableWrite => ({ t: 'outbox', userId, kind: op, payload: d, at });

/** What the outside world offers to effects. */
export interface EffectPorts {
  push(userId: number, op: PushName, d: unknown): void;
  publish(topic: string, op: PushName, d: unknown): void;
  emit(event: DomainEvent): void;
}
