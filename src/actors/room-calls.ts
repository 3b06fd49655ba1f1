import type { Profile } from '../protocol/schemas.js';
import { emit, fail, ok, publish, push, type Effect, type Step } from './effects.js';
import type { RoomMsg, RoomRules, RoomState } from './room-state.js';
import type { Deadline } from './shell.js';

/**
 * Co-host calls (F13, seed 002 连麦) inside the room actor, which owns them:
 * the queue of pending requests (a viewer asked) and invitations (the host
 * asked), and the one call on now. All of it is journaled with the room and
 * its expiries are the room's durable deadlines.
 */
export interface CallRequest {
  viewerId: number;
  profile: Profile;
  /** Who asked: the viewer (call.request) or the host (call.invite). */
  from: 'viewer' | 'host';
  createdAt: number;
  expiresAt: number;
}

export interface Call {
  viewerId: number;
  profile: Profile;
  /** joining: both were told to join (join-conference), the co-host's stream is not confirmed yet; connected: it is. */
  status: 'joining' | 'connected';
  joinedAt: number;
  /** While joining: the call ends as not_confirmed at this time. */
  confirmBy: number | null;
  connectedAt: number | null;
}

export type CallEndReason = 'declined' | 'cancelled' | 'expired' | 'not_confirmed' | 'stopped' | 'left' | 'room_closed';

export type CallMsg =
  | { t: 'call-request'; userId: number }
  | { t: 'call-invite'; by: number; userId: number }
  /** `userId`: the viewer whose request the host answers; a viewer answers the host's invitation (userId is their own). */
  | { t: 'call-answer'; by: number; userId: number; accept: boolean }
  | { t: 'call-cancel'; by: number; userId: number }
  | { t: 'call-confirm'; by: number }
  | { t: 'call-stop'; by: number }
  | { t: 'call-queue'; by: number }
  | { t: 'call-expire'; userId: number }
  | { t: 'call-unconfirmed' };

type Msg<T extends CallMsg['t']> = Extract<CallMsg, { t: T }>;

const same = (s: RoomState, effects: Effect[]): Step<RoomState> => ({ state: s, effects });
const party = (userId: number, profile: Profile) => ({ userId, profile });

export function requestView(s: RoomState, r: CallRequest) {
  return { roomId: s.roomId, viewer: party(r.viewerId, r.profile), from: r.from, createdAt: r.createdAt, expiresAt: r.expiresAt };
}

export function callView(s: RoomState, c: Call) {
  return { roomId: s.roomId, host: party(s.hostId, s.host), viewer: party(c.viewerId, c.profile), status: c.status, joinedAt: c.joinedAt, confirmBy: c.confirmBy, connectedAt: c.connectedAt };
}

function status(s: RoomState, viewerId: number, code: 0 | 1 | 2): Effect {
  return publish(`room/${s.roomId}`, 'room.call_status', { roomId: s.roomId, status: code, userId: viewerId });
}

const ended = (s: RoomState, viewerId: number, reason: CallEndReason, wasCall: boolean) => ({ roomId: s.roomId, viewerId, reason, call: wasCall });

/** The effects of ending a pending request or invitation: both sides get call.ended. */
function requestEnded(s: RoomState, r: CallRequest, reason: CallEndReason): Effect[] {
  const d = ended(s, r.viewerId, reason, false);
  return [push(r.viewerId, 'call.ended', d), push(s.hostId, 'call.ended', d)];
}

/** The effects of ending the call: both sides get call.ended, the room a status 2. */
function callEnded(s: RoomState, c: Call, reason: CallEndReason): Effect[] {
  const d = ended(s, c.viewerId, reason, true);
  return [
    push(c.viewerId, 'call.ended', d),
    push(s.hostId, 'call.ended', d),
    status(s, c.viewerId, 2),
    emit({ kind: 'call.changed', roomId: s.roomId, hostId: s.hostId, viewerId: c.viewerId, on: false }),
  ];
}

export function reduceCall(s: RoomState, msg: CallMsg, now: number, rules: RoomRules): Step<RoomState> {
  switch (msg.t) {
    case 'call-request':
      return ask(s, msg.userId, 'viewer', now, rules);
    case 'call-invite':
      if (msg.by !== s.hostId) return same(s, [fail('PERMISSION_DENIED', 'only the host of this room')]);
      return ask(s, msg.userId, 'host', now, rules);
    case 'call-answer':
      return answer(s, msg, now, rules);
    case 'call-cancel': {
      const r = pending(s, msg.userId, now);
      // Only the side that asked withdraws.
      if (!r || (r.from === 'viewer' ? r.viewerId : s.hostId) !== msg.by) return same(s, [fail('CALL_NOT_FOUND')]);
      return { state: withoutRequest(s, r.viewerId), effects: [ok(), ...requestEnded(s, r, 'cancelled')] };
    }
    case 'call-confirm': {
      const c = s.call;
      if (!c || c.viewerId !== msg.by) return same(s, [fail('NOT_IN_CALL')]);
      if (c.status === 'connected') return same(s, [ok(callView(s, c))]);
      const call: Call = { ...c, status: 'connected', confirmBy: null, connectedAt: now };
      const next = { ...s, call };
      return { state: next, effects: [ok(callView(next, call)), status(next, c.viewerId, 1)] };
    }
    case 'call-stop': {
      const c = s.call;
      if (!c || (msg.by !== c.viewerId && msg.by !== s.hostId)) return same(s, [fail('NOT_IN_CALL')]);
      return { state: { ...s, call: null }, effects: [ok(), ...callEnded(s, c, 'stopped')] };
    }
    case 'call-queue': {
      if (msg.by !== s.hostId) return same(s, [fail('PERMISSION_DENIED', 'only the host of this room')]);
      const queue = s.callQueue.filter((r) => now < r.expiresAt).map((r) => requestView(s, r));
      return same(s, [ok({ roomId: s.roomId, queue, call: s.call ? callView(s, s.call) : null })]);
    }
    case 'call-expire': {
      const r = s.callQueue.find((q) => q.viewerId === msg.userId);
      if (!r || now < r.expiresAt) return same(s, []);
      return { state: withoutRequest(s, r.viewerId), effects: requestEnded(s, r, 'expired') };
    }
    case 'call-unconfirmed': {
      const c = s.call;
      if (!c || c.confirmBy === null || now < c.confirmBy) return same(s, []);
      return { state: { ...s, call: null }, effects: callEnded(s, c, 'not_confirmed') };
    }
  }
}

/** A request (viewer → host) or an invitation (host → viewer). An invitation to a viewer who asked already is an accept. */
function ask(s: RoomState, viewerId: number, from: 'viewer' | 'host', now: number, rules: RoomRules): Step<RoomState> {
  if (viewerId === s.hostId) return same(s, [fail('BAD_PARAMETER', 'the host cannot call itself')]);
  const viewer = s.viewers.get(viewerId);
  if (!viewer) return same(s, [fail('NOT_IN_ROOM', from === 'viewer' ? 'enter the room first' : `user ${viewerId} is not in your room`)]);
  if (from === 'viewer' && s.muted[viewerId] === true) return same(s, [fail('MUTED')]);
  if (s.call?.viewerId === viewerId) return same(s, [fail('CALL_IN_PROGRESS', 'already the co-host')]);
  const existing = pending(s, viewerId, now);
  if (existing) {
    if (from === 'host' && existing.from === 'viewer') return answer(s, { t: 'call-answer', by: s.hostId, userId: viewerId, accept: true }, now, rules);
    return same(s, [fail('CALL_PENDING')]);
  }
  // An expired entry whose deadline has not been handled yet makes room for the new one.
  const queue = s.callQueue.filter((r) => r.viewerId !== viewerId);
  if (queue.filter((r) => now < r.expiresAt).length >= rules.callQueueMax) return same(s, [fail('CALL_QUEUE_FULL', `at most ${rules.callQueueMax} pending`)]);
  const r: CallRequest = { viewerId, profile: viewer.profile, from, createdAt: now, expiresAt: now + rules.callRequestTtlMs };
  const view = requestView(s, r);
  return {
    state: { ...s, callQueue: [...queue, r] },
    effects: [ok(view), from === 'viewer' ? push(s.hostId, 'call.requested', view) : push(viewerId, 'call.invited', view)],
  };
}

function answer(s: RoomState, msg: Msg<'call-answer'>, now: number, rules: RoomRules): Step<RoomState> {
  const r = pending(s, msg.userId, now);
  // Only the side that was asked answers.
  if (!r || (r.from === 'viewer' ? s.hostId : r.viewerId) !== msg.by) return same(s, [fail('CALL_NOT_FOUND')]);
  if (!msg.accept) return { state: withoutRequest(s, r.viewerId), effects: [ok({}), ...requestEnded(s, r, 'declined')] };
  if (s.call) return same(s, [fail('CALL_IN_PROGRESS')]);
  // After a restart a viewer with a pending request is in the room again only once they re-entered.
  if (!s.viewers.has(r.viewerId)) return same(s, [fail('NOT_IN_ROOM', `user ${r.viewerId} is not in the room now`)]);
  const call: Call = { viewerId: r.viewerId, profile: r.profile, status: 'joining', joinedAt: now, confirmBy: now + rules.callConfirmMs, connectedAt: null };
  const next = { ...withoutRequest(s, r.viewerId), call };
  const view = callView(next, call);
  return {
    state: next,
    effects: [
      ok(view),
      push(r.viewerId, 'call.joined', view),
      push(s.hostId, 'call.joined', view),
      status(next, r.viewerId, 0),
      emit({ kind: 'call.changed', roomId: s.roomId, hostId: s.hostId, viewerId: r.viewerId, on: true }),
    ],
  };
}

function pending(s: RoomState, viewerId: number, now: number): CallRequest | undefined {
  const r = s.callQueue.find((q) => q.viewerId === viewerId);
  // An expiry may be a hair late: the time decides.
  return r && now < r.expiresAt ? r : undefined;
}

function withoutRequest(s: RoomState, viewerId: number): RoomState {
  return { ...s, callQueue: s.callQueue.filter((r) => r.viewerId !== viewerId) };
}

/** A viewer left or was put out: their request or invitation goes, their call ends ('left'). `s` is already the next state object. */
export function callsOnLeave(s: RoomState, viewerId: number): Effect[] {
  const effects: Effect[] = [];
  const r = s.callQueue.find((q) => q.viewerId === viewerId);
  if (r) {
    s.callQueue = s.callQueue.filter((q) => q !== r);
    effects.push(...requestEnded(s, r, 'left'));
  }
  if (s.call?.viewerId === viewerId) {
    effects.push(...callEnded(s, s.call, 'left'));
    s.call = null;
  }
  return effects;
}

/** The room ends: every request, invitation and the call end ('room_closed'). */
export function callsOnClose(s: RoomState): Effect[] {
  return [...s.callQueue.flatMap((r) => requestEnded(s, r, 'room_closed')), ...(s.call ? callEnded(s, s.call, 'room_closed') : [])];
}

/**
 * After a restart nobody is connected: requests and invitations keep their
 * expiry; a call being joined or on must be confirmed again (call.confirm)
 * within the confirm window from now, or it ends as not_confirmed.
 */
export function callsOnRestart(s: RoomState, now: number, rules: RoomRules): { call: Call | null; effects: Effect[] } {
  if (!s.call) return { call: null, effects: [] };
  const call: Call = { ...s.call, status: 'joining', confirmBy: now + rules.callConfirmMs, connectedAt: null };
  return { call, effects: [emit({ kind: 'call.changed', roomId: s.roomId, hostId: s.hostId, viewerId: call.viewerId, on: true })] };
}

export function callDeadlines(s: RoomState): Deadline<RoomMsg>[] {
  const out: Deadline<RoomMsg>[] = s.callQueue.map((r) => ({ id: `call-expire:${r.viewerId}`, at: r.expiresAt, msg: { t: 'call-expire', userId: r.viewerId } }));
  if (s.call?.confirmBy != null) out.push({ id: 'call-confirm', at: s.call.confirmBy, msg: { t: 'call-unconfirmed' } });
  return out;
}
