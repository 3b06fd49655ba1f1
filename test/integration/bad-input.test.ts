import { createHmac } from 'node:crypto';
import { Packr } from 'msgpackr';
import t from 'tap';
import { encode } from '../../src/protocol/codec.js';
import { LiveClient, ServerError } from '../../src/client/index.js';
import { startTestServer, TEST_SECRET } from '../helpers/server.js';

/** Sends raw bytes and resolves with the next reply frame's error. */
function rawReply(c: LiveClient, bytes: Uint8Array | string): Promise<unknown> {
  return new Promise((resolve) => {
    const off = c.on('$orphan-reply' as never, (frame: unknown) => {
      off();
      resolve(frame);
    });
    c.sendBytes(bytes);
  });
}

t.test('bad frames get their documented error and change nothing', async (t) => {
  const ts = await startTestServer(t);
  const c = await ts.connect(1);
  const other = await ts.connect(2);

  t.match(await rawReply(c, Buffer.from([0xc1])), { re: 0, ok: false, err: { code: 902 } }, 'not MessagePack → 902');
  t.match(await rawReply(c, Buffer.from([0x92, 0x01])), { re: 0, ok: false, err: { code: 902 } }, 'truncated → 902');
  t.match(await rawReply(c, 'hello'), { re: 0, ok: false, err: { code: 902 } }, 'text frame → 902');
  t.match(await rawReply(c, encode([1, 2, 3])), { re: 0, ok: false, err: { code: 902 } }, 'not an envelope → 902');
  t.match(await rawReply(c, encode({ op: 'session.ping', id: 1.5 })), { re: 0, err: { code: 902 } }, 'fractional id → 902');
  const bigint = Buffer.concat([encode({ op: 'presence.query', id: 900, d: { userIds: [] } }).subarray(0, -1), Buffer.from([0x91, 0xcf, 0xff, 0, 0, 0, 0, 0, 0, 1])]);
  t.match(await rawReply(c, bigint), { re: 900, err: { code: 902 } }, '64-bit integer beyond 2^53 → 902, answered to its request id');

  await t.rejects(c.requestRaw('room.fly', {}), { code: 901 }, 'unknown op → 901');
  await t.rejects(c.requestRaw('presence.query', { userIds: ['x'] }), { code: 700, message: /userIds\/0/ }, 'wrong type → 700 naming the field');
  await t.rejects(c.requestRaw('presence.query', { userIds: [1], extra: true }), { code: 700 }, 'unknown field → 700');
  await t.rejects(c.requestRaw('presence.query', { userIds: [Number.NaN] }), { code: 902 }, 'NaN → 902, answered to its request id');
  await t.rejects(c.requestRaw('presence.query', { userIds: [-1] }), { code: 700 }, 'negative id → 700');
  await t.rejects(c.requestRaw('presence.query', { userIds: Array.from({ length: 101 }, (_, i) => i + 1) }), { code: 700 }, 'too many ids → 700');
  await t.rejects(c.requestRaw('presence.query', { userIds: [4, 5, 4] }), { code: 700, message: /must not repeat/ }, 'a repeated id → 700');
  await t.rejects(c.requestRaw('session.ping', 'nope'), { code: 700, message: /\/d must be a map/ }, 'd not a map → 700');

  const me = await c.request('session.whoami', {});
  t.equal(me.logins, 1, 'nothing changed for the sender');
  t.same(await other.request('session.ping', {}), { now: ts.clock.now() }, 'others are still served');
  const metrics = await ts.server.metrics.registry.getSingleMetricAsString('live_errors_total');
  t.match(metrics, /code="902"/);
});

t.test('a frame over the size limit drops the connection (1006); others keep going', async (t) => {
  const ts = await startTestServer(t, { maxFrameBytes: 1024 });
  const c = await ts.connect(1);
  const other = await ts.connect(2);
  const closed = c.whenClosed();
  c.sendBytes(encode({ op: 'session.ping', id: 1, d: { pad: 'x'.repeat(4096) } }));
  t.match(await closed, { code: 1006 });
  t.equal(ts.server.sessions.ofUser(1)?.conn ?? null, null, 'the session waits for a resume like any dropped connection');
  t.ok(await other.request('session.ping', {}));
});

t.test('flooding beyond the rate limit: 903 replies, then close 4903', async (t) => {
  // The fake clock does not move, so the bucket never refills: exact counts.
  const ts = await startTestServer(t, { ratePerSec: 5, rateBurst: 3 });
  const c = await ts.connect(1);
  const other = await ts.connect(2);
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => c.request('session.ping', {})));
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: number }).code)),
    ['ok', 'ok', 'ok', 903, 903, 903],
    'the burst passes, the rest is refused with 903 and the request id',
  );
  const closed = c.whenClosed();
  for (let i = 0; i < 5; i++) c.sendBytes(encode({ op: 'session.ping', id: 100 + i }));
  t.match(await closed, { code: 4903 });
  t.ok(await other.request('session.ping', {}), 'other clients are still served');
  ts.clock.advance(1000);
  const again = await ts.connect(1);
  t.ok(await again.request('session.ping', {}), 'the user may come back');
});

// MessagePack written byte by byte: what a sloppy or hostile client may send.
const strOf = (raw: number[]) => [0xa0 | raw.length, ...raw];
const s = (text: string) => strOf([...Buffer.from(text)]);
const int = (n: number) => (n < 128 ? [n] : [0xcd, n >> 8, n & 0xff]);
const f32 = (n: number) => {
  const b = Buffer.alloc(5);
  b[0] = 0xca;
  b.writeFloatBE(n, 1);
  return [...b];
};
const f64 = (n: number) => {
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(n, 1);
  return [...b];
};
const map = (...entries: Array<[number[], number[]]>) => [0x80 | entries.length, ...entries.flatMap(([k, v]) => [...k, ...v])];
const req = (op: string, id: number[], d?: number[]) =>
  Buffer.from(map([s('op'), s(op)], [s('id'), id], ...(d ? ([[s('d'), d]] as Array<[number[], number[]]>) : [])));

t.test('on the wire: floats for integers, ext types, records, bad UTF-8, bad keys and non-map d get their exact codes and change nothing', async (t) => {
  const ts = await startTestServer(t);
  const host = await ts.connect(100, 'host');
  const host2 = await ts.connect(101, 'host');
  const viewer = await ts.connect(1);
  const { roomId } = await host.request('room.open', { title: 'Live' });
  await viewer.request('room.enter', { roomId });
  let ended = false;
  viewer.on('room.ended', () => void (ended = true));

  const refusal = (code: number, re: number) => ({ re, ok: false, err: { code } });
  for (const float of [f32, f64]) {
    t.match(await rawReply(viewer, req('session.ping', float(9))), refusal(902, 0), 'id 9.0 → 902');
    t.match(await rawReply(host, req('room.close', int(9001), map([s('countdownSec'), float(5)]))), { ...refusal(700, 9001), err: { msg: /\/countdownSec/ } }, 'countdownSec 5.0 → 700');
    t.match(await rawReply(viewer, req('room.enter', int(9002), map([s('roomId'), float(roomId)]))), { ...refusal(700, 9002), err: { msg: /\/roomId/ } }, 'roomId as a float → 700');
    t.match(await rawReply(viewer, req('room.like', int(9003), map([s('count'), float(2)]))), { ...refusal(700, 9003), err: { msg: /\/count/ } }, 'count 2.0 → 700');
  }
  t.match(await rawReply(viewer, new Packr({ useRecords: true }).pack({ op: 'session.ping', id: 9004, d: {} })), refusal(902, 0), 'a msgpackr record → 902');
  t.match(await rawReply(viewer, req('chat.send', int(9005), map([s('text'), [0xd6, 0xff, 0, 0, 0, 1]]))), refusal(902, 9005), 'a timestamp ext → 902');
  t.match(await rawReply(viewer, req('chat.send', int(9006), map([s('text'), [0xc7, 0x01, 0x05, 0x61]]))), refusal(902, 9006), 'an ext 8 → 902');
  t.match(await rawReply(host2, req('room.open', int(9007), map([s('title'), strOf([0xff, 0xfe, 0x41])]))), refusal(902, 9007), 'invalid UTF-8 in a title → 902');
  t.match(await rawReply(host2, req('room.open', int(9008), map([s('title'), strOf([0xc0, 0xaf])]))), refusal(902, 9008), 'an overlong UTF-8 form → 902');
  t.match(await rawReply(viewer, req('chat.send', int(9009), map([s('text'), s('a')], [s('text'), s('b')]))), refusal(902, 9009), 'a duplicate key → 902');
  t.match(await rawReply(viewer, req('chat.send', int(9010), map([s('text'), s('a')], [[0x01], s('b')]))), refusal(902, 9010), 'an int key → 902');
  for (const [what, d] of [['nil', [0xc0]], ['an empty bin', [0xc4, 0x00]], ['an empty array', [0x90]], ['a string', s('x')], ['a number', [0x00]]] as const) {
    t.match(await rawReply(host, req('room.close', int(9011), [...d])), { ...refusal(700, 9011), err: { msg: /\/d must be a map/ } }, `d as ${what} → 700`);
  }

  // nothing changed: the room is open, with its title; the second host opened nothing
  const rooms = await viewer.request('room.list', { page: 1, pageSize: 10 });
  t.same(rooms.rooms.map((r) => [r.roomId, r.title]), [[roomId, 'Live']], 'one room, as opened');
  t.equal(ended, false, 'no room.ended reached the viewer');
  const second = await host2.request('room.open', { title: '直播 A' });
  t.equal(second.title, '直播 A', 'the second host can still open a room; its title is what was sent');
  t.same(await viewer.request('session.ping', {}), { now: ts.clock.now() }, 'the connection is still served');
  t.ok(await host.request('room.close', {}), 'the host closes the room with a proper request');
});

/** A token signed with the test secret over exactly these payload bytes. */
function rawToken(payload: Record<string, unknown>): string {
  const head = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${head}.${createHmac('sha256', TEST_SECRET).update(head).digest('base64url')}`;
}

t.test('on the wire: a token whose sub is not a plain decimal string is refused with 720 before the upgrade', async (t) => {
  const ts = await startTestServer(t);
  const exp = Math.floor(ts.clock.now() / 1000) + 600;
  const attempt = (sub: unknown, extra: Record<string, unknown> = {}) =>
    LiveClient.connect(ts.url, { token: rawToken({ sub, role: 'viewer', exp, ...extra }) }).then(
      (c) => (void c.drop(), c.welcome.userId),
      (e: unknown) => (e instanceof ServerError ? `refused ${e.code}` : String(e)),
    );
  for (const sub of [true, '709.0', '0x2c5', '7.09e2', ' 709 ', ['709'], 709, '0709', '1234567890123456']) {
    t.equal(await attempt(sub), 'refused 720', `sub ${JSON.stringify(sub)}`);
  }
  t.equal(await attempt('709', { role: 'admin' }), 'refused 720', 'role admin');
  t.equal(await attempt('709', { exp: exp + 0.5 }), 'refused 720', 'fractional exp');
  t.equal(await attempt('709', { nick: 'n'.repeat(65) }), 'refused 720', 'nick too long');
  t.equal(await attempt('709'), 709, 'sub "709" logs in as 709');
  t.equal(ts.server.sessions.size, 1, 'only the good token made a session');
});
