import t from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { startTestServer, until, waitFor, type TestServer } from '../helpers/server.js';

/** Sends the requests in one TCP write (the socket is corked around the sends) and waits for every reply, ok or not. */
function together(c: LiveClient, requests: Array<[string, unknown]>): Promise<Array<PromiseSettledResult<unknown>>> {
  const socket = (c as unknown as { ws: { _socket: { cork(): void; uncork(): void } } }).ws._socket;
  socket.cork();
  const replies = requests.map(([op, d]) => c.requestRaw(op, d));
  socket.uncork();
  return Promise.allSettled(replies);
}

const viewerIds = async (_ts: TestServer, c: LiveClient, roomId: number) =>
  ((await c.request('room.viewers', { roomId, page: 1, pageSize: 100 })) as { viewers: Array<{ userId: number }> }).viewers.map((v) => v.userId);

async function twoRooms(ts: TestServer, seatLimit?: number) {
  const h1 = await ts.connect(100, 'host');
  const h2 = await ts.connect(200, 'host');
  const r1 = (await h1.request('room.open', { title: 'one', ...(seatLimit ? { seatLimit } : {}) })).roomId;
  const r2 = (await h2.request('room.open', { title: 'two', ...(seatLimit ? { seatLimit } : {}) })).roomId;
  return { h1, h2, r1, r2 };
}

t.test('two room.enter in one write: the viewer ends in the second room only, and leaves no ghost', async (t) => {
  const ts = await startTestServer(t, { resumeGraceMs: 5000 });
  const { h1, r1, r2 } = await twoRooms(ts);
  const v = await ts.connect(1);

  const [a, b] = await together(v, [['room.enter', { roomId: r1 }], ['room.enter', { roomId: r2 }]]);
  t.equal(a!.status, 'fulfilled');
  t.equal(b!.status, 'fulfilled');
  t.same(await viewerIds(ts, h1, r1), [], 'not listed in the first room');
  t.same(await viewerIds(ts, h1, r2), [1], 'listed in the second');
  t.same(ts.server.sessions.ofUser(1)?.topics, new Set([`room/${r2}`]), 'subscribed to the second room only');

  let heardFromFirst = 0;
  v.on('chat.message', (d) => void (d.roomId === r1 && heardFromFirst++));
  await h1.request('chat.send', { text: 'anyone?' });
  await v.request('room.leave', {});
  await h1.request('chat.send', { text: 'still?' });
  await v.request('session.ping', {});
  t.equal(heardFromFirst, 0, 'no chat of the first room reaches the viewer');

  await v.request('room.enter', { roomId: r2 });
  await ts.drop(v);
  ts.clock.advance(5000);
  await waitFor(() => !ts.server.sessions.ofUser(1), 'the session to expire');
  await waitFor(() => ts.logs.some((l) => l.msg === 'session ended' && l.userId === 1), 'the end of the session');
  // The leave runs in the user's lane after the expiry: wait until both rooms are empty.
  const left = await until(
    () => Promise.all([viewerIds(ts, h1, r1), viewerIds(ts, h1, r2)]),
    (ids) => Array.isArray(ids) && ids.every((list) => list.length === 0),
    'both rooms to be empty after the grace',
  );
  t.same(left, [[], []], 'no ghost holds a seat after the grace');
});

t.test('ghosts cannot fill a room: racing viewers leave their seats', async (t) => {
  const ts = await startTestServer(t, { resumeGraceMs: 1000 });
  const { h1, r1, r2 } = await twoRooms(ts, 3);
  for (const id of [1, 2, 3]) {
    const v = await ts.connect(id);
    await together(v, [['room.enter', { roomId: r1 }], ['room.enter', { roomId: r2 }]]);
    await ts.drop(v);
  }
  ts.clock.advance(1000);
  await waitFor(() => [1, 2, 3].every((id) => !ts.server.sessions.ofUser(id)), 'the sessions to expire');
  const real = await ts.connect(4);
  const entered = await until(() => real.request('room.enter', { roomId: r1 }), (v) => !(v instanceof Error), 'a real viewer to find a seat');
  t.match(entered, { roomId: r1 });
  t.same(await viewerIds(ts, h1, r1), [4]);
});

t.test('room.open and room.enter in one write: a host never becomes a viewer while hosting', async (t) => {
  const ts = await startTestServer(t);
  const other = await ts.connect(200, 'host');
  const r1 = (await other.request('room.open', { title: 'theirs' })).roomId;
  const host = await ts.connect(100, 'host');

  const [opened, entered] = await together(host, [['room.open', { title: 'mine' }], ['room.enter', { roomId: r1 }]]);
  t.equal(opened!.status, 'fulfilled', 'the room opens');
  t.match(entered, { status: 'rejected', reason: { code: 711 } }, 'the enter that follows is refused: close your own room first');
  t.same(await viewerIds(ts, other, r1), [], 'not a viewer of the other room');
  const mine = (opened as PromiseFulfilledResult<{ roomId: number }>).value.roomId;
  t.same(ts.server.sessions.ofUser(100)?.topics, new Set([`room/${mine}`]));
});

t.test('a refused room.enter changes nothing: the viewer stays where they were', async (t) => {
  const ts = await startTestServer(t, { roomKickBanMs: 60_000 });
  const { h1, h2, r1, r2 } = await twoRooms(ts);
  const h3 = await ts.connect(300, 'host');
  const small = (await h3.request('room.open', { title: 'small', seatLimit: 1 })).roomId;
  await (await ts.connect(9)).request('room.enter', { roomId: small });
  const v = await ts.connect(1);
  await v.request('room.enter', { roomId: r2 });
  await h2.request('room.kick', { userId: 1 });
  await v.request('room.enter', { roomId: r1 });
  ts.clock.advance(ts.config.membersFlushMs);
  const departures: unknown[] = [];
  h1.on('room.user_left', (d) => departures.push(d));

  await t.rejects(v.request('room.enter', { roomId: 999_999 }), { code: 731 }, 'a room that does not exist');
  await t.rejects(v.request('room.enter', { roomId: small }), { code: 505 }, 'a full room');
  await t.rejects(v.request('room.enter', { roomId: r2 }), { code: 737 }, 'a room that banned you');

  ts.clock.advance(ts.config.membersFlushMs);
  await v.request('session.ping', {});
  t.same(departures, [], 'no room.user_left for the refused viewer');
  t.same(await viewerIds(ts, h1, r1), [1], 'still listed in the first room');
  t.match(await v.request('chat.send', { text: 'still here' }), { msgId: Number }, 'chat still works (no 39)');
  t.same(ts.server.sessions.ofUser(1)?.topics, new Set([`room/${r1}`]));
});
