import t from 'tap';
import { encode } from '../../src/protocol/codec.js';
import type { LiveClient } from '../../src/client/index.js';
import { startTestServer } from '../helpers/server.js';

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
  await t.rejects(c.requestRaw('session.ping', 'nope'), { code: 700 }, 'd not a map → 700');

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
