import t from 'tap';
import type { Effect } from '../../src/actors/effects.js';
import { initialRoomState, reduceRoom, roomDeadlines, roomFromSnapshot, roomToSnapshot, type RoomMsg, type RoomState } from '../../src/actors/room.js';
import { decode, encode } from '../../src/protocol/codec.js';

const rules = { kickBanMs: 10_000, hostGraceMs: 60_000, countdownTickMs: 1000, callRequestTtlMs: 30_000, callConfirmMs: 6000, callQueueMax: 20 };
const profile = { nickname: 'n', avatar: '', gender: '' as const, level: 0 };

/** Runs messages through the reducer, returning the final state and every effect. */
function run(msgs: Array<[RoomMsg, number]>, from: RoomState = initialRoomState('7')) {
  const effects: Effect[] = [];
  let state = from;
  for (const [msg, now] of msgs) {
    const step = reduceRoom(state, msg, now, rules);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}
const opened = run([[{ t: 'open', hostId: 100, host: profile, title: 'x', seatLimit: 2, pricePerMinute: 0 }, 1000]]).state;
const replies = (effects: Effect[]) => effects.filter((e) => e.type === 'reply').map((e) => (e.type === 'reply' ? e.reply : null));

t.test('countdown: ticks at the cadence, deadlines follow the state, the end waits for its time', (t) => {
  let { state } = run([[{ t: 'close', by: 100, countdownMs: 2500 }, 2000]], opened);
  t.same(roomDeadlines(state).map((d) => [d.id, d.at]), [['close', 4500], ['tick', 3000]]);
  state = run([[{ t: 'tick' }, 3000]], state).state;
  t.same(roomDeadlines(state).map((d) => [d.id, d.at]), [['close', 4500], ['tick', 4000]]);
  state = run([[{ t: 'tick' }, 4000]], state).state;
  t.same(roomDeadlines(state).map((d) => d.id), ['close'], 'no tick past the end');
  const early = run([[{ t: 'end', reason: 'countdown' }, 4499]], state);
  t.equal(early.state, state, 'an early delivery changes nothing');
  const done = run([[{ t: 'end', reason: 'countdown' }, 4500]], state);
  t.equal(done.state.status, 'closed');
  t.same(roomDeadlines(done.state), []);
  t.equal(run([[{ t: 'end', reason: 'countdown' }, 9999]], done.state).state, done.state, 'a repeated delivery changes nothing');
  t.end();
});

t.test('bans expire; a closed room refuses everything but the restart wake-up', (t) => {
  const { state } = run([
    [{ t: 'enter', userId: 1, profile }, 1000],
    [{ t: 'kick', by: 100, userId: 1 }, 2000],
  ], opened);
  t.match(replies(run([[{ t: 'enter', userId: 1, profile }, 11_999]], state).effects), [{ ok: false, error: 'CANNOT_WATCH' }]);
  t.match(replies(run([[{ t: 'enter', userId: 1, profile }, 12_000]], state).effects), [{ ok: true }]);
  const closed = run([[{ t: 'close', by: 100, countdownMs: 0 }, 3000]], state).state;
  t.match(replies(run([[{ t: 'enter', userId: 2, profile }, 3001]], closed).effects), [{ ok: false, error: 'INVALID_ROOM' }]);
  t.same(run([[{ t: 'restarted' }, 5000]], closed).effects, [{ type: 'emit', event: { kind: 'room.closed', roomId: 7, hostId: 100 } }]);
  t.same(run([[{ t: 'restarted' }, 5000]]).effects, [{ type: 'emit', event: { kind: 'room.closed', roomId: 7, hostId: 0 } }], 'a room that never opened is released');
  t.end();
});

t.test('restart: viewers are gone, the host gets the grace, the state survives encode/decode', (t) => {
  const before = run([[{ t: 'enter', userId: 1, profile }, 1500], [{ t: 'likes', count: 4 }, 1600]], opened).state;
  const restored = roomFromSnapshot(decode(encode(roomToSnapshot(before))));
  t.same(restored, before, 'a snapshot round-trips through MessagePack');
  t.same([...restored.viewers.keys()], [1], 'viewers come back as a Map');
  const after = run([[{ t: 'restarted' }, 50_000]], restored).state;
  t.equal(after.viewers.size, 0);
  t.equal(after.hostAwayUntil, 110_000);
  t.equal(after.likes, 4);
  t.same([...after.seen], [1], 'distinct viewers are remembered for the totals');
  const back = run([[{ t: 'host-back' }, 60_000]], after).state;
  t.equal(back.hostAwayUntil, null);
  t.end();
});

t.test('host away counts from when the socket dropped, not from when the room heard of it', (t) => {
  const { state } = run([[{ t: 'host-away', since: 10_000 }, 10_050]], opened);
  t.equal(state.hostAwayUntil, 70_000);
  t.end();
});

t.test('entering and leaving update the room in place: O(1) per viewer, not a copy of the room', (t) => {
  let state = opened;
  const viewers = state.viewers;
  for (let i = 1; i <= 2; i++) state = run([[{ t: 'enter', userId: i, profile }, 2000 + i]], state).state;
  t.not(state, opened, 'a new top-level object says "changed" to the shell');
  t.equal(state.viewers, viewers, 'the same viewer map, updated in place');
  t.equal(state.viewers.size, 2);
  const full = run([[{ t: 'enter', userId: 3, profile }, 3000]], state);
  t.equal(full.state, state, 'a refusal (no seats) returns the same object');
  t.equal(state.viewers.size, 2, 'and touches nothing');
  state = run([[{ t: 'leave', userId: 1, reason: 'left' }, 4000]], state).state;
  t.same([...state.viewers.keys()], [2]);
  t.end();
});

t.test('a paid room: minute 1 on entering, later minutes from the confirmed ones, retries, an unpaid minute puts the viewer out', (t) => {
  const paid = run([[{ t: 'open', hostId: 100, host: profile, title: 'x', seatLimit: 5, pricePerMinute: 10 }, 1000]]).state;
  const charges = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'emit' && e.event.kind === 'charge' ? [e.event.charge] : []));
  t.match(replies(run([[{ t: 'enter', userId: 1, profile, credits: 9 }, 2000]], paid).effects), [{ ok: false, error: 'INSUFFICIENT_CREDIT' }], 'cannot pay the first minute');

  const entered = run([[{ t: 'enter', userId: 1, profile, credits: 100 }, 2000]], paid);
  const [first] = charges(entered.effects);
  t.match(first, { key: 'bill:room:7:1:2000:1', what: 'bill', place: 'room', placeId: 7, viewerId: 1, hostId: 100, minute: 1, price: 10, fromHold: false });
  t.same(roomDeadlines(entered.state).map((d) => [d.id, d.at]), [['charge-retry', 7000]], 'no next minute before the first is confirmed');
  const retried = run([[{ t: 'charge-retry' }, 7000]], entered.state);
  t.match(charges(retried.effects), [{ key: 'bill:room:7:1:2000:1', requestedAt: 7000 }], 'asked again under the same key');

  const paidOne = run([[{ t: 'charged', key: first!.key, ok: true, earned: 7 }, 7100]], retried.state);
  t.same(roomDeadlines(paidOne.state).map((d) => [d.id, d.at]), [['bill', 62_000]], 'minute 2 at entry + 1 minute');
  const due = run([[{ t: 'bill-due' }, 62_000]], paidOne.state);
  t.match(charges(due.effects), [{ key: 'bill:room:7:1:2000:2', minute: 2 }]);
  const restored = roomFromSnapshot(decode(encode(roomToSnapshot(due.state))));
  t.same(restored.charges, due.state.charges, 'the outbox survives a snapshot');

  const out = run([[{ t: 'charged', key: 'bill:room:7:1:2000:2', ok: false, reason: 'no_credit' }, 62_050]], restored);
  t.equal(out.state.viewers.has(1), false);
  t.match(out.effects.filter((e) => e.type === 'push'), [{ op: 'room.kicked', d: { roomId: 7, reason: 'no_credit' } }]);
  t.same(roomDeadlines(out.state), []);

  // An answer for an earlier visit (left and came back) moves nothing of the new one.
  const again = run([[{ t: 'leave', userId: 1, reason: 'left' }, 3000], [{ t: 'enter', userId: 1, profile, credits: 100 }, 4000]], entered.state);
  const late = run([[{ t: 'charged', key: first!.key, ok: false, reason: 'no_credit' }, 4100]], again.state);
  t.equal(late.state.viewers.has(1), true, 'the new visit stays');
  t.equal(late.state.viewers.get(1)?.billing, 1, 'and its own first minute is still being charged');
  t.end();
});
