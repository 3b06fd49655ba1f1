import type { Profile } from '../protocol/schemas.js';
import { emit, fail, ok, publish, push, type Effect, type Step } from './effects.js';
import { chargeDeadlines, retryCharges, withCharges } from './charges.js';
import { applyRoomCharge, billDue, roomBillAt, roomCharge } from './room-billing.js';
import type { ActorDef, Deadline } from './shell.js';
import { callDeadlines, callsOnLeave, callsOnRestart, reduceCall } from './room-calls.js';
import { countdown, end, nextTick, totalsOf } from './room-close.js';
import { initialRoomState, live, roomFromSnapshot, roomToSnapshot, topicOf, viewerCount, type RoomMsg, type RoomRules, type RoomState, type Viewer } from './room-state.js';

export { initialRoomState, roomFromSnapshot, roomToSnapshot, topicOf } from './room-state.js';
export type { EntranceVehicle, RoomMsg, RoomRules, RoomState, Viewer } from './room-state.js';

const same = (s: RoomState, effects: Effect[]): Step<RoomState> => ({ state: s, effects });

/** The room as one user sees it (5.2 reply). */
export function viewOf(s: RoomState, userId: number) {
  return {
    roomId: s.roomId,
    host: { userId: s.hostId, profile: s.host },
    title: s.title,
    status: s.status as 'open' | 'closing',
    pricePerMinute: s.pricePerMinute,
    seatLimit: s.seatLimit,
    viewers: viewerCount(s),
    likes: s.likes,
    muted: s.muted[userId] === true,
    closesAt: s.closesAt,
    call: s.call ? { userId: s.call.viewerId, status: s.call.status === 'connected' ? (1 as const) : (0 as const) } : null,
  };
}

export type RoomView = ReturnType<typeof viewOf>;

function listing(s: RoomState): Effect {
  return emit({
    kind: 'room.listing',
    roomId: s.roomId,
    listing: { hostId: s.hostId, host: s.host, title: s.title, viewers: viewerCount(s), likes: s.likes, openedAt: s.openedAt },
  });
}

const member = (userId: number, profile: Profile) => ({ userId, profile });

export function reduceRoom(s: RoomState, msg: RoomMsg, now: number, rules: RoomRules): Step<RoomState> {
  const topic = topicOf(s.roomId);
  if (msg.t === 'open') {
    if (s.status !== 'new') return same(s, [fail('INVALID_ROOM', 'room id already used')]);
    const opened: RoomState = { ...s, status: 'open', hostId: msg.hostId, host: msg.host, title: msg.title, seatLimit: msg.seatLimit, pricePerMinute: msg.pricePerMinute, openedAt: now };
    return {
      state: opened,
      effects: [openedEvent(opened), listing(opened), ok(viewOf(opened, msg.hostId))],
      // The registry row commits with this journal entry: a failed open leaves nothing behind.
      writes: [{ t: 'room.open', roomId: s.roomId, hostId: msg.hostId, at: now }],
    };
  }
  if (!live(s)) {
    // A room the registry lists as open whose state is not (only databases of
    // earlier builds, which wrote the row apart from the journal): release it.
    if (msg.t === 'restarted') {
      return {
        state: { ...s, status: 'closed' },
        effects: [emit({ kind: 'room.closed', roomId: s.roomId, hostId: s.hostId })],
        writes: [{ t: 'room.close', roomId: s.roomId, at: now, totals: totalsOf(s, now) }],
      };
    }
    return same(s, [fail('INVALID_ROOM')]);
  }
  switch (msg.t) {
    case 'enter': {
      if (msg.userId === s.hostId) return same(s, [ok(viewOf(s, msg.userId))]);
      const bannedUntil = s.bans[msg.userId];
      if (bannedUntil !== undefined && bannedUntil > now) return same(s, [fail('CANNOT_WATCH', `until ${new Date(bannedUntil).toISOString()}`)]);
      if (s.viewers.has(msg.userId)) return same(s, [ok(viewOf(s, msg.userId))]);
      if (viewerCount(s) >= s.seatLimit) return same(s, [fail('NO_SEATS')]);
      const paid = s.pricePerMinute > 0;
      if (paid && (msg.credits ?? 0) < s.pricePerMinute) return same(s, [fail('INSUFFICIENT_CREDIT', `this room costs ${s.pricePerMinute} credits per minute`)]);
      const viewer: Viewer = paid ? { profile: msg.profile, at: now, billed: 0, billing: 1 } : { profile: msg.profile, at: now };
      s.viewers.set(msg.userId, viewer);
      s.seen.add(msg.userId);
      const n = viewerCount(s);
      const next = { ...s, peakViewers: Math.max(s.peakViewers, n) };
      const step = {
        state: next,
        effects: [
          ok(viewOf(next, msg.userId)),
          // Coalesced by the room channel: a burst of entries reaches the room as one push.
          publish(topic, 'room.user_entered', { roomId: s.roomId, users: [{ ...member(msg.userId, msg.profile), vehicle: msg.vehicle ?? null }], viewers: n }),
          listing(next),
        ],
      };
      // A paid room: the first minute is charged on entering (refused: the viewer is put out again).
      return paid ? withCharges(step, [roomCharge(next, msg.userId, viewer, 1)], now) : step;
    }
    case 'bill-due':
      return withCharges({ state: { ...s }, effects: [] }, billDue(s, now), now);
    case 'charged': {
      const r = applyRoomCharge(s, msg, now);
      if (!r) return same(s, []);
      if (r.out === null || !r.state.viewers.delete(r.out)) return { state: r.state, effects: r.effects };
      const next = { ...r.state };
      const calls = callsOnLeave(next, r.out);
      return { state: next, effects: [...r.effects, ...calls, ...departure(next, r.out, 'kicked'), listing(next)] };
    }
    case 'charge-retry':
      return retryCharges(s, now);
    case 'leave': {
      if (!s.viewers.delete(msg.userId)) return same(s, [fail('NOT_IN_ROOM')]);
      const next = { ...s };
      const calls = callsOnLeave(next, msg.userId);
      return { state: next, effects: [ok(), ...calls, ...departure(next, msg.userId, msg.reason), listing(next)] };
    }
    case 'view':
      return same(s, [ok(viewOf(s, msg.userId))]);
    case 'viewers': {
      const all = [...s.viewers].reverse();
      const page = all.slice((msg.page - 1) * msg.pageSize, msg.page * msg.pageSize);
      return same(s, [ok({ total: all.length, viewers: page.map(([id, v]) => member(id, v.profile)) })]);
    }
    case 'audience':
      return same(s, [ok({ roomId: s.roomId, top: topViewers(s, msg.size), viewers: viewerCount(s) })]);
    case 'media-switch': {
      const effects: Effect[] = [ok()];
      if (msg.playUrl !== null) effects.push(publish(topic, 'room.media_switch', { roomId: s.roomId, playUrl: msg.playUrl, reason: msg.reason, at: now }));
      if (msg.publishUrl !== null) {
        effects.push(push(s.hostId, 'media.switch', { roomId: s.roomId, publishUrl: msg.publishUrl, playUrl: msg.playUrl, reason: msg.reason, at: now }));
      }
      return same(s, effects);
    }
    case 'kick': {
      if (msg.by !== s.hostId) return same(s, [fail('PERMISSION_DENIED', 'only the host of this room')]);
      if (!s.viewers.delete(msg.userId)) return same(s, [fail('NOT_IN_ROOM')]);
      const until = now + rules.kickBanMs;
      s.bans[msg.userId] = until;
      const next = { ...s };
      const calls = callsOnLeave(next, msg.userId);
      return {
        state: next,
        effects: [ok(), push(msg.userId, 'room.kicked', { roomId: s.roomId, until, reason: 'host' }), ...calls, ...departure(next, msg.userId, 'kicked'), listing(next)],
      };
    }
    case 'mute': {
      if (msg.by !== s.hostId) return same(s, [fail('PERMISSION_DENIED', 'only the host of this room')]);
      if (!s.viewers.has(msg.userId)) return same(s, [fail('NOT_IN_ROOM')]);
      if ((s.muted[msg.userId] === true) === msg.muted) return same(s, [ok()]);
      if (msg.muted) s.muted[msg.userId] = true;
      else delete s.muted[msg.userId];
      return {
        state: { ...s },
        // The server's mirror learns of the mute before the host hears "ok".
        effects: [
          emit({ kind: 'room.muted', roomId: s.roomId, userId: msg.userId, muted: msg.muted }),
          publish(topic, 'room.muted', { roomId: s.roomId, userId: msg.userId, muted: msg.muted }),
          ok(),
        ],
      };
    }
    case 'close': {
      if (msg.by !== s.hostId) return same(s, [fail('PERMISSION_DENIED', 'only the host of this room')]);
      if (msg.countdownMs <= 0) return end(s, now, 'closed', [ok()]);
      if (s.status === 'closing') return same(s, [ok()]);
      const next = { ...s, status: 'closing' as const, closesAt: now + msg.countdownMs, nextTickAt: nextTick(now, now + msg.countdownMs, rules) };
      return { state: next, effects: [ok(), countdown(next, now)] };
    }
    case 'tick': {
      if (s.status !== 'closing' || s.closesAt === null || s.nextTickAt === null || now < s.nextTickAt) return same(s, []);
      return { state: { ...s, nextTickAt: nextTick(now, s.closesAt, rules) }, effects: [countdown(s, now)] };
    }
    case 'end': {
      const due = msg.reason === 'countdown' ? s.closesAt : s.hostAwayUntil;
      if (due === null || now < due) return same(s, []);
      return end(s, now, msg.reason, []);
    }
    case 'likes': {
      const next = { ...s, likes: s.likes + msg.count };
      return { state: next, effects: [publish(topic, 'room.likes', { roomId: s.roomId, added: msg.count, total: next.likes }), listing(next)] };
    }
    case 'earned':
      return { state: { ...s, gifts: s.gifts + msg.gifts, credits: s.credits + msg.credits }, effects: [] };
    case 'notice':
      return same(s, [ok(), publish(topic, 'room.notice', { roomId: s.roomId, kind: msg.kind, text: msg.text })]);
    case 'admin-close':
      return end(s, now, 'admin', [ok()]);
    case 'host-away':
      if (s.hostAwayUntil !== null) return same(s, []);
      return same({ ...s, hostAwayUntil: Math.min(now, msg.since) + rules.hostGraceMs }, []);
    case 'call-request':
    case 'call-invite':
    case 'call-answer':
    case 'call-cancel':
    case 'call-confirm':
    case 'call-stop':
    case 'call-queue':
    case 'call-expire':
    case 'call-unconfirmed':
      return reduceCall(s, msg, now, rules);
    case 'host-back':
      if (s.hostAwayUntil === null) return same(s, []);
      return same({ ...s, hostAwayUntil: null }, []);
    case 'restarted': {
      // Every socket is gone: viewers re-enter after they reconnect; the host gets the usual grace.
      const calls = callsOnRestart(s, now, rules);
      const next = { ...s, viewers: new Map<number, Viewer>(), hostAwayUntil: s.hostAwayUntil ?? now + rules.hostGraceMs, call: calls.call };
      return { state: next, effects: [openedEvent(next), listing(next), ...calls.effects] };
    }
  }
}

/** The server mirrors who is muted, so chat lines never wait for the room actor. */
function openedEvent(s: RoomState): Effect {
  return emit({ kind: 'room.opened', roomId: s.roomId, hostId: s.hostId, muted: Object.keys(s.muted).map(Number), pricePerMinute: s.pricePerMinute });
}

function departure(s: RoomState, userId: number, reason: 'left' | 'kicked' | 'gone'): Effect[] {
  return [
    emit({ kind: 'room.member_left', roomId: s.roomId, userId }),
    // Coalesced by the room channel, like entries.
    publish(topicOf(s.roomId), 'room.user_left', { roomId: s.roomId, users: [{ userId, reason }], viewers: viewerCount(s) }),
  ];
}

/**
 * The top `size` viewers: highest level first, equal levels in order of entry. One pass keeping
 * a sorted list of at most `size` (O(n·size) at worst, ~O(n) when few qualify).
 */
export function topViewers(s: RoomState, size: number) {
  const top: Array<[number, Viewer]> = [];
  for (const [userId, v] of s.viewers) {
    if (top.length === size && v.profile.level <= top[top.length - 1]![1].profile.level) continue;
    let i = top.length;
    while (i > 0 && top[i - 1]![1].profile.level < v.profile.level) i--;
    top.splice(i, 0, [userId, v]);
    if (top.length > size) top.pop();
  }
  return top.map(([userId, v]) => member(userId, v.profile));
}

export function roomDeadlines(s: RoomState): Deadline<RoomMsg>[] {
  const out: Deadline<RoomMsg>[] = [];
  if (s.closesAt !== null) out.push({ id: 'close', at: s.closesAt, msg: { t: 'end', reason: 'countdown' } });
  if (s.nextTickAt !== null) out.push({ id: 'tick', at: s.nextTickAt, msg: { t: 'tick' } });
  if (s.hostAwayUntil !== null) out.push({ id: 'host-away', at: s.hostAwayUntil, msg: { t: 'end', reason: 'abnormal' } });
  const bill = live(s) ? roomBillAt(s) : null;
  if (bill !== null) out.push({ id: 'bill', at: bill, msg: { t: 'bill-due' } });
  out.push(...chargeDeadlines<RoomMsg>(s, { t: 'charge-retry' }));
  if (live(s)) out.push(...callDeadlines(s));
  return out;
}

export function roomActor(rules: RoomRules): ActorDef<RoomState, RoomMsg> {
  return {
    kind: 'room',
    initialState: initialRoomState,
    reduce: (state, msg, now) => reduceRoom(state, msg, now, rules),
    deadlines: roomDeadlines,
    retired: (s) => s.status === 'closed',
    toSnapshot: roomToSnapshot,
    fromSnapshot: roomFromSnapshot,
  };
}
