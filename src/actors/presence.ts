import type { PresenceStatus } from '../protocol/schemas.js';
import { fail, ok, push, type Effect, type Step } from './effects.js';
import type { ActorDef } from './shell.js';

/** What a user is doing besides being connected; set by room actors. */
export type Activity = 'live' | 'busy';

export interface PresenceState {
  online: Set<number>;
  activity: Map<number, Activity>;
  /** target user → subscribers */
  watchers: Map<number, Set<number>>;
  /** subscriber → targets */
  watching: Map<number, Set<number>>;
}

export type PresenceMsg =
  | { t: 'online'; userId: number }
  | { t: 'offline'; userId: number }
  | { t: 'activity'; userId: number; activity: Activity | null }
  | { t: 'query'; userIds: number[] }
  | { t: 'subscribe'; subscriber: number; userIds: number[] }
  | { t: 'unsubscribe'; subscriber: number; userIds: number[] }
  | { t: 'drop'; subscriber: number };

export const MAX_WATCHED_PER_SESSION = 500;

export function initialPresenceState(): PresenceState {
  return { online: new Set(), activity: new Map(), watchers: new Map(), watching: new Map() };
}

export function statusOf(state: PresenceState, userId: number): PresenceStatus {
  if (!state.online.has(userId)) return 'offline';
  return state.activity.get(userId) ?? 'online';
}

const statuses = (state: PresenceState, userIds: number[]) => ({
  statuses: userIds.map((userId) => ({ userId, status: statusOf(state, userId) })),
});

/**
 * Presence is an index over live connections, rebuilt as users reconnect, so
 * it is never journaled or replayed; its state is therefore updated in place
 * (O(1) per change) while effects stay data, testable without nact.
 */
export function reducePresence(state: PresenceState, msg: PresenceMsg): Step<PresenceState> {
  switch (msg.t) {
    case 'online':
    case 'offline':
    case 'activity': {
      const before = statusOf(state, msg.userId);
      if (msg.t === 'online') state.online.add(msg.userId);
      else if (msg.t === 'offline') state.online.delete(msg.userId);
      else if (msg.activity) state.activity.set(msg.userId, msg.activity);
      else state.activity.delete(msg.userId);
      const after = statusOf(state, msg.userId);
      return { state, effects: before === after ? [] : notify(state, msg.userId, after) };
    }
    case 'query':
      return { state, effects: [ok(statuses(state, msg.userIds))] };
    case 'subscribe': {
      const mine = state.watching.get(msg.subscriber) ?? new Set<number>();
      const added = msg.userIds.filter((id) => !mine.has(id));
      if (mine.size + added.length > MAX_WATCHED_PER_SESSION) {
        return { state, effects: [fail('LIMIT_EXCEEDED', `at most ${MAX_WATCHED_PER_SESSION} followed users per session`)] };
      }
      for (const target of added) {
        mine.add(target);
        let set = state.watchers.get(target);
        if (!set) state.watchers.set(target, (set = new Set()));
        set.add(msg.subscriber);
      }
      state.watching.set(msg.subscriber, mine);
      return { state, effects: [ok(statuses(state, msg.userIds))] };
    }
    case 'unsubscribe':
      unwatch(state, msg.subscriber, msg.userIds);
      return { state, effects: [ok()] };
    case 'drop':
      unwatch(state, msg.subscriber, [...(state.watching.get(msg.subscriber) ?? [])]);
      return { state, effects: [] };
  }
}

function unwatch(state: PresenceState, subscriber: number, targets: number[]): void {
  const mine = state.watching.get(subscriber);
  if (!mine) return;
  for (const target of targets) {
    mine.delete(target);
    const set = state.watchers.get(target);
    set?.delete(subscriber);
    if (set?.size === 0) state.watchers.delete(target);
  }
  if (mine.size === 0) state.watching.delete(subscriber);
}

function notify(state: PresenceState, userId: number, status: PresenceStatus): Effect[] {
  return [...(state.watchers.get(userId) ?? [])].map((subscriber) => push(subscriber, 'presence.changed', { userId, status }));
}

export const presenceActor: ActorDef<PresenceState, PresenceMsg> = {
  kind: 'presence',
  initialState: initialPresenceState,
  reduce: (state, msg) => reducePresence(state, msg),
};
