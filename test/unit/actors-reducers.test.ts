import t from 'tap';
import { decode, encode } from '../../src/protocol/codec.js';
import { initialPresenceState, reducePresence, type PresenceMsg } from '../../src/actors/presence.js';
import { initialUserState, reduceUser, type UserMsg } from '../../src/actors/user.js';

const profile = { nickname: 'Ann', avatar: 'a.png', gender: 'female' as const, level: 3 };

t.test('user: login records the latest session and answers with the previous one', (t) => {
  const s0 = initialUserState('9');
  const a = reduceUser(s0, { t: 'login', sessionId: 's1', role: 'host', profile }, 1000);
  t.same(a.effects, [{ type: 'reply', reply: { ok: true, value: { previousSessionId: null } } }]);
  const b = reduceUser(a.state, { t: 'login', sessionId: 's2', role: 'host', profile }, 2000);
  t.same(b.effects, [{ type: 'reply', reply: { ok: true, value: { previousSessionId: 's1' } } }]);
  t.match(b.state, { userId: 9, latestSessionId: 's2', logins: 2, firstLoginAt: 1000, lastLoginAt: 2000, profile });
  t.same(s0, initialUserState('9'), 'the reducer does not mutate its input');
  t.end();
});

t.test('user: a stale logout does not touch the newer session; a read changes nothing', (t) => {
  const s = reduceUser(initialUserState('1'), { t: 'login', sessionId: 'new', role: 'viewer', profile }, 10).state;
  t.equal(reduceUser(s, { t: 'logout', sessionId: 'old' }, 20).state, s, 'same object: nothing to journal');
  t.equal(reduceUser(s, { t: 'get' }, 20).state, s);
  t.equal(reduceUser(s, { t: 'logout', sessionId: 'new' }, 30).state.lastSeenAt, 30);
  t.end();
});

t.test('user: replaying journaled messages through encode/decode gives the live state', (t) => {
  const msgs: Array<{ m: UserMsg; at: number }> = [
    { m: { t: 'login', sessionId: 'a', role: 'viewer', profile }, at: 1 },
    { m: { t: 'logout', sessionId: 'a' }, at: 2 },
    { m: { t: 'login', sessionId: 'b', role: 'viewer', profile }, at: 3 },
  ];
  const live = msgs.reduce((s, { m, at }) => reduceUser(s, m, at).state, initialUserState('5'));
  const snapshotAfterTwo = decode(encode(msgs.slice(0, 2).reduce((s, { m, at }) => reduceUser(s, m, at).state, initialUserState('5'))));
  const replayed = reduceUser(snapshotAfterTwo as typeof live, msgs[2]!.m, msgs[2]!.at).state;
  t.same(replayed, live);
  t.end();
});

t.test('presence: status changes notify subscribers only when the status really changes', (t) => {
  const s = initialPresenceState();
  const step = (m: PresenceMsg) => reducePresence(s, m).effects;
  t.same(step({ t: 'subscribe', subscriber: 1, userIds: [2] }), [
    { type: 'reply', reply: { ok: true, value: { statuses: [{ userId: 2, status: 'offline' }] } } },
  ]);
  t.same(step({ t: 'online', userId: 2 }), [{ type: 'push', userId: 1, op: 'presence.changed', d: { userId: 2, status: 'online' } }]);
  t.same(step({ t: 'online', userId: 2 }), [], 'no change, no push');
  t.same(step({ t: 'activity', userId: 2, activity: 'live' }), [{ type: 'push', userId: 1, op: 'presence.changed', d: { userId: 2, status: 'live' } }]);
  t.same(step({ t: 'activity', userId: 2, activity: null }), [{ type: 'push', userId: 1, op: 'presence.changed', d: { userId: 2, status: 'online' } }]);
  step({ t: 'drop', subscriber: 1 });
  t.same(step({ t: 'offline', userId: 2 }), [], 'a dropped subscriber hears nothing');
  t.equal(s.watchers.size, 0, 'no leftover index entries');
  t.equal(s.watching.size, 0);
  t.end();
});

t.test('presence: at most 500 followed users per session', (t) => {
  const s = initialPresenceState();
  for (let i = 0; i < 5; i++) {
    const ids = Array.from({ length: 100 }, (_, k) => i * 100 + k + 1);
    t.match(reducePresence(s, { t: 'subscribe', subscriber: 9999, userIds: ids }).effects[0], { reply: { ok: true } });
  }
  t.match(reducePresence(s, { t: 'subscribe', subscriber: 9999, userIds: [1, 2, 501] }).effects[0], { reply: { ok: false, error: 'LIMIT_EXCEEDED' } });
  t.match(reducePresence(s, { t: 'subscribe', subscriber: 9999, userIds: [1, 2] }).effects[0], { reply: { ok: true } }, 'already-followed ids do not count twice');
  t.end();
});
