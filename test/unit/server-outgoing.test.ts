import t from 'tap';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FrameBatcher, type Outlet } from '../../src/server/outgoing.js';

/** An outlet that records each write (one write = one corked call) and the topics it is in. */
function outlet(topics: string[] = []): Outlet & { writes: string[][] } {
  const o: Outlet & { writes: string[][] } = {
    frames: null,
    writes: [],
    write: (frames) => void o.writes.push(frames.map((f) => Buffer.from(f).toString())),
    subscribed: (topic) => topics.includes(topic),
  };
  return o;
}
const frame = (s: string) => Buffer.from(s);

t.test('the frames of one turn leave in one write per socket, in order, after the turn', async (t) => {
  const b = new FrameBatcher();
  const a = outlet();
  const c = outlet();
  b.queue(a, frame('a1'));
  b.queue(c, frame('c1'));
  b.queue(a, frame('a2'));
  b.queue(a, frame('a3'));
  t.same(a.writes, [], 'nothing written during the turn');
  await nextTurn();
  t.same(a.writes, [['a1', 'a2', 'a3']]);
  t.same(c.writes, [['c1']]);
  b.queue(a, frame('a4'));
  await nextTurn();
  t.same(a.writes, [['a1', 'a2', 'a3'], ['a4']], 'the next turn is a write of its own');
  await nextTurn();
  t.equal(a.writes.length, 2, 'no empty writes');
});

t.test('before a room push, the frames queued for that room\'s sockets are written; others wait for the turn', async (t) => {
  const b = new FrameBatcher();
  const inRoom = outlet(['room:1']);
  const elsewhere = outlet(['room:2']);
  b.queue(inRoom, frame('reply'));
  b.queue(elsewhere, frame('other'));
  b.beforePublish('room:1');
  t.same(inRoom.writes, [['reply']], 'written before the publication');
  t.same(elsewhere.writes, [], 'not in the room: still queued');
  b.queue(inRoom, frame('after'));
  await nextTurn();
  t.same(inRoom.writes, [['reply'], ['after']], 'what came after the push follows it');
  t.same(elsewhere.writes, [['other']]);
});

t.test('flush writes one socket now (before it is closed); flushAll writes everything', async (t) => {
  const b = new FrameBatcher();
  const a = outlet();
  const c = outlet();
  b.queue(a, frame('last words'));
  b.queue(c, frame('c1'));
  b.flush(a);
  t.same(a.writes, [['last words']]);
  t.same(c.writes, []);
  b.flushAll();
  t.same(c.writes, [['c1']]);
  await nextTurn();
  t.equal(a.writes.length + c.writes.length, 2, 'nothing written twice');
});

t.test('a socket ended while its queued frames overflow its buffer is ended once', async (t) => {
  const { pino } = await import('pino');
  const { SocketConn } = await import('../../src/server/gateway.js');
  // As uWS: a second end() of a closed socket throws.
  const ws = {
    ends: [] as number[],
    cork: (cb: () => void) => cb(),
    send: () => 2, // dropped: over maxBackpressure
    end(code: number) {
      if (this.ends.length) throw new Error('Invalid access of closed uWS.WebSocket/SSLWebSocket.');
      this.ends.push(code);
    },
    getBufferedAmount: () => 1 << 20,
    subscribe: () => true,
    unsubscribe: () => true,
  };
  const data = { identity: { userId: 1 }, session: null, closed: false };
  const errors: number[] = [];
  const metrics = { messagesOut: { inc: () => {} }, error: (code: number) => void errors.push(code) };
  const conn = new SocketConn(ws as never, data as never, { logger: pino({ level: 'silent' }), metrics: metrics as never, batcher: new FrameBatcher() });
  conn.send(frame('a reply'));
  t.doesNotThrow(() => conn.end(4711, 'kicked'));
  t.same(ws.ends, [4908], 'closed once, for the backpressure its flush ran into');
  t.same(errors, [4908]);
  t.equal(data.closed, true);
  conn.send(frame('later'));
  conn.end(4711, 'kicked');
  t.same(ws.ends, [4908], 'nothing more on a closed socket');
});
