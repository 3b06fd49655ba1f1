import t from 'tap';
import { FakeClock } from '../../src/clock.js';
import { decode } from '../../src/protocol/codec.js';
import { loadConfig } from '../../src/server/config.js';
import { TokenBucket } from '../../src/server/rate-limit.js';
import { SessionRegistry, type Conn, type EndReason } from '../../src/server/sessions.js';

const identity = (userId: number) => ({ userId, role: 'viewer' as const, profile: { nickname: '', avatar: '', gender: '' as const, level: 0 } });

function fakeConn() {
  const conn = {
    frames: [] as unknown[],
    ended: undefined as number | undefined,
    topics: new Set<string>(),
    send: (f: Uint8Array) => void conn.frames.push(decode(f)),
    end: (code: number) => void (conn.ended = code),
    subscribe: (topic: string) => void conn.topics.add(topic),
    unsubscribe: (topic: string) => void conn.topics.delete(topic),
  };
  return conn satisfies Conn;
}

t.test('config: defaults load; a bad value names its variable', (t) => {
  const c = loadConfig({});
  t.match(c, { port: 8080, dbPath: './data/live.db', dbSynchronous: 'FULL', allowedOrigins: [] });
  t.throws(() => loadConfig({ LIVE_PORT: 'eighty' }), /LIVE_PORT: expected an integer/);
  t.throws(() => loadConfig({ LIVE_PORT: '70000' }), /LIVE_PORT: expected 0\.\.65535/);
  t.throws(() => loadConfig({ LIVE_DB_SYNCHRONOUS: 'OFF' }), /LIVE_DB_SYNCHRONOUS/);
  t.throws(() => loadConfig({ LIVE_TOKEN_SECRET: 'short' }), /LIVE_TOKEN_SECRET: must be at least 32/);
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), /LIVE_TOKEN_SECRET is required/);
  t.same(loadConfig({ LIVE_ALLOWED_ORIGINS: 'https://a.example, https://b.example' }).allowedOrigins, ['https://a.example', 'https://b.example']);
  t.end();
});

t.test('token bucket: burst, refill, strikes', (t) => {
  const b = new TokenBucket(10, 3, 0);
  t.same([b.take(0), b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false, false]);
  t.equal(b.strikes, 2);
  t.ok(b.take(100), 'one token back after 100 ms at 10/s');
  t.equal(b.strikes, 0);
  t.notOk(b.take(100));
  t.ok(b.take(10_000) && b.take(10_000) && b.take(10_000) && !b.take(10_000), 'refill is capped at the burst');
  t.end();
});

t.test('session registry: buffering before welcome, grace, replacement', (t) => {
  const clock = new FakeClock(0);
  const ended: Array<[number, EndReason]> = [];
  const reg = new SessionRegistry({ clock, graceMs: 1000, bufferSize: 3, events: { started: () => {}, ended: (s, r) => void ended.push([s.userId, r]) } });
  const c1 = fakeConn();
  const { session } = reg.open(identity(1), c1);
  reg.push(1, 'presence.changed', { userId: 2, status: 'online' });
  t.same(c1.frames, [], 'nothing is sent before the welcome');
  t.equal(reg.activate(session, 0), 1, 'buffered push flushed on activation');
  t.same(c1.frames, [{ op: 'presence.changed', d: { userId: 2, status: 'online' }, seq: 1 }]);

  reg.detach(session, c1);
  t.notOk(reg.push(2, 'presence.changed', {}), 'no session, no push');
  clock.advance(999);
  t.same(ended, []);
  clock.advance(1);
  t.same(ended, [[1, 'expired']]);

  const c2 = fakeConn();
  reg.open(identity(5), c2);
  const c3 = fakeConn();
  reg.open(identity(5), c3);
  t.same(c2.frames, [{ op: 'session.kicked', d: { code: 42, msg: 'logged in elsewhere' } }]);
  t.equal(c2.ended, 4042);
  t.same(ended.at(-1), [5, 'replaced']);
  t.equal(reg.size, 1);

  reg.subscribe(5, 'room/1');
  t.same([...c3.topics], [], 'topics wait for the welcome like pushes do');
  reg.activate(reg.ofUser(5)!, 0);
  t.same([...c3.topics], ['room/1']);
  const c4 = fakeConn();
  const { session: newer } = reg.open(identity(5), c4);
  reg.activate(newer, 0);
  t.same([...c4.topics], ['room/1'], "a newer login keeps the user's rooms");
  reg.unsubscribe(5, 'room/1');
  t.same([...c4.topics], []);
  t.end();
});

t.test('room channels: per-topic seq, replay after a seq, null when the gap is gone', async (t) => {
  const { RoomChannels } = await import('../../src/server/channels.js');
  const clock = new FakeClock(0);
  const sent: Array<[string, unknown]> = [];
  const channels = new RoomChannels({ clock, bufferSize: 2, coalesceMs: 0, keepMs: 1000, send: (topic, frame) => void sent.push([topic, decode(frame)]) });
  channels.publish('room/1', 'room.likes', { n: 1 });
  channels.publish('room/2', 'room.likes', { n: 2 });
  channels.publish('room/1', 'room.likes', { n: 3 });
  t.same(sent, [
    ['room/1', { op: 'room.likes', d: { n: 1 }, ch: 'room/1', seq: 1 }],
    ['room/2', { op: 'room.likes', d: { n: 2 }, ch: 'room/2', seq: 1 }],
    ['room/1', { op: 'room.likes', d: { n: 3 }, ch: 'room/1', seq: 2 }],
  ]);
  t.same(channels.since('room/1', 1)?.map((f) => decode(f)), [{ op: 'room.likes', d: { n: 3 }, ch: 'room/1', seq: 2 }]);
  channels.publish('room/1', 'room.likes', { n: 4 });
  t.equal(channels.since('room/1', 0), null, 'seq 1 fell out of the two-frame buffer');
  t.equal(channels.since('room/1', 9), null, 'a seq from the future (another server run)');
  t.same(channels.since('room/1', 3), [], 'up to date');
  channels.closed('room/1');
  clock.advance(1000);
  t.equal(channels.since('room/1', 3), null, 'forgotten a while after the room closed');
  t.same(channels.since('room/9', 0), [], 'a channel with nothing published yet');
});

t.test('room channels: entries and departures of a burst become one push each, in order, at most 100 users', async (t) => {
  const { RoomChannels, MAX_COALESCED } = await import('../../src/server/channels.js');
  const clock = new FakeClock(0);
  const sent: Array<{ op: string; d: { users?: Array<{ userId: number }>; viewers?: number }; seq: number }> = [];
  const channels = new RoomChannels({ clock, bufferSize: 10, coalesceMs: 250, keepMs: 1000, send: (_topic, frame) => void sent.push(decode(frame) as never) });
  const entered = (userId: number, viewers: number) => channels.publish('room/1', 'room.user_entered', { roomId: 1, users: [{ userId }], viewers });
  entered(1, 1);
  entered(2, 2);
  entered(3, 3);
  t.same(sent, [], 'held while the burst lasts');
  clock.advance(250);
  t.same(sent.map((p) => [p.op, p.d.users?.map((u) => u.userId), p.d.viewers, p.seq]), [['room.user_entered', [1, 2, 3], 3, 1]], 'one push, the latest count');

  entered(4, 4);
  channels.publish('room/1', 'room.user_left', { roomId: 1, users: [{ userId: 4, reason: 'left' }], viewers: 3 });
  channels.publish('room/1', 'chat.message', { text: 'hi' });
  t.same(sent.slice(1).map((p) => [p.op, p.seq]), [['room.user_entered', 2], ['room.user_left', 3], ['chat.message', 4]], 'another push sends the pending one first: order holds');

  for (let i = 0; i < 250; i++) entered(100 + i, i);
  clock.advance(250);
  const big = sent.slice(4).map((p) => p.d.users!.length);
  t.same(big, [MAX_COALESCED, MAX_COALESCED, 50], 'split at the per-push limit');
  t.equal(channels.since('room/1', 4)!.length, 3, 'coalesced pushes are kept for resuming clients like any other');
});
