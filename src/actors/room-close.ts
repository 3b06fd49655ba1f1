import { emit, publish, type Effect, type Step } from './effects.js';
import { callsOnClose } from './room-calls.js';
import { topicOf, type RoomRules, type RoomState } from './room-state.js';

/** Closing a room: the countdown's cadence and pushes, and the end with its totals. */
export function nextTick(now: number, closesAt: number, rules: RoomRules): number | null {
  const next = now + rules.countdownTickMs;
  return next < closesAt ? next : null;
}

export function countdown(s: RoomState, now: number): Effect {
  const closesAt = s.closesAt ?? now;
  return publish(topicOf(s.roomId), 'room.countdown', { roomId: s.roomId, secondsLeft: Math.max(0, Math.ceil((closesAt - now) / 1000)), closesAt });
}

export function totalsOf(s: RoomState, now: number) {
  return {
    durationSec: s.openedAt ? Math.max(0, Math.round((now - s.openedAt) / 1000)) : 0,
    peakViewers: s.peakViewers,
    totalViewers: s.seen.size,
    likes: s.likes,
    gifts: s.gifts,
    credits: s.credits,
  };
}

export function end(s: RoomState, now: number, reason: 'closed' | 'countdown' | 'abnormal' | 'admin', effects: Effect[]): Step<RoomState> {
  const totals = totalsOf(s, now);
  const ended = { roomId: s.roomId, reason, totals };
  const next: RoomState = { ...s, status: 'closed', viewers: new Map(), closesAt: null, nextTickAt: null, hostAwayUntil: null, callQueue: [], call: null };
  return {
    state: next,
    effects: [
      ...effects,
      ...callsOnClose(s),
      publish(topicOf(s.roomId), 'room.ended', ended),
      emit({ kind: 'room.closed', roomId: s.roomId, hostId: s.hostId }),
    ],
    // The registry row closes with its totals; the room's journal is dropped in the same commit.
    writes: [{ t: 'room.close', roomId: s.roomId, at: now, totals }],
  };
}
