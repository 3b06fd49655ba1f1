import type { Profile } from '../protocol/schemas.js';
import type { TalentRequestRow } from '../storage/talents.js';
import { CHARGE_RETRY_MS } from './charges.js';
import { emit, fail, offlinePush, ok, push, type Effect, type Step } from './effects.js';
import type { ActorDef, Deadline } from './shell.js';

/** Talent rules that come from configuration. */
export interface TalentRules {
  /** A request the host has not answered this long after it was made is refunded. */
  ttlMs: number;
  /** Most talents on one host's list. */
  maxTalents: number;
  /** Most open (held or pending) requests one host has at once. */
  maxPending: number;
}

export interface Talent {
  talentId: number;
  name: string;
  price: number;
}

/** An open request: its hold is being taken ('holding') or held until the host answers ('pending'). */
export interface TalentRequest {
  id: number;
  viewerId: number;
  viewer: Profile;
  talentId: number;
  name: string;
  price: number;
  roomId: number | null;
  /** The ledger key of its hold (the viewer's request key, scoped). */
  key: string;
  status: 'holding' | 'pending';
  createdAt: number;
  expiresAt: number;
  /** The host marked it read (7.45). */
  read: boolean;
}

/**
 * A move of credits for a request, kept in the actor's journaled outbox until
 * the ledger answers (asked again, same key, every CHARGE_RETRY_MS and after
 * a restart): `hold` viewer → hold:talent:<id>; `release` the hold back to the
 * viewer; `pay` the hold to the host less the house cut.
 */
export interface TalentCharge {
  key: string;
  what: 'hold' | 'release' | 'pay';
  requestId: number;
  hostId: number;
  viewerId: number;
  talentId: number;
  price: number;
  requestedAt: number;
}

/**
 * A host's talents (`talent:<hostId>`): the list (7.23) and the open
 * requests (7.24–7.26, 7.45), with the credits moves they wait for. One actor
 * decides a request's fate, so "accepted, declined or expired" happens once.
 */
export interface TalentState {
  hostId: number;
  talents: Talent[];
  nextTalentId: number;
  requests: TalentRequest[];
  charges: TalentCharge[];
  /** Ids of the last requests refused for want of credit (a hold that commits late for one of them is given back). */
  refused: number[];
}

export type TalentMsg =
  | { t: 'set'; talentId?: number; name: string; price: number }
  | { t: 'remove'; talentId: number }
  | { t: 'list' }
  | { t: 'request'; requestId: number; key: string; viewerId: number; viewer: Profile; talentId: number; roomId: number | null }
  /** The ledger's answer to one of the charges (asked by the handler or told by the charge runner). */
  | { t: 'charged'; charge: TalentCharge; ok: boolean }
  | { t: 'answer'; requestId: number; accept: boolean }
  | { t: 'expire'; requestId: number }
  | { t: 'unread'; roomId: number | null }
  | { t: 'read'; roomId: number | null; requestIds?: number[] }
  | { t: 'charge-retry' };

const REFUSED_KEPT = 100;

export const holdAccount = (requestId: number) => `hold:talent:${requestId}`;

export function requestView(r: TalentRequest | TalentRequestRow, hostId: number, viewer?: Profile) {
  return {
    requestId: r.id, hostId, viewerId: r.viewerId, ...(viewer ? { viewer } : {}), talentId: r.talentId, name: r.name, price: r.price,
    roomId: r.roomId, status: r.status, createdAt: r.createdAt, expiresAt: r.expiresAt,
  };
}

const same = (s: TalentState, effects: Effect[]): Step<TalentState> => ({ state: s, effects });

function charge(s: TalentState, r: TalentRequest, what: TalentCharge['what'], now: number): TalentCharge {
  const key = what === 'hold' ? r.key : `${what}:talent:${r.id}`;
  return { key, what, requestId: r.id, hostId: s.hostId, viewerId: r.viewerId, talentId: r.talentId, price: r.price, requestedAt: now };
}

/** A request leaves the open ones with its final status; `then` is the charge that settles its hold (if any). */
function close(s: TalentState, r: TalentRequest, status: 'accepted' | 'declined' | 'expired', now: number, effects: Effect[]): Step<TalentState> {
  const c = charge(s, r, status === 'accepted' ? 'pay' : 'release', now);
  return {
    state: { ...s, requests: s.requests.filter((x) => x !== r), charges: [...s.charges, c] },
    effects: [...effects, emit({ kind: 'talent.charge', charge: c })],
    writes: [{ t: 'talent.update', requestId: r.id, status, expiresAt: r.expiresAt, endedAt: now }],
  };
}

export function reduceTalent(s: TalentState, msg: TalentMsg, now: number, rules: TalentRules): Step<TalentState> {
  switch (msg.t) {
    case 'list':
      return same(s, [ok({ hostId: s.hostId, talents: s.talents })]);
    case 'set': {
      const at = msg.talentId === undefined ? -1 : s.talents.findIndex((x) => x.talentId === msg.talentId);
      if (at === -1 && msg.talentId !== undefined) return same(s, [fail('TALENT_NOT_FOUND')]);
      if (at === -1 && s.talents.length >= rules.maxTalents) return same(s, [fail('LIMIT_EXCEEDED', `at most ${rules.maxTalents} talents`)]);
      const talent: Talent = { talentId: at === -1 ? s.nextTalentId : msg.talentId!, name: msg.name, price: msg.price };
      const talents = at === -1 ? [...s.talents, talent] : s.talents.map((x, i) => (i === at ? talent : x));
      return { state: { ...s, talents, nextTalentId: at === -1 ? s.nextTalentId + 1 : s.nextTalentId }, effects: [ok({ talent, talents })] };
    }
    case 'remove': {
      if (!s.talents.some((x) => x.talentId === msg.talentId)) return same(s, [fail('TALENT_NOT_FOUND')]);
      const talents = s.talents.filter((x) => x.talentId !== msg.talentId);
      return { state: { ...s, talents }, effects: [ok({ talents })] };
    }
    case 'request': {
      // The same key again while its request is open: that request (the handler runs its hold if still needed).
      const open = s.requests.find((r) => r.key === msg.key);
      if (open && open.talentId !== msg.talentId) return same(s, [fail('KEY_REUSED')]);
      if (open) return same(s, [ok({ request: requestView(open, s.hostId), hold: open.status === 'holding' ? s.charges.find((c) => c.key === open.key) ?? null : null })]);
      const talent = s.talents.find((x) => x.talentId === msg.talentId);
      if (!talent) return same(s, [fail('TALENT_NOT_FOUND')]);
      if (s.requests.length >= rules.maxPending) return same(s, [fail('LIMIT_EXCEEDED', `the host has ${rules.maxPending} open requests`)]);
      const r: TalentRequest = {
        id: msg.requestId, viewerId: msg.viewerId, viewer: msg.viewer, talentId: talent.talentId, name: talent.name, price: talent.price,
        roomId: msg.roomId, key: msg.key, status: 'holding', createdAt: now, expiresAt: now + rules.ttlMs, read: false,
      };
      // The hold is in the outbox (asked again after CHARGE_RETRY_MS, or after a restart); the handler asks for it now.
      const hold = charge(s, r, 'hold', now);
      return {
        state: { ...s, requests: [...s.requests, r], charges: [...s.charges, hold] },
        effects: [ok({ request: requestView(r, s.hostId), hold })],
        writes: [{ t: 'talent.new', request: { ...requestView(r, s.hostId), id: r.id, endedAt: null } as TalentRequestRow }],
      };
    }
    case 'charged':
      return charged(s, msg, now);
    case 'answer': {
      const r = s.requests.find((x) => x.id === msg.requestId);
      if (!r || r.status !== 'pending' || now >= r.expiresAt) return same(s, [fail('TALENT_REQUEST_NOT_FOUND')]);
      const status = msg.accept ? 'accepted' : 'declined';
      const d = { requestId: r.id, hostId: s.hostId, talentId: r.talentId, outcome: status, refunded: msg.accept ? 0 : r.price };
      return close(s, r, status, now, [ok(d), push(r.viewerId, 'talent.answered', d)]);
    }
    case 'expire': {
      const r = s.requests.find((x) => x.id === msg.requestId);
      if (!r || r.status !== 'pending' || now < r.expiresAt) return same(s, []);
      const d = { requestId: r.id, hostId: s.hostId, talentId: r.talentId, outcome: 'expired', refunded: r.price };
      return close(s, r, 'expired', now, [push(r.viewerId, 'talent.answered', d), push(s.hostId, 'talent.expired', { requestId: r.id })]);
    }
    case 'unread': {
      const unread = s.requests.filter((r) => r.status === 'pending' && !r.read && msg.roomId !== null && r.roomId === msg.roomId && now < r.expiresAt);
      return same(s, [ok({ roomId: msg.roomId, count: unread.length, requests: unread.map((r) => requestView(r, s.hostId, r.viewer)) })]);
    }
    case 'read': {
      const marks = (r: TalentRequest) => r.status === 'pending' && !r.read && r.roomId === msg.roomId && msg.roomId !== null && (msg.requestIds === undefined || msg.requestIds.includes(r.id));
      const left = (rs: TalentRequest[]) => rs.filter((r) => r.status === 'pending' && !r.read && msg.roomId !== null && r.roomId === msg.roomId && now < r.expiresAt).length;
      if (!s.requests.some(marks)) return same(s, [ok({ count: left(s.requests) })]);
      const requests = s.requests.map((r) => (marks(r) ? { ...r, read: true } : r));
      return { state: { ...s, requests }, effects: [ok({ count: left(requests) })] };
    }
    case 'charge-retry': {
      const due = s.charges.filter((c) => now >= c.requestedAt + CHARGE_RETRY_MS);
      if (due.length === 0) return same(s, []);
      const charges = s.charges.map((c) => (due.includes(c) ? { ...c, requestedAt: now } : c));
      return { state: { ...s, charges }, effects: due.map((c) => emit({ kind: 'talent.charge', charge: { ...c, requestedAt: now } })) };
    }
  }
}

/**
 * The ledger answered a charge. A hold: committed → the request is pending
 * (the host is told, 7.25); refused (not enough credit) → the request is
 * closed as refused. A hold that commits for a request already refused (a
 * retry that raced the refusal) is given back. Pay and release leave the
 * outbox whatever the answer (a refused one had nothing to move).
 */
function charged(s: TalentState, msg: Extract<TalentMsg, { t: 'charged' }>, now: number): Step<TalentState> {
  const c = s.charges.find((x) => x.key === msg.charge.key);
  if (!c) {
    const id = msg.charge.requestId;
    if (msg.ok && msg.charge.what === 'hold' && s.refused.includes(id)) {
      const release: TalentCharge = { ...msg.charge, key: `release:talent:${id}`, what: 'release', requestedAt: now };
      return {
        state: { ...s, charges: [...s.charges, release], refused: s.refused.filter((x) => x !== id) },
        effects: [fail('TALENT_REQUEST_NOT_FOUND', 'refused meanwhile; the hold is given back'), emit({ kind: 'talent.charge', charge: release })],
      };
    }
    // A second answer to a charge no longer waiting.
    const open = s.requests.find((r) => r.id === id);
    return same(s, open ? [ok({ request: requestView(open, s.hostId) })] : [fail('TALENT_REQUEST_NOT_FOUND')]);
  }
  const charges = s.charges.filter((x) => x !== c);
  if (c.what !== 'hold') return { state: { ...s, charges }, effects: [ok({})] };
  const r = s.requests.find((x) => x.id === c.requestId);
  if (!r) return { state: { ...s, charges }, effects: [fail('TALENT_REQUEST_NOT_FOUND')] };
  if (!msg.ok) {
    return {
      state: { ...s, charges, requests: s.requests.filter((x) => x !== r), refused: [...s.refused, r.id].slice(-REFUSED_KEPT) },
      effects: [fail('INSUFFICIENT_CREDIT')],
      writes: [{ t: 'talent.update', requestId: r.id, status: 'refused', expiresAt: r.expiresAt, endedAt: now }],
    };
  }
  const pending: TalentRequest = { ...r, status: 'pending' };
  const requested = requestView(pending, s.hostId, r.viewer);
  return {
    state: { ...s, charges, requests: s.requests.map((x) => (x === r ? pending : x)) },
    effects: [ok({ request: requestView(pending, s.hostId) }), push(s.hostId, 'talent.requested', requested)],
    // The host's copy for the push gateway commits with the request becoming pending.
    writes: [{ t: 'talent.update', requestId: r.id, status: 'pending', expiresAt: r.expiresAt, endedAt: null }, offlinePush(s.hostId, 'talent.requested', requested, now)],
  };
}

export function initialTalentState(id: string): TalentState {
  return { hostId: Number(id), talents: [], nextTalentId: 1, requests: [], charges: [], refused: [] };
}

export function talentActor(rules: TalentRules): ActorDef<TalentState, TalentMsg> {
  return {
    kind: 'talent',
    initialState: initialTalentState,
    reduce: (state, msg, now) => reduceTalent(state, msg, now, rules),
    deadlines: (s) => {
      const out: Deadline<TalentMsg>[] = s.requests
        .filter((r) => r.status === 'pending')
        .map((r) => ({ id: `talent-request:${r.id}`, at: r.expiresAt, msg: { t: 'expire', requestId: r.id } }));
      if (s.charges.length) out.push({ id: 'charge-retry', at: Math.min(...s.charges.map((c) => c.requestedAt)) + CHARGE_RETRY_MS, msg: { t: 'charge-retry' } });
      return out;
    },
  };
}
