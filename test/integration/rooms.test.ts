import t from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { startTestServer, waitFor } from '../helpers/server.js';

/** Collects the pushes of one op on a client. */
function collect<T = Record<string, unknown>>(c: LiveClient, op: string): T[] {
  const seen: T[] = [];
  c.on(op as never, (d: unknown) => void seen.push(d as T));
  return seen;
}

t.test('a whole room journey: open, enter ×3, chat, mute, kick, countdown close with totals', async (t) => {
  const ts = await startTestServer(t, { roomCountdownTickMs: 1000, roomKickBanMs: 60_000 });
  const host = await ts.connect(100, 'host');
  const [a, b, c] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(3)]);

  const opened = await host.request('room.open', { title: 'Hello', seatLimit: 10, pricePerMinute: 0 });
  t.match(opened, { host: { userId: 100 }, title: 'Hello', status: 'open', seatLimit: 10, pricePerMinute: 0, viewers: 0, muted: false });
  const roomId = opened.roomId;
  const hostSees = collect(host, 'room.user_entered');

  t.match(await a.request('room.enter', { roomId }), { roomId, viewers: 1, muted: false });
  await b.request('room.enter', { roomId });
  t.match(await c.request('room.enter', { roomId }), { viewers: 3 });
  ts.clock.advance(ts.config.membersFlushMs);
  await waitFor(() => hostSees.length === 1, 'the host to see the entries');
  t.match(hostSees, [{ roomId, users: [{ userId: 1 }, { userId: 2 }, { userId: 3 }], viewers: 3 }], 'three entries, one push');
  t.same(ts.server.sessions.ofUser(1)?.topics, new Set([`room/${roomId}`]));

  const page = await a.request('room.viewers', { roomId, page: 1, pageSize: 2 });
  t.equal(page.total, 3);
  t.same(page.viewers.map((v) => v.userId), [3, 2], 'newest first');

  const heard = collect(c, 'chat.message');
  const sent = await a.request('chat.send', { text: 'hi all' });
  await waitFor(() => heard.length === 1, 'the chat line to reach c');
  t.match(heard[0], { roomId, msgId: sent.msgId, from: { userId: 1, profile: { nickname: 'user1' } }, text: 'hi all' });

  const mutes = collect(b, 'room.muted');
  await host.request('room.mute', { userId: 1, muted: true });
  await t.rejects(a.request('chat.send', { text: 'can I?' }), { code: 722 }, 'muted chat is refused');
  await t.rejects(a.request('chat.barrage', { text: 'or this?' }), { code: 722 });
  await waitFor(() => mutes.length === 1, 'the room to hear of the mute');
  t.match((await a.request('room.enter', { roomId })), { muted: true }, 'the room view says muted');

  const kicked = a.next('room.kicked');
  await host.request('room.kick', { userId: 1 });
  t.match(await kicked, { roomId });
  await t.rejects(a.request('room.enter', { roomId }), { code: 737 }, 'a kicked viewer cannot come back yet');
  await t.rejects(a.request('chat.send', { text: 'x' }), { code: 39 }, 'and is not in the room');

  const countdown = collect(b, 'room.countdown');
  const ended = b.next('room.ended');
  await host.request('room.like', { count: 3 });
  await b.request('room.like', {});
  ts.clock.advance(ts.config.likesFlushMs);
  await host.request('room.close', { countdownSec: 3 });
  await waitFor(() => countdown.length === 1, 'the first countdown push');
  ts.clock.advance(1000);
  await waitFor(() => countdown.length === 2, 'the second countdown push');
  ts.clock.advance(1000);
  await waitFor(() => countdown.length === 3, 'the third countdown push');
  t.same(countdown.map((p) => p.secondsLeft), [3, 2, 1]);
  ts.clock.advance(1000);
  const end = await ended;
  t.match(end, { roomId, reason: 'countdown', totals: { peakViewers: 3, totalViewers: 3, likes: 4, gifts: 0, credits: 0 } });
  t.ok((end.totals.durationSec as number) >= 3);
  await t.rejects(b.request('room.enter', { roomId }), { code: 731 }, 'the room is closed');
  t.same((await b.request('room.list', { page: 1, pageSize: 10 })).rooms, [], 'gone from the directory');
  t.match(await host.request('room.open', { title: 'Again' }), { status: 'open' }, 'the host may open a new room');
});

t.test('seat limit: a full room refuses with 505', async (t) => {
  const ts = await startTestServer(t);
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'Small', seatLimit: 2 });
  await (await ts.connect(1)).request('room.enter', { roomId });
  const second = await ts.connect(2);
  await second.request('room.enter', { roomId });
  await t.rejects((await ts.connect(3)).request('room.enter', { roomId }), { code: 505 });
  await second.request('room.leave', {});
  t.match(await (await ts.connect(4)).request('room.enter', { roomId }), { viewers: 2 }, 'a freed seat can be taken');
});

t.test('only the host of a room may close, kick or mute in it; a host has one open room', async (t) => {
  const ts = await startTestServer(t);
  const host = await ts.connect(100, 'host');
  const other = await ts.connect(200, 'host');
  const viewer = await ts.connect(1);
  const { roomId } = await host.request('room.open', { title: 'Mine' });
  await viewer.request('room.enter', { roomId });
  await t.rejects(host.request('room.open', { title: 'Second' }), { code: 738 });
  await t.rejects(other.request('room.close', {}), { code: 731 }, 'no room of their own to close');
  await t.rejects(other.request('room.kick', { userId: 1 }), { code: 731 });
  await t.rejects(other.request('room.mute', { userId: 1, muted: true }), { code: 731 });
  await t.rejects(viewer.requestRaw('room.close', {}), { code: 711 }, 'viewers may not call host ops');
  await t.rejects(viewer.requestRaw('room.kick', { userId: 1 }), { code: 711 });
  const { roomId: otherRoom } = await other.request('room.open', { title: 'Theirs' });
  await t.rejects(other.request('room.kick', { userId: 1 }), { code: 39 }, 'the viewer is not in their room');
  t.not(otherRoom, roomId);
  t.match(await viewer.request('room.enter', { roomId }), { muted: false }, 'nothing changed for the viewer');
  const list = await viewer.request('room.list', { page: 1, pageSize: 10 });
  t.same(list.rooms.map((r) => [r.roomId, r.viewers]), [[roomId, 1], [otherRoom, 0]], 'directory sorted by viewers');
});

t.test('entering another room leaves the first', async (t) => {
  const ts = await startTestServer(t);
  const h1 = await ts.connect(100, 'host');
  const h2 = await ts.connect(200, 'host');
  const v = await ts.connect(1);
  const r1 = (await h1.request('room.open', { title: 'one' })).roomId;
  const r2 = (await h2.request('room.open', { title: 'two' })).roomId;
  const left = h1.next('room.user_left');
  await v.request('room.enter', { roomId: r1 });
  await v.request('room.enter', { roomId: r2 });
  ts.clock.advance(ts.config.membersFlushMs);
  t.match(await left, { roomId: r1, users: [{ userId: 1, reason: 'left' }], viewers: 0 });
  t.same(ts.server.sessions.ofUser(1)?.topics, new Set([`room/${r2}`]));
});

t.test('likes are coalesced: many likes, one push per flush', async (t) => {
  const ts = await startTestServer(t, { likesFlushMs: 250, ratePerSec: 1000, rateBurst: 1000 });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'likes' });
  const v = await ts.connect(1);
  await v.request('room.enter', { roomId });
  const pushes = collect(host, 'room.likes');
  await Promise.all(Array.from({ length: 50 }, () => v.request('room.like', {})));
  ts.clock.advance(250);
  await waitFor(() => pushes.length === 1, 'one likes push');
  t.same(pushes, [{ roomId, added: 50, total: 50 }]);
  await Promise.all(Array.from({ length: 7 }, () => v.request('room.like', { count: 2 })));
  ts.clock.advance(250);
  await waitFor(() => pushes.length === 2, 'a second likes push');
  t.same(pushes[1], { roomId, added: 14, total: 64 });
});

t.test('host disconnect: grace, then abnormal close; a host coming back in time keeps the room', async (t) => {
  const ts = await startTestServer(t, { roomHostGraceMs: 30_000, resumeGraceMs: 10_000 });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'flaky' });
  const v = await ts.connect(1);
  await v.request('room.enter', { roomId });

  await ts.drop(host);
  ts.clock.advance(20_000);
  const back = await ts.connect(100, 'host');
  t.match(await back.request('room.enter', { roomId }), { status: 'open' }, 'a new login within the grace keeps the room');
  ts.clock.advance(30_000);
  t.match(await v.request('room.enter', { roomId }), { status: 'open' }, 'still open after the grace ran out: the host came back');

  const ended = v.next('room.ended');
  await ts.drop(back);
  ts.clock.advance(29_999);
  t.match(await v.request('room.enter', { roomId }), { status: 'open' });
  ts.clock.advance(1);
  t.match(await ended, { roomId, reason: 'abnormal' });
});

t.test('resume with room_seq: the room pushes missed while away follow the welcome, in order', async (t) => {
  const ts = await startTestServer(t);
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'resume' });
  const v = await ts.connect(1);
  await v.request('room.enter', { roomId });
  const first = v.next('chat.message');
  await host.request('chat.send', { text: 'seen' });
  await first;
  const seen = v.roomSeq!;
  t.equal(seen.ch, `room/${roomId}`);
  await ts.drop(v);
  await host.request('chat.send', { text: 'missed 1' });
  await host.request('chat.send', { text: 'missed 2' });

  const { LiveClient } = await import('../../src/client/index.js');
  const back = LiveClient.create(ts.url, { token: ts.token(1), resume: { sessionId: v.sessionId, lastSeq: v.lastSeq, roomSeq: seen.seq } });
  const lines: Array<[string, number | undefined]> = [];
  back.on('chat.message', (d, seq) => lines.push([d.text, seq]));
  await back.start();
  t.teardown(() => void back.drop());
  t.match(back.welcome, { resumed: true, roomReplayed: 2, roomResync: false });
  await host.request('chat.send', { text: 'live again' });
  await waitFor(() => lines.length === 3, 'the live line after the replayed ones');
  t.same(lines, [['missed 1', seen.seq + 1], ['missed 2', seen.seq + 2], ['live again', seen.seq + 3]]);

  const again = await ts.connect(1, 'viewer', { resume: { sessionId: back.sessionId, lastSeq: back.lastSeq, roomSeq: 0 } });
  t.match(again.welcome, { resumed: true, roomReplayed: seen.seq + 3, roomResync: false }, 'from 0: the whole channel, still buffered');
});
