import t from 'tap';
import type { Effect } from '../../src/actors/effects.js';
import { initialRoomState, reduceRoom, roomDeadlines, roomFromSnapshot, roomToSnapshot, type RoomMsg, type RoomState } from '../../src/actors/room.js';
import { decode, encode } from '../../src/protocol/codec.js';

const rules = { kickBanMs: 10_000, hostGraceMs: 60_000, countdownTickMs: 1000 };
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
