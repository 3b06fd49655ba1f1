import type { Role } from '../protocol/define.js';
import type { Profile } from '../protocol/schemas.js';
import { fail, ok, push, type Effect, type Step } from './effects.js';
import type { ActorDef, Deadline } from './shell.js';

/**
 * Random match (F13, seed 002 match-chat / stop-match-chat): one journaled
 * actor (`match:1`) holds who waits, in order, and the pairs that have an
 * accept window open; the windows are its durable deadlines.
 */
export interface MatchRules {
  /** How long a pair has to accept. */
  acceptMs: number;
}

export interface Waiter {
  userId: number;
  role: Role;
  profile: Profile;
}

export interface Side extends Waiter {
  accepted: boolean;
}

export interface Pair {
  matchId: number;
  host: Side;
  viewer: Side;
  expiresAt: number;
}

export interface MatchState {
  /** First come, first matched, per role. */
  waiting: Waiter[];
  pairs: Pair[];
  lastMatchId: number;
}

export type MatchEndReason = 'declined' | 'expired' | 'left' | 'busy';

export type MatchMsg =
  | { t: 'start'; userId: number; role: Role; profile: Profile }
  /** match.stop, or the user's session ended for good ('left'), or they went into a call or a show ('busy'). */
  | { t: 'stop'; userId: number; reason: 'stopped' | 'left' | 'busy' }
  | { t: 'answer'; userId: number; matchId: number; accept: boolean }
  | { t: 'expire'; matchId: number };

export const initialMatchState = (): MatchState => ({ waiting: [], pairs: [], lastMatchId: 0 });

const same = (s: MatchState, effects: Effect[]): Step<MatchState> => ({ state: s, effects });
const peerOf = (p: Pair, userId: number) => (p.host.userId === userId ? p.viewer : p.host);
const sideOf = (p: Pair, userId: number) => (p.host.userId === userId ? p.host : p.viewer);
const pairOf = (s: MatchState, userId: number) => s.pairs.find((p) => p.host.userId === userId || p.viewer.userId === userId);
const waiter = ({ userId, role, profile }: Waiter): Waiter => ({ userId, role, profile });

export function reduceMatch(s: MatchState, msg: MatchMsg, now: number, rules: MatchRules): Step<MatchState> {
  switch (msg.t) {
    case 'start': {
      if (pairOf(s, msg.userId)) return same(s, [fail('MATCH_PENDING')]);
      if (s.waiting.some((w) => w.userId === msg.userId)) return same(s, [ok({ waiting: true })]);
      const next = { ...s, waiting: [...s.waiting, { userId: msg.userId, role: msg.role, profile: msg.profile }] };
      return pairUp(next, [ok({ waiting: true })], now, rules);
    }
    case 'stop': {
      const pair = pairOf(s, msg.userId);
      if (pair) return endPair(s, pair, msg.userId, msg.reason === 'stopped' ? 'declined' : msg.reason, [ok({})], now, rules);
      if (!s.waiting.some((w) => w.userId === msg.userId)) return same(s, [ok({})]);
      const effects: Effect[] = [ok({})];
      if (msg.reason === 'busy') effects.push(push(msg.userId, 'match.ended', { matchId: null, reason: 'busy', waiting: false }));
      return { state: { ...s, waiting: s.waiting.filter((w) => w.userId !== msg.userId) }, effects };
    }
    case 'answer': {
      const pair = s.pairs.find((p) => p.matchId === msg.matchId);
      if (!pair || (pair.host.userId !== msg.userId && pair.viewer.userId !== msg.userId) || now >= pair.expiresAt) return same(s, [fail('MATCH_NOT_FOUND')]);
      if (!msg.accept) return endPair(s, pair, msg.userId, 'declined', [ok({})], now, rules);
      if (sideOf(pair, msg.userId).accepted) return same(s, [ok({ connected: false })]);
      const peer = peerOf(pair, msg.userId);
      if (!peer.accepted) {
        const accepted: Pair = pair.host.userId === msg.userId ? { ...pair, host: { ...pair.host, accepted: true } } : { ...pair, viewer: { ...pair.viewer, accepted: true } };
        return {
          state: { ...s, pairs: s.pairs.map((p) => (p === pair ? accepted : p)) },
          effects: [ok({ connected: false }), push(peer.userId, 'match.accepted', { matchId: pair.matchId, userId: msg.userId })],
        };
      }
      const me = sideOf(pair, msg.userId);
      return {
        state: { ...s, pairs: s.pairs.filter((p) => p !== pair) },
        effects: [
          ok({ connected: true }),
          push(me.userId, 'match.connected', { matchId: pair.matchId, peer: { userId: peer.userId, profile: peer.profile } }),
          push(peer.userId, 'match.connected', { matchId: pair.matchId, peer: { userId: me.userId, profile: me.profile } }),
        ],
      };
    }
    case 'expire': {
      const pair = s.pairs.find((p) => p.matchId === msg.matchId);
      if (!pair || now < pair.expiresAt) return same(s, []);
      return endPair(s, pair, null, 'expired', [], now, rules);
    }
  }
}

/**
 * A pair ends without both accepting. `by` (who declined, stopped, left or
 * went busy) stops waiting; so does, on expiry, a side that had not accepted.
 * A side that did not cause the end and had accepted (or, on a decline, the
 * other side whatever it had done) goes back to the front of the queue.
 */
function endPair(s: MatchState, pair: Pair, by: number | null, reason: MatchEndReason, effects: Effect[], now: number, rules: MatchRules): Step<MatchState> {
  const back = [pair.host, pair.viewer].filter((side) => side.userId !== by && (by !== null || side.accepted));
  const out: Effect[] = [...effects];
  for (const side of [pair.host, pair.viewer]) {
    out.push(push(side.userId, 'match.ended', { matchId: pair.matchId, reason, waiting: back.includes(side) }));
  }
  const next: MatchState = { ...s, pairs: s.pairs.filter((p) => p !== pair), waiting: [...back.map(waiter), ...s.waiting] };
  return pairUp(next, out, now, rules);
}

/** Pairs the first waiting host with the first waiting viewer, as long as there are both. */
function pairUp(s: MatchState, effects: Effect[], now: number, rules: MatchRules): Step<MatchState> {
  let state = s;
  for (;;) {
    const host = state.waiting.find((w) => w.role === 'host');
    const viewer = state.waiting.find((w) => w.role === 'viewer');
    if (!host || !viewer) return { state, effects };
    const pair: Pair = { matchId: state.lastMatchId + 1, host: { ...host, accepted: false }, viewer: { ...viewer, accepted: false }, expiresAt: now + rules.acceptMs };
    state = { waiting: state.waiting.filter((w) => w !== host && w !== viewer), pairs: [...state.pairs, pair], lastMatchId: pair.matchId };
    for (const [me, peer] of [[host, viewer], [viewer, host]] as const) {
      effects.push(push(me.userId, 'match.found', { matchId: pair.matchId, peer: { userId: peer.userId, profile: peer.profile }, expiresAt: pair.expiresAt }));
    }
  }
}

export function matchDeadlines(s: MatchState): Deadline<MatchMsg>[] {
  return s.pairs.map((p) => ({ id: `match:${p.matchId}`, at: p.expiresAt, msg: { t: 'expire', matchId: p.matchId } }));
}

export function matchActor(rules: MatchRules): ActorDef<MatchState, MatchMsg> {
  return {
    kind: 'match',
    initialState: initialMatchState,
    reduce: (state, msg, now) => reduceMatch(state, msg, now, rules),
    deadlines: matchDeadlines,
  };
}
