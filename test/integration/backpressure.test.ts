import t from 'tap';
import { encode } from '../../src/protocol/codec.js';
import { startTestServer, waitFor } from '../helpers/server.js';

t.test('a client that stops reading is closed with 4908 once its send buffer overflows', async (t) => {
  // Queues wide open: this test is about a reader that stops, not about load shedding.
  const ts = await startTestServer(t, {
    maxBackpressureBytes: 64 * 1024,
    ratePerSec: 100_000,
    rateBurst: 100_000,
    userQueue: 100_000,
    maxInflight: 100_000,
    actorQueue: 100_000,
    logLevel: 'info',
  });
  const slow = await ts.connect(1);
  const other = await ts.connect(2);
  const socket = (slow as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket;
  socket.pause(); // the app stops reading; the kernel buffers fill, then the server's

  const userIds = Array.from({ length: 100 }, (_, i) => i + 1000);
  const frame = encode({ op: 'presence.query', id: 1, d: { userIds } });
  const closedOnServer = () => ts.server.sessions.ofUser(1)?.conn === null;
  for (let i = 0; i < 20_000 && !closedOnServer(); i++) {
    slow.sendBytes(frame);
    if (i % 200 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await waitFor(closedOnServer, 'the server to drop the slow client');
  t.ok(ts.logs.some((l) => l.msg === 'closing a client that does not read' && l.userId === 1));
  t.match(await ts.server.metrics.registry.getSingleMetricAsString('live_errors_total'), /code="4908"/);
  t.ok(await other.request('session.ping', {}), 'other clients are unaffected');
  socket.resume();
  const closed = await slow.whenClosed();
  t.ok([4908, 1006].includes(closed.code), `the slow client sees the close (${closed.code})`);
});

t.test('a room viewer that stops reading is dropped, not silently skipped by room pushes', async (t) => {
  const ts = await startTestServer(t, {
    maxBackpressureBytes: 64 * 1024,
    ratePerSec: 100_000,
    rateBurst: 100_000,
    chatPerSec: 100_000,
    chatBurst: 100_000,
    logLevel: 'info',
  });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'loud' });
  const slow = await ts.connect(1);
  const fine = await ts.connect(2);
  await slow.request('room.enter', { roomId });
  await fine.request('room.enter', { roomId });
  const socket = (slow as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket;
  socket.pause();
  let heard = 0;
  fine.on('chat.message', () => heard++);

  const line = encode({ op: 'chat.send', id: 1, d: { text: 'x'.repeat(180) } });
  const dropped = () => ts.server.sessions.ofUser(1)?.conn === null;
  let sent = 0;
  for (; sent < 40_000 && !dropped(); sent++) {
    host.sendBytes(line);
    if (sent % 200 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await waitFor(dropped, 'the server to drop the slow room viewer');
  await waitFor(() => heard >= sent, 'the reading viewer to get every line');
  t.equal(heard, sent, 'the reading viewer missed nothing');
  socket.resume();
  await slow.whenClosed();
  t.ok(ts.server.sessions.ofUser(1), 'the slow viewer keeps its session for a resume');
});
