/**
 * Adversarial probe of instant private shows (F3) and bookings (F4): races in
 * one TCP write and across sockets, other users' ids, the protocol docs
 * against the server, disconnect/resume/restart and expiry edges.
 * Each defect it found was fixed; its assertions now guard the fix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FakeClock } from '../../src/clock.js';
import { LiveClient } from '../../src/client/index.js';
import { startServer } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { mint, startTestServer, testConfig, until, waitFor, type TestServer } from '../helpers/server.js';


const MIN = 60_000;
const rules = {
  inviteTtlMs: 30_000,
  showCountdownMs: 10_000,
  showHostEnterMs: 120_000,
  showViewerEnterMs: 60_000,
  showAwayGraceMs: 45_000,
  roomCountdownTickMs: 1000,
  bookingMinLeadMs: 120_000,
  bookingRemindMs: 60_000,
  bookingJudgeMs: 300_000,
  resumeGraceMs: 30_000,
};

type Settled = PromiseSettledResult<unknown>;
type Show = { showId: number; status: string; acceptedAt: number; hostIn: boolean; viewerIn: boolean; startsAt: number | null; bookingId: number | null };

const socketOf = (c: LiveClient) => (c as unknown as { ws: { _socket: { cork(): void; uncork(): void } } }).ws._socket;

/** One client's requests in one TCP write (as room-races.test.ts does); waits for every reply. */
function together(c: LiveClient, requests: Array<[string, unknown]>): Promise<Settled[]> {
  const socket = socketOf(c);
  socket.cork();
  const replies = requests.map(([op, d]) => c.requestRaw(op, d));
  socket.uncork();
  return Promise.allSettled(replies);
}

/** Requests of several clients written in the same turn (each socket corked, all uncorked together). */
function atOnce(requests: Array<[LiveClient, string, unknown]>): Promise<Settled[]> {
  const sockets = [...new Set(requests.map(([c]) => c))].map(socketOf);
  for (const s of sockets) s.cork();
  const replies = requests.map(([c, op, d]) => c.requestRaw(op, d));
  for (const s of sockets) s.uncork();
  return Promise.allSettled(replies);
}

const codeOf = (r: Settled | undefined) => (r?.status === 'rejected' ? (r.reason as { code?: number }).code : undefined);
const valueOf = <T>(r: Settled | undefined) => (r as PromiseFulfilledResult<T>).value;

/** Every push of these ops that reaches `c`, in order, as [op, d]. */
function record(c: LiveClient, ops: string[]): Array<[string, unknown]> {
  const seen: Array<[string, unknown]> = [];
  for (const op of ops) c.on(op as never, (d: unknown) => void seen.push([op, d]));
  return seen;
}
const SHOW_PUSHES = [
  'invite.received', 'invite.answered', 'invite.cancelled', 'invite.expired',
  'show.entered', 'show.countdown', 'show.started', 'show.closing', 'show.ended', 'show.video',
  'booking.received', 'booking.answered', 'booking.cancelled', 'booking.expired', 'booking.soon', 'booking.settled',
  'room.ended',
];

const rows = (ts: TestServer, sql: string) => ts.server.internals.db.prepare(sql).all();
const tables = (ts: TestServer) => ({
  invites: rows(ts, 'SELECT id, host_id, viewer_id, from_role, status, ended_at FROM invites ORDER BY id'),
  shows: rows(ts, 'SELECT * FROM shows ORDER BY id'),
  bookings: rows(ts, 'SELECT id, host_id, viewer_id, status, show_id FROM bookings ORDER BY id'),
});
const statusOf = async (asker: LiveClient, userId: number) =>
  ((await asker.request('presence.query', { userIds: [userId] })) as { statuses: Array<{ status: string }> }).statuses[0]!.status;
const viewersOf = async (c: LiveClient, roomId: number) =>
  ((await c.request('room.viewers', { roomId, page: 1, pageSize: 100 })) as { viewers: Array<{ userId: number }> }).viewers.map((v) => v.userId);

/** Moves the fake clock to `at` WITHOUT firing timers: a deadline timer that is late (it may be, on a real clock). */
function setTimeWithoutTimers(ts: TestServer, at: number): void {
  (ts.clock as unknown as { time: number }).time = at;
}

/** Lets the server drain what is in flight (a round trip through each client's lane). */
async function settle(...clients: LiveClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.request('session.ping', {})));
  await new Promise<void>((resolve) => setImmediate(resolve));
  await Promise.all(clients.map((c) => c.request('session.ping', {})));
}

/** A booking from viewer `v` to host `h`, accepted, and due (the clock moved to its reminder). */
async function dueBooking(ts: TestServer, v: LiveClient, h: LiveClient, hostId: number, leadMs = 3 * MIN) {
  const startsAt = ts.clock.now() + leadMs;
  const b = (await v.request('booking.create', { userId: hostId, startsAt })) as { bookingId: number };
  await h.request('booking.accept', { bookingId: b.bookingId });
  const soon = v.next('booking.soon');
  ts.clock.advance(startsAt - rules.bookingRemindMs - ts.clock.now());
  await soon;
  return { bookingId: b.bookingId, startsAt };
}

// ───────────────────────────── 1. races ─────────────────────────────

t.test('race: two hosts accept invitations from the same viewer at the same moment', async (t) => {
  const ts = await startTestServer(t, rules);
  for (const [round, [firstHost, secondHost, viewerId]] of [[100, 200, 1], [300, 400, 2], [500, 600, 3]].entries()) {
    const h1 = await ts.connect(firstHost!, 'host');
    const h2 = await ts.connect(secondHost!, 'host');
    const v = await ts.connect(viewerId!);
    const i1 = (await v.request('invite.send', { userId: firstHost! })) as { inviteId: number };
    const i2 = (await v.request('invite.send', { userId: secondHost! })) as { inviteId: number };
    const vSeen = record(v, ['invite.answered']);
    // Alternate which socket writes first.
    const order: Array<[LiveClient, string, unknown]> = [
      [h1, 'invite.accept', { inviteId: i1.inviteId }],
      [h2, 'invite.accept', { inviteId: i2.inviteId }],
    ];
    if (round % 2) order.reverse();
    const results = await atOnce(order);
    const won = results.filter((r) => r.status === 'fulfilled');
    t.equal(won.length, 1, `round ${round}: exactly one accept wins`);
    const lost = results.find((r) => r.status === 'rejected');
    t.equal(codeOf(lost), 739, `round ${round}: the loser gets 739`);
    const show = valueOf<Show>(won[0]);
    const winnerHost = (valueOf<{ host: { userId: number } }>(won[0])).host.userId;
    const loserHost = winnerHost === firstHost ? secondHost! : firstHost!;
    const loser = winnerHost === firstHost ? h2 : h1;
    await settle(h1, h2, v);
    t.same(rows(ts, `SELECT count(*) AS n FROM shows WHERE viewer_id = ${viewerId}`), [{ n: 1 }], 'one show row for the viewer');
    t.match(await v.request('show.current', {}), { show: { showId: show.showId, host: { userId: winnerHost } } });
    t.same(await loser.request('show.current', {}), { show: null }, 'the losing host is in no show');
    t.equal(await statusOf(v, loserHost), 'online', 'the losing host is not busy');
    t.equal(await statusOf(loser, viewerId!), 'busy');
    t.equal(vSeen.filter(([, d]) => (d as { accepted: boolean }).accepted).length, 1, 'the viewer hears of one acceptance');
    // The loser's invitation is withdrawn as documented ("the invitations the viewer sent to other hosts").
    const loserInvite = winnerHost === firstHost ? i2 : i1;
    t.same(rows(ts, `SELECT status FROM invites WHERE id = ${loserInvite.inviteId}`), [{ status: 'cancelled' }]);
  }
});

t.test('race: a viewer accepts host A\'s invitation while host B accepts the viewer\'s invitation', async (t) => {
  const ts = await startTestServer(t, rules);
  for (let round = 0; round < 4; round++) {
    const a = await ts.connect(100 + round, 'host');
    const b = await ts.connect(200 + round, 'host');
    const v = await ts.connect(1 + round);
    const fromA = (await a.request('invite.send', { userId: 1 + round })) as { inviteId: number };
    const toB = (await v.request('invite.send', { userId: 200 + round })) as { inviteId: number };
    const order: Array<[LiveClient, string, unknown]> = [
      [v, 'invite.accept', { inviteId: fromA.inviteId }],
      [b, 'invite.accept', { inviteId: toB.inviteId }],
    ];
    if (round % 2) order.reverse();
    const results = await atOnce(order);
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: one show`);
    t.equal(codeOf(results.find((r) => r.status === 'rejected')), 739, `round ${round}: the other is 739`);
    await settle(a, b, v);
    t.same(rows(ts, `SELECT count(*) AS n FROM shows WHERE viewer_id = ${1 + round}`), [{ n: 1 }]);
    const winner = (valueOf<{ host: { userId: number } }>(results.find((r) => r.status === 'fulfilled'))).host.userId;
    const [inA, inB] = [await a.request('show.current', {}), await b.request('show.current', {})] as Array<{ show: unknown }>;
    t.equal([inA!.show, inB!.show].filter(Boolean).length, 1, 'exactly one host is in a show');
    t.equal(winner === 100 + round ? inA!.show !== null : inB!.show !== null, true);
    if (winner === 100 + round) {
      t.same(rows(ts, `SELECT status FROM invites WHERE id = ${toB.inviteId}`), [{ status: 'cancelled' }], 'the viewer\'s invitation to B is withdrawn');
    } else {
      t.same(rows(ts, `SELECT status FROM invites WHERE id = ${fromA.inviteId}`), [{ status: 'pending' }], 'A\'s invitation stays pending (documented)');
    }
  }
});

t.test('race: accept and cancel of the same invitation at once (both directions)', async (t) => {
  const ts = await startTestServer(t, rules);
  for (let round = 0; round < 4; round++) {
    const h = await ts.connect(100 + round, 'host');
    const v = await ts.connect(1 + round);
    const hostSends = round >= 2;
    const inv = (hostSends
      ? await h.request('invite.send', { userId: 1 + round })
      : await v.request('invite.send', { userId: 100 + round })) as { inviteId: number };
    const [inviter, invitee] = hostSends ? [h, v] : [v, h];
    const inviterSeen = record(inviter, ['invite.answered']);
    const inviteeSeen = record(invitee, ['invite.cancelled']);
    const order: Array<[LiveClient, string, unknown]> = [
      [invitee, 'invite.accept', { inviteId: inv.inviteId }],
      [inviter, 'invite.cancel', { inviteId: inv.inviteId }],
    ];
    if (round % 2) order.reverse();
    const [x, y] = await atOnce(order);
    const [accept, cancel] = round % 2 ? [y, x] : [x, y];
    await settle(h, v);
    const status = (rows(ts, `SELECT status FROM invites WHERE id = ${inv.inviteId}`)[0] as { status: string }).status;
    const shows = rows(ts, `SELECT id FROM shows WHERE host_id = ${100 + round}`).length;
    if (accept!.status === 'fulfilled') {
      t.equal(codeOf(cancel), 743, `round ${round}: accepted first, the cancel is 743`);
      t.equal(status, 'accepted');
      t.equal(shows, 1);
      t.equal(inviteeSeen.length, 0, 'no invite.cancelled for an accepted invitation');
      t.equal(inviterSeen.length, 1);
    } else {
      t.equal(codeOf(accept), 743, `round ${round}: cancelled first, the accept is 743`);
      t.equal(cancel!.status, 'fulfilled');
      t.equal(status, 'cancelled');
      t.equal(shows, 0, 'no show');
      t.equal(inviterSeen.length, 0, 'no invite.answered');
      t.equal(inviteeSeen.length, 1);
    }
  }
});

t.test('one TCP write from one user: two accepts, accept + room ops, enter + room.enter', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const other = await ts.connect(200, 'host');
  const [v1, v2, v3] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(3)]);
  const publicRoom = ((await other.request('room.open', { title: 'public' })) as { roomId: number }).roomId;

  // A host accepts two viewers' invitations in one write: the second was just answered "busy".
  const a = (await v1.request('invite.send', { userId: 100 })) as { inviteId: number };
  const b = (await v2.request('invite.send', { userId: 100 })) as { inviteId: number };
  const v2Hears = v2.next('invite.answered');
  const [first, second] = await together(host, [['invite.accept', { inviteId: a.inviteId }], ['invite.accept', { inviteId: b.inviteId }]]);
  t.equal(first!.status, 'fulfilled');
  t.equal(codeOf(second), 743, 'the second invitation is gone (answered busy)');
  t.same(await v2Hears, { inviteId: b.inviteId, accepted: false, reason: 'busy' });
  const show = valueOf<Show>(first);

  // The host accepts and opens a public room in one write: no public room during a show.
  const [opened] = await together(host, [['room.open', { title: 'mine' }]]);
  t.equal(codeOf(opened), 739);

  // A viewer accepts two hosts' invitations in one write: the second is 739 and stays pending.
  const h3 = await ts.connect(300, 'host');
  const h4 = await ts.connect(400, 'host');
  const x = (await h3.request('invite.send', { userId: 3 })) as { inviteId: number };
  const y = (await h4.request('invite.send', { userId: 3 })) as { inviteId: number };
  const [ax, ay, enterRoom] = await together(v3, [
    ['invite.accept', { inviteId: x.inviteId }],
    ['invite.accept', { inviteId: y.inviteId }],
    ['room.enter', { roomId: publicRoom }],
  ]);
  t.equal(ax!.status, 'fulfilled');
  t.equal(codeOf(ay), 739, 'a viewer in a show cannot accept another');
  t.equal(codeOf(enterRoom), 739, 'nor enter a public room');
  t.same(rows(ts, `SELECT status FROM invites WHERE id = ${y.inviteId}`), [{ status: 'pending' }], 'the other host\'s invitation stays pending');

  // A viewer in a public room: show.enter then room.enter in one write.
  await v1.request('session.ping', {});
  const [entered, reenter] = await together(v1, [['show.enter', { showId: show.showId }], ['room.enter', { roomId: publicRoom }]]);
  t.equal(entered!.status, 'fulfilled');
  t.equal(codeOf(reenter), 739);
  t.same(await viewersOf(other, publicRoom), [], 'nobody of a show in the public room');

  // A host: show.close then room.open in one write: the room opens (the show ended first).
  const [closed, reopened] = await together(host, [['show.close', { showId: show.showId }], ['room.open', { title: 'after' }]]);
  t.equal(closed!.status, 'fulfilled');
  t.equal(reopened!.status, 'fulfilled', 'the show ended before the room.open was handled');
  t.equal(await statusOf(v1, 100), 'live');
});

t.test('race: booking.enter by both sides at once creates one show with both in', async (t) => {
  const ts = await startTestServer(t, { ...rules, showViewerEnterMs: 600_000 });
  for (let round = 0; round < 4; round++) {
    const h = await ts.connect(100 + round, 'host');
    const v = await ts.connect(1 + round);
    const { bookingId, startsAt } = await dueBooking(ts, v, h, 100 + round);
    const order: Array<[LiveClient, string, unknown]> = [
      [h, 'booking.enter', { bookingId }],
      [v, 'booking.enter', { bookingId }],
    ];
    if (round % 2) order.reverse();
    const results = await atOnce(order);
    t.ok(results.every((r) => r.status === 'fulfilled'), `round ${round}: both enter`);
    const [s1, s2] = results.map((r) => valueOf<Show>(r));
    t.equal(s1!.showId, s2!.showId, 'the same show');
    await settle(h, v);
    t.same(rows(ts, `SELECT count(*) AS n FROM shows WHERE booking_id = ${bookingId}`), [{ n: 1 }], 'one show row');
    t.same(rows(ts, `SELECT show_id FROM bookings WHERE id = ${bookingId}`), [{ show_id: s1!.showId }]);
    t.match(await v.request('show.current', {}), { show: { showId: s1!.showId, hostIn: true, viewerIn: true, status: 'countdown', startsAt } });
    // Settle every booking before the next round (the judgement says completed).
    const settled = v.next('booking.settled');
    ts.clock.advance(startsAt + rules.bookingJudgeMs - ts.clock.now());
    t.match(await settled, { bookingId, outcome: 'completed', deposit: 0, depositTo: null });
    await h.request('show.close', { showId: s1!.showId });
  }
});

t.test('race: a viewer with two due bookings (two hosts) enters both in one write while the second host enters too', async (t) => {
  const ts = await startTestServer(t, { ...rules, showViewerEnterMs: 600_000 });
  const [h1, h2] = await Promise.all([ts.connect(100, 'host'), ts.connect(200, 'host')]);
  const v = await ts.connect(1);
  const startsAt = ts.clock.now() + 3 * MIN;
  const ids: number[] = [];
  for (const [h, hostId] of [[h1, 100], [h2, 200]] as Array<[LiveClient, number]>) {
    const b = (await v.request('booking.create', { userId: hostId, startsAt })) as { bookingId: number };
    await h.request('booking.accept', { bookingId: b.bookingId });
    ids.push(b.bookingId);
  }
  const soon = v.next('booking.soon');
  ts.clock.advance(startsAt - rules.bookingRemindMs - ts.clock.now());
  await soon;
  const v1 = v.requestRaw('booking.enter', { bookingId: ids[0] });
  const [hostEnter, vEnter2] = await atOnce([[h2, 'booking.enter', { bookingId: ids[1] }], [v, 'booking.enter', { bookingId: ids[1] }]]);
  const first = await v1.then((x) => x as Show, (e: { code: number }) => e.code);
  t.match(first, { bookingId: ids[0] }, 'the first booking is entered');
  t.equal(codeOf(vEnter2), 739, 'the viewer cannot enter a second show');
  t.equal(codeOf(hostEnter), 739, 'nor can the second host pull the viewer into one');
  await settle(h1, h2, v);
  t.same(rows(ts, 'SELECT booking_id FROM shows ORDER BY id'), [{ booking_id: ids[0] }], 'one show, of the first booking');
  t.same(await h2.request('show.current', {}), { show: null });
});

t.test('docs: booking.cancel of a due booking nobody entered works; the other side is told', async (t) => {
  const ts = await startTestServer(t, rules);
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const { bookingId, startsAt } = await dueBooking(ts, v, h, 100);
  const told = v.next('booking.cancelled');
  t.same(await h.request('booking.cancel', { bookingId }), {});
  t.same(await told, { bookingId, reason: 'cancelled' });
  const later = record(v, ['booking.settled']);
  ts.clock.advance(startsAt + rules.bookingJudgeMs - ts.clock.now());
  await settle(h, v);
  t.same(later, [], 'no judgement for a cancelled booking');
  await t.rejects(v.request('booking.enter', { bookingId }), { code: 751 }, 'a cancelled booking cannot be entered');
});

t.test('config: LIVE_BOOKING_REMIND_MS ≥ LIVE_BOOKING_MIN_LEAD_MS is refused at start (every booking would expire at once)', async (t) => {
  t.throws(() => loadConfig({ LIVE_BOOKING_MIN_LEAD_MS: '120000', LIVE_BOOKING_REMIND_MS: '300000' }), { name: 'Error', message: /LIVE_BOOKING_REMIND_MS .* must be less than LIVE_BOOKING_MIN_LEAD_MS/ });
  t.throws(() => loadConfig({ LIVE_BOOKING_MIN_LEAD_MS: '120000', LIVE_BOOKING_REMIND_MS: '120000' }), { message: /must be less than/ });
  t.equal(loadConfig({ LIVE_BOOKING_MIN_LEAD_MS: '120000', LIVE_BOOKING_REMIND_MS: '119999' }).bookingRemindMs, 119_999);
});

t.test('race: invite.send to two hosts in one write while the first accepts at once', async (t) => {
  const ts = await startTestServer(t, rules);
  const h1 = await ts.connect(100, 'host');
  const h2 = await ts.connect(200, 'host');
  const v = await ts.connect(1);
  let accepted: Promise<unknown> | undefined;
  h1.on('invite.received', (d) => {
    accepted = h1.request('invite.accept', { inviteId: d.inviteId });
  });
  const h2Cancelled = h2.next('invite.cancelled');
  const [s1, s2] = await together(v, [['invite.send', { userId: 100 }], ['invite.send', { userId: 200 }]]);
  t.equal(s1!.status, 'fulfilled');
  await waitFor(() => accepted !== undefined, 'the accept to be sent');
  const show = (await accepted) as Show;
  const second = s2!.status === 'fulfilled' ? valueOf<{ inviteId: number }>(s2) : undefined;
  if (second) {
    t.same(await h2Cancelled, { inviteId: second.inviteId, reason: 'busy' }, 'the second invitation is withdrawn as busy');
    t.same(rows(ts, `SELECT status FROM invites WHERE id = ${second.inviteId}`), [{ status: 'cancelled' }]);
  } else {
    t.equal(codeOf(s2), 739, 'or refused because the viewer is busy');
  }
  t.same(await v.request('invite.list', { page: 1, pageSize: 10 }), { total: 0, invites: [] }, 'nothing pending for the viewer');
  t.match(await v.request('show.current', {}), { show: { showId: show.showId } });
});

t.test('race: limits and "one per pair" hold for requests in one write and across sockets', async (t) => {
  const ts = await startTestServer(t, { ...rules, maxInvitesPerViewer: 3, maxInvitesPerHost: 2 });
  const hosts = await Promise.all([100, 101, 102, 103, 104].map((id) => ts.connect(id, 'host')));
  const v = await ts.connect(1);
  const sends = await together(v, hosts.map((_, i) => ['invite.send', { userId: 100 + i }] as [string, unknown]));
  t.same(sends.map((r) => (r.status === 'fulfilled' ? 'ok' : codeOf(r))), ['ok', 'ok', 'ok', 745, 745], 'LIVE_MAX_INVITES_PER_VIEWER in one write');

  // A viewer and a host invite each other at the same moment: one invitation, the other 744.
  const h = await ts.connect(200, 'host');
  const w = await ts.connect(2);
  const crossing = await atOnce([[w, 'invite.send', { userId: 200 }], [h, 'invite.send', { userId: 2 }]]);
  t.same(crossing.map((r) => (r.status === 'fulfilled' ? 'ok' : codeOf(r))).sort(), [744, 'ok'].sort(), 'one pending invitation per pair');
  t.same(rows(ts, 'SELECT count(*) AS n FROM invites WHERE host_id = 200'), [{ n: 1 }]);

  // Three viewers invite one host (limit 2 per host) at once.
  const vs = await Promise.all([3, 4, 5].map((id) => ts.connect(id)));
  const many = await atOnce(vs.map((c) => [c, 'invite.send', { userId: 200 }] as [LiveClient, string, unknown]));
  t.same(many.map((r) => (r.status === 'fulfilled' ? 'ok' : codeOf(r))).filter((x) => x === 'ok').length, 1, 'the host had one, takes one more');
  t.same(rows(ts, "SELECT count(*) AS n FROM invites WHERE host_id = 200 AND status = 'pending'"), [{ n: 2 }]);
});

// ───────────────────────────── 2. other users' ids ─────────────────────────────

t.test('every op with another user\'s ids is refused with its code and changes nothing', async (t) => {
  const ts = await startTestServer(t, { ...rules, showViewerEnterMs: 600_000 });
  const [h1, h2, h3] = await Promise.all([ts.connect(100, 'host'), ts.connect(200, 'host'), ts.connect(300, 'host')]);
  const [v1, v3, v4, v5] = await Promise.all([ts.connect(1), ts.connect(3), ts.connect(4), ts.connect(5)]);
  const [sv, sh] = await Promise.all([ts.connect(9), ts.connect(900, 'host')]);

  // A show between h2 and v1 (h2 entered: counting down); invitations to and from h1; bookings.
  const toH2 = (await v1.request('invite.send', { userId: 200 })) as { inviteId: number };
  const show = (await h2.request('invite.accept', { inviteId: toH2.inviteId })) as Show;
  await h2.request('show.enter', { showId: show.showId });
  const p1 = ((await v3.request('invite.send', { userId: 100 })) as { inviteId: number }).inviteId;
  const p2 = ((await h1.request('invite.send', { userId: 4 })) as { inviteId: number }).inviteId;
  const T = ts.clock.now();
  const bAccepted = ((await v5.request('booking.create', { userId: 100, startsAt: T + 10 * MIN })) as { bookingId: number }).bookingId;
  await h1.request('booking.accept', { bookingId: bAccepted });
  const bPending = ((await v5.request('booking.create', { userId: 300, startsAt: T + 10 * MIN })) as { bookingId: number }).bookingId;
  await settle(h1, h2, h3, v1, v3, v4, v5);

  const before = tables(ts);
  const everyone = [h1, h2, h3, v1, v3, v4, v5, sv, sh];
  const pushes = everyone.map((c) => record(c, SHOW_PUSHES));

  const refusals: Array<[LiveClient, string, unknown, number, string]> = [
    [sv, 'invite.accept', { inviteId: p1 }, 743, 'a stranger viewer accepts a host\'s received invitation'],
    [sh, 'invite.accept', { inviteId: p1 }, 743, 'another host accepts it'],
    [v3, 'invite.accept', { inviteId: p1 }, 743, 'its sender accepts it'],
    [sv, 'invite.decline', { inviteId: p1 }, 743, 'a stranger declines it'],
    [v3, 'invite.decline', { inviteId: p1 }, 743, 'its sender declines it'],
    [h1, 'invite.cancel', { inviteId: p1 }, 743, 'the invited host cancels it'],
    [sv, 'invite.cancel', { inviteId: p1 }, 743, 'a stranger cancels it'],
    [h1, 'invite.accept', { inviteId: p2 }, 743, 'the host accepts the invitation it sent'],
    [sv, 'invite.accept', { inviteId: p2 }, 743, 'a stranger viewer accepts an invitation to another viewer'],
    [v4, 'invite.cancel', { inviteId: p2 }, 743, 'the invited viewer cancels it'],
    [sh, 'invite.cancel', { inviteId: p2 }, 743, 'another host cancels it'],
    [v1, 'invite.accept', { inviteId: toH2.inviteId }, 743, 'an accepted invitation'],
    [h2, 'invite.decline', { inviteId: toH2.inviteId }, 743, 'declining an accepted invitation'],
    [sv, 'invite.accept', { inviteId: 999_999 }, 743, 'an invitation that does not exist'],
    [sv, 'show.enter', { showId: show.showId }, 746, 'a stranger enters another\'s show'],
    [sh, 'show.enter', { showId: show.showId }, 746, 'a stranger host enters it'],
    [h1, 'show.close', { showId: show.showId }, 746, 'another host closes it'],
    [sv, 'show.close', { showId: show.showId }, 746, 'a stranger viewer closes it'],
    [sv, 'show.video', { showId: show.showId, on: true }, 746, 'a stranger pushes video into it'],
    [v3, 'show.video', { showId: show.showId, on: false }, 746, 'another viewer stops its video'],
    [h2, 'show.video', { showId: show.showId, on: true }, 711, 'its host pushes viewer video'],
    [sv, 'show.enter', { showId: 999_999 }, 746, 'a show that does not exist'],
    [sv, 'booking.cancel', { bookingId: bAccepted }, 749, 'a stranger cancels a booking'],
    [sh, 'booking.cancel', { bookingId: bAccepted }, 749, 'another host cancels it'],
    [sv, 'booking.enter', { bookingId: bAccepted }, 749, 'a stranger enters it'],
    [sh, 'booking.accept', { bookingId: bPending }, 749, 'another host accepts a pending booking'],
    [h1, 'booking.accept', { bookingId: bPending }, 749, 'a host accepts a booking made to another host'],
    [v5, 'booking.accept', { bookingId: bPending }, 749, 'its sender accepts it'],
    [v5, 'booking.decline', { bookingId: bPending }, 749, 'its sender declines it'],
    [sv, 'booking.decline', { bookingId: bPending }, 749, 'a stranger declines it'],
    [h1, 'booking.accept', { bookingId: bAccepted }, 749, 'accepting an accepted booking again'],
    [h1, 'booking.decline', { bookingId: bAccepted }, 749, 'declining an accepted booking'],
    [sv, 'booking.cancel', { bookingId: 999_999 }, 749, 'a booking that does not exist'],
  ];
  for (const [c, op, d, code, what] of refusals) {
    await t.rejects(c.requestRaw(op, d), { code }, `${what}: ${code}`);
  }
  await settle(...everyone);
  t.same(tables(ts), before, 'no table changed');
  t.same(pushes.flat(), [], 'nobody got a push');
  t.match(await v1.request('show.current', {}), { show: { showId: show.showId, status: 'countdown', hostIn: true, viewerIn: false, viewerVideo: false } });
  t.same(await h1.request('invite.count', {}), { total: 1, unread: 1 }, 'h1 still has its received invitation');
});

// ───────────────────────────── 3. docs vs behaviour ─────────────────────────────

t.test('docs: invite.accept closes the host\'s public room (room.ended "closed"); presence goes live → busy without a false "online"', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const fan = await ts.connect(50);
  const v = await ts.connect(1);
  const roomId = ((await host.request('room.open', { title: 'public' })) as { roomId: number }).roomId;
  await fan.request('room.enter', { roomId });
  const changes: string[] = [];
  fan.on('presence.changed', (d) => void (d.userId === 100 && changes.push(d.status)));
  t.match(await fan.request('presence.subscribe', { userIds: [100] }), { statuses: [{ status: 'live' }] });

  const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number };
  const ended = fan.next('room.ended');
  const show = (await host.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  t.match(await ended, { roomId, reason: 'closed' }, 'the room ended, reason closed');
  await settle(host, fan, v);
  t.equal(await statusOf(fan, 100), 'busy', 'busy once the room closed');
  t.same(await viewersOf(host, roomId).catch((e: { code: number }) => e.code), 731, 'the room is gone');
  t.notOk(changes.includes('online'), `presence never says "online" on the way from live to busy (saw ${changes.join(' → ')})`);
  t.equal(changes.at(-1), 'busy');
  await host.request('show.close', { showId: show.showId });
});

t.test('docs: show.enter again is harmless (no second push, countdown unchanged); viewerEnterBy is null when the viewer is already in', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number };
  const show = (await host.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  const vSeen = record(v, ['show.entered', 'show.countdown']);
  const hSeen = record(host, ['show.entered']);
  const first = (await host.request('show.enter', { showId: show.showId })) as Show;
  ts.clock.advance(3000);
  const again = (await host.request('show.enter', { showId: show.showId })) as Show;
  t.equal(again.startsAt, first.startsAt, 'the countdown is not restarted');
  await v.request('show.enter', { showId: show.showId });
  await v.request('show.enter', { showId: show.showId });
  await settle(host, v);
  t.equal(vSeen.length, 2, 'one show.entered and one show.countdown for the viewer');
  t.equal(hSeen.length, 1, 'one show.entered for the host');
  const started = host.next('show.started');
  ts.clock.advance(7000);
  t.same(await started, { showId: show.showId, startedAt: first.startsAt, viewerEnterBy: null });
});

t.test('docs: the host closing with a countdown "once the show has started" — a second close while closing', async (t) => {
  const ts = await startTestServer(t, { ...rules, showCountdownMs: 0 });
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number };
  const show = (await host.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  await host.request('show.enter', { showId: show.showId });
  await v.request('show.enter', { showId: show.showId });
  await host.request('show.close', { showId: show.showId, countdownSec: 30 });
  const ends = record(v, ['show.ended', 'show.closing']);
  await host.request('show.close', { showId: show.showId, countdownSec: 5 });
  await settle(host, v);
  t.notOk(ends.some(([op]) => op === 'show.ended'), 'a started show closed with a countdown does not end at once');
});

t.test('docs: "Invitations the viewer received from other hosts stay pending until they expire; accepting one answers 739"', async (t) => {
  const ts = await startTestServer(t, rules);
  const [h1, h2] = await Promise.all([ts.connect(100, 'host'), ts.connect(200, 'host')]);
  const v = await ts.connect(1);
  const a = (await h1.request('invite.send', { userId: 1 })) as { inviteId: number };
  const b = (await h2.request('invite.send', { userId: 1 })) as { inviteId: number };
  await v.request('invite.accept', { inviteId: a.inviteId });
  await t.rejects(v.request('invite.accept', { inviteId: b.inviteId }), { code: 739 });
  t.same(await v.request('invite.count', {}), { total: 1, unread: 1 }, 'still pending');
  const expired = v.next('invite.expired');
  ts.clock.advance(30_000);
  t.same(await expired, { inviteId: b.inviteId });
});

t.test('docs: invite.send to a user disconnected for less than the resume grace works; after it, 50', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  await ts.drop(host);
  t.ok(await v.request('invite.send', { userId: 100 }), 'within the resume grace');
  ts.clock.advance(rules.resumeGraceMs);
  await waitFor(() => !ts.server.sessions.ofUser(100), 'the host session to end');
  const v2 = await ts.connect(2);
  await t.rejects(v2.request('invite.send', { userId: 100 }), { code: 50 });
});

t.test('docs: booking.enter — "whoever has not entered by judgeAt missed it": a viewer entering before judgeAt is in time', async (t) => {
  // LIVE_SHOW_VIEWER_ENTER_MS (2 min) < LIVE_BOOKING_JUDGE_MS (5 min): a booked show's viewer has until the judgement.
  const ts = await startTestServer(t, { ...rules, showViewerEnterMs: 120_000 });
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const { bookingId, startsAt } = await dueBooking(ts, v, h, 100);
  const show = (await h.request('booking.enter', { bookingId })) as Show;
  const ends = record(v, ['show.ended']);
  const started = v.next('show.started');
  ts.clock.advance(startsAt - ts.clock.now());
  t.match(await started, { showId: show.showId, viewerEnterBy: null }, 'no viewer deadline of its own');
  ts.clock.advance(180_000); // start + 3 min: two minutes before judgeAt
  await settle(h, v);
  t.same(ends, [], 'the show did not end at start + LIVE_SHOW_VIEWER_ENTER_MS');
  t.match(await v.request('booking.enter', { bookingId }), { showId: show.showId, viewerIn: true, status: 'live' }, 'the viewer is let in');
  const settled = v.next('booking.settled');
  ts.clock.advance(startsAt + rules.bookingJudgeMs - ts.clock.now());
  t.same(await settled, { bookingId, outcome: 'completed', deposit: 0, depositTo: null });
});

t.test('docs: booking — the viewer enters and closes the show before the host came: settled cancelled at once, nobody judged', async (t) => {
  const ts = await startTestServer(t, rules);
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const { bookingId, startsAt } = await dueBooking(ts, v, h, 100);
  const show = (await v.request('booking.enter', { bookingId })) as Show;
  t.match(show, { status: 'accepted', viewerIn: true, hostIn: false, hostEnterBy: null });
  const settled = h.next('booking.settled');
  await v.request('show.close', { showId: show.showId });
  t.same(await settled, { bookingId, outcome: 'cancelled', deposit: 0, depositTo: null });
  await t.rejects(h.request('booking.enter', { bookingId }), { code: 751 }, 'settled: not open any more');
  const later = record(h, ['booking.settled']);
  ts.clock.advance(startsAt + rules.bookingJudgeMs - ts.clock.now());
  await settle(h, v);
  t.same(later, [], 'no second settlement at judgeAt');
  t.same(rows(ts, `SELECT status FROM bookings WHERE id = ${bookingId}`), [{ status: 'cancelled' }]);
});

// ───────────────────────────── 4. disconnect / resume / restart / rooms ─────────────────────────────

t.test('resume: the host drops during the start countdown and resumes within the grace; the show starts and goes on', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number };
  const show = (await host.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  const entered = (await host.request('show.enter', { showId: show.showId })) as Show;
  await v.request('show.enter', { showId: show.showId });
  const { sessionId } = host;
  const lastSeq = host.lastSeq;
  await ts.drop(host);
  await v.request('show.current', {});
  ts.clock.advance(10_000); // the start, while the host is away
  const back = LiveClient.create(ts.url, { token: ts.token(100, 'host'), resume: { sessionId, lastSeq } });
  const replayedStart = back.next('show.started');
  await back.start();
  t.teardown(() => void back.drop().catch(() => {}));
  t.equal(back.welcome.resumed, true);
  t.same(await replayedStart, { showId: show.showId, startedAt: entered.startsAt, viewerEnterBy: null }, 'the start is replayed');
  await back.request('show.current', {});
  ts.clock.advance(60_000); // well past the away grace
  t.match(await v.request('show.current', {}), { show: { showId: show.showId, status: 'live' } }, 'not ended as abnormal');
  t.equal(await statusOf(v, 100), 'busy');
});

t.test('disconnect: the viewer drops during the countdown and never comes back → abnormal at drop + grace', async (t) => {
  const ts = await startTestServer(t, { ...rules, resumeGraceMs: 10_000 });
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number };
  const show = (await host.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  const entered = (await host.request('show.enter', { showId: show.showId })) as Show;
  await v.request('show.enter', { showId: show.showId });
  const droppedAt = ts.clock.now();
  await ts.drop(v);
  await host.request('show.current', {});
  const ended = host.next('show.ended');
  ts.clock.advance(rules.showAwayGraceMs - 1);
  await host.request('show.current', {});
  t.match(await host.request('show.current', {}), { show: { status: 'live' } }, 'still on a hair before the grace');
  ts.clock.advance(1);
  t.same(await ended, { showId: show.showId, reason: 'abnormal', startedAt: entered.startsAt, endedAt: droppedAt + rules.showAwayGraceMs, durationSec: 35, pricePerMinute: 0, minutesBilled: 0, spent: 0, earned: 0 });
  t.equal(await statusOf(host, 100), 'online');
});

t.test('rooms: a viewer watching a public room leaves it on show.enter; a host watching one stays in it', async (t) => {
  const ts = await startTestServer(t, rules);
  const other = await ts.connect(200, 'host');
  const roomId = ((await other.request('room.open', { title: 'public' })) as { roomId: number }).roomId;
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  await v.request('room.enter', { roomId });
  await host.request('room.enter', { roomId });
  t.same((await viewersOf(other, roomId)).sort(), [1, 100]);
  const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number };
  const show = (await host.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  t.same((await viewersOf(other, roomId)).sort(), [1, 100], 'accepting leaves nobody (documented: entering does)');
  await v.request('show.enter', { showId: show.showId });
  await host.request('show.enter', { showId: show.showId });
  ts.clock.advance(ts.config.membersFlushMs);
  t.same(await viewersOf(other, roomId), [], 'nobody who entered a private show is still in a public room');
  t.notOk(ts.server.sessions.ofUser(1)?.topics.has(`room/${roomId}`), 'the viewer is off the room topic');
});

t.test('rooms: a refused booking.enter must not take the viewer out of the public room', async (t) => {
  const ts = await startTestServer(t, rules);
  const other = await ts.connect(200, 'host');
  const roomId = ((await other.request('room.open', { title: 'public' })) as { roomId: number }).roomId;
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const T = ts.clock.now();
  const b = (await v.request('booking.create', { userId: 100, startsAt: T + 10 * MIN })) as { bookingId: number };
  await h.request('booking.accept', { bookingId: b.bookingId });
  await v.request('room.enter', { roomId });
  await t.rejects(v.request('booking.enter', { bookingId: b.bookingId }), { code: 751 }, 'not open yet');
  ts.clock.advance(ts.config.membersFlushMs);
  t.same(await viewersOf(other, roomId), [1], 'still in the public room after the refusal');
  t.match(await v.request('chat.send', { text: 'still here?' }).catch((e: { code: number }) => e.code), { msgId: Number });
});

t.test('presence: a viewer opens a booked show while the host is live in a public room: the room closes, busy; after the show, online', async (t) => {
  const ts = await startTestServer(t, rules);
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const fan = await ts.connect(50);
  const { bookingId } = await dueBooking(ts, v, h, 100);
  const roomId = ((await h.request('room.open', { title: 'still live' })) as { roomId: number }).roomId;
  await fan.request('room.enter', { roomId });
  t.equal(await statusOf(fan, 100), 'live');
  const roomEnded = fan.next('room.ended');
  const show = (await v.request('booking.enter', { bookingId })) as Show;
  t.match(show, { hostIn: false, viewerIn: true });
  t.match(await roomEnded, { roomId, reason: 'closed' }, 'the booked show opening closes the host\'s public room');
  await settle(h, v, fan);
  t.equal(await statusOf(fan, 100), 'busy');
  await v.request('show.close', { showId: show.showId });
  await settle(h, v, fan);
  t.equal(await statusOf(fan, 100), 'online', 'no room, no show');
});

t.test('rooms: the host\'s public room closes when a viewer accepts the host\'s invitation, and when the host enters a booking', async (t) => {
  const ts = await startTestServer(t, rules);
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const fan = await ts.connect(50);
  const roomId = ((await h.request('room.open', { title: 'one' })) as { roomId: number }).roomId;
  await fan.request('room.enter', { roomId });
  const inv = (await h.request('invite.send', { userId: 1 })) as { inviteId: number };
  const ended = fan.next('room.ended');
  const show = (await v.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  t.match(await ended, { roomId, reason: 'closed' });
  await settle(h, v, fan);
  t.equal(await statusOf(fan, 100), 'busy');
  await h.request('show.close', { showId: show.showId });

  const { bookingId } = await dueBooking(ts, v, h, 100);
  const room2 = ((await h.request('room.open', { title: 'two' })) as { roomId: number }).roomId;
  await fan.request('room.enter', { roomId: room2 });
  const ended2 = fan.next('room.ended');
  await h.request('booking.enter', { bookingId });
  t.match(await ended2, { roomId: room2, reason: 'closed' });
  await settle(h, v, fan);
  t.equal(await statusOf(fan, 100), 'busy');
  t.same(rows(ts, 'SELECT count(*) AS n FROM rooms WHERE host_id = 100 AND closed_at IS NULL'), [{ n: 0 }]);
});

t.test('busy: a booked show opening answers the host\'s and the viewer\'s pending invitations "busy", as an accept does', async (t) => {
  const ts = await startTestServer(t, rules);
  const [h, h2] = await Promise.all([ts.connect(100, 'host'), ts.connect(200, 'host')]);
  const [v, v2, v3] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(3)]);
  const { bookingId } = await dueBooking(ts, v, h, 100);
  const received = (await v2.request('invite.send', { userId: 100 })) as { inviteId: number };
  const sent = (await h.request('invite.send', { userId: 3 })) as { inviteId: number };
  const viewers = (await v.request('invite.send', { userId: 200 })) as { inviteId: number };
  const heard = [record(v2, ['invite.answered']), record(v3, ['invite.cancelled']), record(h2, ['invite.cancelled'])];
  await h.request('booking.enter', { bookingId });
  await v.request('booking.enter', { bookingId });
  await settle(h, h2, v, v2, v3);
  t.same(heard.map((x) => x.map(([, d]) => d)), [
    [{ inviteId: received.inviteId, accepted: false, reason: 'busy' }],
    [{ inviteId: sent.inviteId, reason: 'busy' }],
    [{ inviteId: viewers.inviteId, reason: 'busy' }],
  ], 'each side was told "busy"');
  await t.rejects(v3.request('invite.accept', { inviteId: sent.inviteId }), { code: 743 }, 'withdrawn');
  await t.rejects(h2.request('invite.accept', { inviteId: viewers.inviteId }), { code: 743 }, 'withdrawn');
  t.same(rows(ts, `SELECT status FROM invites WHERE id IN (${received.inviteId}, ${sent.inviteId}, ${viewers.inviteId}) ORDER BY id`).map((r) => (r as { status: string }).status),
    ['declined', 'cancelled', 'cancelled'], 'no invitation stays pending with a busy party');
});

t.test('docs: booking.enter after the judgement answers 751 (from one minute before its start until its judgement)', async (t) => {
  const ts = await startTestServer(t, rules);
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const { bookingId, startsAt } = await dueBooking(ts, v, h, 100);
  const settled = v.next('booking.settled');
  ts.clock.advance(startsAt + rules.bookingJudgeMs - ts.clock.now());
  t.match(await settled, { bookingId, outcome: 'missed_by_both', deposit: 0, depositTo: null });
  const code = await v.request('booking.enter', { bookingId }).catch((e: { code: number }) => e.code);
  t.equal(code, 751, 'the booking is the viewer\'s: not 749 "no such booking of yours"');
});

t.test('restart (in process): a show counting down survives a graceful restart; both back within the grace → it starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-probe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = testConfig(dir, { ...rules, logLevel: 'warn' });
  const logger = createLogger('warn');
  const T0 = 1_800_000_000_000;
  const clock1 = new FakeClock(T0);
  const first = await startServer(config, { logger, clock: clock1 });
  const url1 = `ws://127.0.0.1:${first.port}/ws`;
  const tok = (id: number, role: 'host' | 'viewer' = 'viewer') => mint(id, role, { issuedAt: T0 / 1000 });
  const h = await LiveClient.connect(url1, { token: tok(100, 'host') });
  const v = await LiveClient.connect(url1, { token: tok(1) });
  const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number };
  const show = (await h.request('invite.accept', { inviteId: inv.inviteId })) as Show;
  const entered = (await h.request('show.enter', { showId: show.showId })) as Show;
  await first.close();
  await Promise.all([h.whenClosed(), v.whenClosed()]);

  const clock2 = new FakeClock(T0 + 5_000);
  const second = await startServer({ ...config, port: 0 }, { logger, clock: clock2 });
  t.teardown(() => second.close());
  const url2 = `ws://127.0.0.1:${second.port}/ws`;
  const h2 = await LiveClient.connect(url2, { token: tok(100, 'host') });
  const v2 = await LiveClient.connect(url2, { token: tok(1) });
  t.teardown(() => void Promise.all([h2.drop(), v2.drop()]).catch(() => {}));
  t.match(await v2.request('show.current', {}), { show: { showId: show.showId, status: 'countdown', startsAt: entered.startsAt } });
  t.equal(await statusOf(v2, 100), 'busy');
  const started = v2.next('show.started');
  await until(
    async () => {
      clock2.advance(0);
      return v2.request('show.current', {});
    },
    (r) => r.show !== null,
    'the desk to settle',
  );
  clock2.advance(entered.startsAt! - clock2.now());
  t.match(await started, { showId: show.showId, startedAt: entered.startsAt });
  await v2.request('show.enter', { showId: show.showId });
  clock2.advance(rules.showAwayGraceMs + 1000);
  t.match(await h2.request('show.current', {}), { show: { status: 'live', hostIn: true, viewerIn: true } }, 'both came back: no abnormal end');
});

// ───────────────────────────── 5. expiry edges ─────────────────────────────

t.test('expiry: accept a hair before the expiry works; at the expiry (timer late) it is 743 and the expiry follows', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const [v1, v2] = await Promise.all([ts.connect(1), ts.connect(2)]);
  const early = (await v1.request('invite.send', { userId: 100 })) as { inviteId: number; expiresAt: number };
  ts.clock.advance(early.expiresAt - 1 - ts.clock.now());
  const show = (await host.request('invite.accept', { inviteId: early.inviteId })) as Show;
  t.equal(show.acceptedAt, early.expiresAt - 1);
  await host.request('show.close', { showId: show.showId });

  const late = (await v2.request('invite.send', { userId: 100 })) as { inviteId: number; expiresAt: number };
  setTimeWithoutTimers(ts, late.expiresAt);
  await t.rejects(host.request('invite.accept', { inviteId: late.inviteId }), { code: 743 }, 'the time decides, not the timer');
  await t.rejects(host.request('invite.decline', { inviteId: late.inviteId }), { code: 743 });
  await t.rejects(v2.request('invite.cancel', { inviteId: late.inviteId }), { code: 743 });
  const expired = [v2.next('invite.expired'), host.next('invite.expired')];
  ts.clock.advance(0);
  t.same(await Promise.all(expired), [{ inviteId: late.inviteId }, { inviteId: late.inviteId }]);
  t.same(rows(ts, `SELECT status FROM invites WHERE id = ${late.inviteId}`), [{ status: 'expired' }]);
  t.same(rows(ts, 'SELECT count(*) AS n FROM shows'), [{ n: 1 }]);
});

t.test('expiry: the expiry fires while an accept is in flight — accepted xor expired, never both', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  for (let round = 0; round < 6; round++) {
    const v = await ts.connect(1 + round);
    const inv = (await v.request('invite.send', { userId: 100 })) as { inviteId: number; expiresAt: number };
    ts.clock.advance(inv.expiresAt - 1 - ts.clock.now());
    const vSeen = record(v, ['invite.expired', 'invite.answered']);
    const hSeen = record(host, ['invite.expired']);
    const seen = () => [...vSeen, ...hSeen.filter(([, d]) => (d as { inviteId: number }).inviteId === inv.inviteId)];
    const reply = host.request('invite.accept', { inviteId: inv.inviteId }).catch((e: { code: number }) => e);
    // Let the request get a little way into the server before the expiry fires (0 to 5 turns).
    for (let i = 0; i < round; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    ts.clock.advance(1);
    const r = await reply;
    await settle(host, v);
    const status = (rows(ts, `SELECT status FROM invites WHERE id = ${inv.inviteId}`)[0] as { status: string }).status;
    if ((r as { code?: number }).code === 743) {
      t.equal(status, 'expired', `round ${round}: refused → expired`);
      t.equal(seen().filter(([op]) => op === 'invite.expired').length, 2, 'both told it expired');
      t.equal(seen().filter(([op]) => op === 'invite.answered').length, 0, 'nobody told it was accepted');
    } else {
      t.equal(status, 'accepted', `round ${round}: accepted → not expired`);
      t.equal(seen().filter(([op]) => op === 'invite.expired').length, 0, 'nobody told it expired');
      t.equal(seen().filter(([op]) => op === 'invite.answered').length, 1, 'the viewer told it was accepted');
      await host.request('show.close', { showId: (r as Show).showId });
    }
  }
});

t.test('expiry: a booking accepted at its expiry time (the timer a hair late) — the time should decide, as for invitations', async (t) => {
  const ts = await startTestServer(t, rules);
  const h = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const startsAt = ts.clock.now() + 10 * MIN;
  const b = (await v.request('booking.create', { userId: 100, startsAt })) as { bookingId: number };
  setTimeWithoutTimers(ts, startsAt - rules.bookingRemindMs);
  const accepted = await h.request('booking.accept', { bookingId: b.bookingId }).catch((e: { code: number }) => e.code);
  t.equal(accepted, 749, 'not answered by one minute before the start: it expired');
  const expired = v.next('booking.expired').catch(() => undefined);
  ts.clock.advance(0);
  t.same(await expired, { bookingId: b.bookingId }, 'both get booking.expired');
});

// ───────────────────────────── cross-socket race: room.open vs a viewer accepting ─────────────────────────────

t.test('race: the host opens a public room while a viewer accepts the host\'s invitation', async (t) => {
  const ts = await startTestServer(t, rules);
  const outcomes: Record<string, string[]> = { 'accept written first': [], 'room.open written first': [] };
  for (let round = 0; round < 6; round++) {
    const h = await ts.connect(100 + round, 'host');
    const v = await ts.connect(1 + round);
    const inv = (await h.request('invite.send', { userId: 1 + round })) as { inviteId: number };
    const order: Array<[LiveClient, string, unknown]> = [
      [v, 'invite.accept', { inviteId: inv.inviteId }],
      [h, 'room.open', { title: `r${round}` }],
    ];
    if (round % 2) order.reverse();
    const results = await atOnce(order);
    await settle(h, v);
    const inShow = ((await h.request('show.current', {})) as { show: unknown }).show !== null;
    const live = rows(ts, `SELECT id FROM rooms WHERE host_id = ${100 + round} AND closed_at IS NULL`).length > 0;
    const presence = await statusOf(v, 100 + round);
    t.equal(results[round % 2 ? 1 : 0]!.status, 'fulfilled', `round ${round}: the accept is answered ok`);
    const open = results[round % 2 ? 0 : 1]!;
    t.ok(open.status === 'fulfilled' || codeOf(open) === 739, `round ${round}: room.open is ok or 739 (the show won), got ${codeOf(open) ?? 'ok'}`);
    outcomes[round % 2 ? 'room.open written first' : 'accept written first']!.push(
      `${inShow ? 'in show' : 'no show'} + ${live ? 'room OPEN' : 'room closed'} (presence ${presence})`,
    );
  }
  t.comment(JSON.stringify(outcomes));
  const all = Object.values(outcomes).flat();
  t.ok(all.every((o) => o.startsWith('in show')), 'the accept always wins (the host had no room when it was read)');
  t.ok(all.every((o) => !o.includes('room OPEN')), 'the host is never in a private show with an open public room');
  t.ok(all.every((o) => o.includes('presence busy')), 'presence says busy while the show exists');
});

t.test('race: a viewer accepts host H\'s invitation while H accepts another viewer\'s: one show, the loser 743 with a "busy" push', async (t) => {
  const ts = await startTestServer(t, rules);
  for (let round = 0; round < 4; round++) {
    const h = await ts.connect(100 + round, 'host');
    const v1 = await ts.connect(10 + round);
    const v2 = await ts.connect(20 + round);
    const fromH = (await h.request('invite.send', { userId: 10 + round })) as { inviteId: number };
    const toH = (await v2.request('invite.send', { userId: 100 + round })) as { inviteId: number };
    const v1Busy = record(v1, ['invite.cancelled']);
    const v2Busy = record(v2, ['invite.answered']);
    const order: Array<[LiveClient, string, unknown]> = [
      [v1, 'invite.accept', { inviteId: fromH.inviteId }],
      [h, 'invite.accept', { inviteId: toH.inviteId }],
    ];
    if (round % 2) order.reverse();
    const [a, b] = await atOnce(order);
    const [v1Accept, hAccept] = round % 2 ? [b, a] : [a, b];
    await settle(h, v1, v2);
    t.equal([v1Accept, hAccept].filter((r) => r!.status === 'fulfilled').length, 1, `round ${round}: one show`);
    if (v1Accept!.status === 'fulfilled') {
      t.equal(codeOf(hAccept), 743);
      t.match(v2Busy, [['invite.answered', { inviteId: toH.inviteId, accepted: false, reason: 'busy' }]]);
    } else {
      t.equal(codeOf(v1Accept), 743);
      t.match(v1Busy, [['invite.cancelled', { inviteId: fromH.inviteId, reason: 'busy' }]]);
    }
    t.same(rows(ts, `SELECT count(*) AS n FROM shows WHERE host_id = ${100 + round}`), [{ n: 1 }]);
  }
});
