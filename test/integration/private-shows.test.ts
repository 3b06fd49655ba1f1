import t from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { startTestServer, waitFor } from '../helpers/server.js';

function collect<T = Record<string, unknown>>(c: LiveClient, op: string): T[] {
  const seen: T[] = [];
  c.on(op as never, (d: unknown) => void seen.push(d as T));
  return seen;
}

const rules = { inviteTtlMs: 30_000, showCountdownMs: 10_000, showHostEnterMs: 120_000, showViewerEnterMs: 60_000, showAwayGraceMs: 45_000, roomCountdownTickMs: 1000 };

t.test('instant show: invite → accept → host enters → countdown → start → viewer enters → host countdown close', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);

  const received = host.next('invite.received');
  const invite = await viewer.request('invite.send', { userId: 100 });
  t.match(invite, { from: { userId: 1, profile: { nickname: 'user1' } }, to: { userId: 100 }, direction: 'sent' });
  t.equal(invite.expiresAt - invite.createdAt, 30_000, 'expires after LIVE_INVITE_TTL_MS');
  t.match(await received, { inviteId: invite.inviteId, direction: 'received', from: { userId: 1 } });
  t.same(await host.request('invite.count', {}), { total: 1, unread: 1 });
  const listed = await host.request('invite.list', { page: 1, pageSize: 10 });
  t.match(listed, { total: 1, invites: [{ inviteId: invite.inviteId, direction: 'received' }] });
  t.same(await host.request('invite.count', {}), { total: 1, unread: 0 }, 'listing marks them read');
  t.match(await viewer.request('invite.list', { page: 1, pageSize: 10 }), { total: 1, invites: [{ direction: 'sent' }] });

  const answered = viewer.next('invite.answered');
  const show = await host.request('invite.accept', { inviteId: invite.inviteId });
  t.match(show, { host: { userId: 100 }, viewer: { userId: 1 }, status: 'accepted', hostIn: false, viewerIn: false, startsAt: null });
  t.equal(show.hostEnterBy, show.acceptedAt + 120_000);
  t.match(await answered, { inviteId: invite.inviteId, accepted: true, show: { showId: show.showId } });
  t.same(await host.request('invite.count', {}), { total: 0, unread: 0 }, 'nothing pending after the accept');
  t.match(await viewer.request('presence.query', { userIds: [100, 1] }), { statuses: [{ userId: 100, status: 'busy' }, { userId: 1, status: 'busy' }] });
  t.match(await viewer.request('show.current', {}), { show: { showId: show.showId, status: 'accepted' } });

  const countdown = viewer.next('show.countdown');
  const entered = await host.request('show.enter', { showId: show.showId });
  t.match(entered, { status: 'countdown', hostIn: true, hostEnterBy: null });
  const c = await countdown;
  t.same(c, { showId: show.showId, startsAt: entered.startsAt, secondsLeft: 10 });

  const started = [viewer.next('show.started'), host.next('show.started')];
  ts.clock.advance(10_000);
  const [vs] = await Promise.all(started);
  t.same(vs, { showId: show.showId, startedAt: entered.startsAt, viewerEnterBy: entered.startsAt! + 60_000 });

  const hostSeesViewer = host.next('show.entered');
  t.match(await viewer.request('show.enter', { showId: show.showId }), { status: 'live', viewerIn: true, viewerEnterBy: null, startedAt: entered.startsAt });
  t.same(await hostSeesViewer, { showId: show.showId, userId: 1 });

  const hostVideo = host.next('show.video');
  const on = await viewer.request('show.video', { showId: show.showId, on: true });
  const stream = `show${show.showId}-u1`;
  t.match(on, { viewerVideo: true, pushUrl: `rtmp://media.example.com/live/${stream}`, videoUrl: `https://media.example.com/live/${stream}.flv` });
  t.same(await hostVideo, { showId: show.showId, on: true, videoUrl: `https://media.example.com/live/${stream}.flv` });
  t.match(await host.request('show.current', {}), { show: { viewerVideo: true, pushUrl: null } }, 'the push URL is the viewer\'s alone');
  t.match(await viewer.request('show.enter', { showId: show.showId }), { pushUrl: `rtmp://media.example.com/live/${stream}` }, 'the enter reply carries it while pushing');
  const hostVideoOff = host.next('show.video');
  t.match(await viewer.request('show.video', { showId: show.showId, on: false }), { viewerVideo: false, pushUrl: null, videoUrl: null });
  t.same(await hostVideoOff, { showId: show.showId, on: false, videoUrl: null });
  await t.rejects(host.request('show.video', { showId: show.showId, on: true }), { code: 711 }, 'the host does not push viewer video');

  ts.clock.advance(95_000);
  const closing = collect(viewer, 'show.closing');
  const ended = [viewer.next('show.ended'), host.next('show.ended')];
  await host.request('show.close', { showId: show.showId, countdownSec: 3 });
  await waitFor(() => closing.length === 1, 'the first closing push');
  t.match(closing[0], { showId: show.showId, secondsLeft: 3 });
  ts.clock.advance(1000);
  await waitFor(() => closing.length === 2, 'a closing tick');
  ts.clock.advance(2000);
  const [ve, he] = await Promise.all(ended);
  t.same(ve, he, 'both sides get the same end');
  t.match(ve, { showId: show.showId, reason: 'countdown', startedAt: entered.startsAt, durationSec: 98 });
  t.match(await viewer.request('show.current', {}), { show: null });
  await t.rejects(viewer.request('show.enter', { showId: show.showId }), { code: 735 }, 'an ended show cannot be entered');
  t.match(await viewer.request('presence.query', { userIds: [100] }), { statuses: [{ status: 'online' }] }, 'the host is not busy any more');
});

t.test('expiry, decline, cancel, and ids of other users', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const [a, b, stranger] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(3)]);

  const inv = await a.request('invite.send', { userId: 100 });
  const expiredA = a.next('invite.expired');
  const expiredH = host.next('invite.expired');
  ts.clock.advance(30_000);
  t.same(await expiredA, { inviteId: inv.inviteId });
  t.same(await expiredH, { inviteId: inv.inviteId });
  await t.rejects(host.request('invite.accept', { inviteId: inv.inviteId }), { code: 743 }, 'an expired invitation cannot be accepted');

  const inv2 = await b.request('invite.send', { userId: 100 });
  await t.rejects(stranger.request('invite.cancel', { inviteId: inv2.inviteId }), { code: 743 }, 'another user cannot cancel it');
  await t.rejects(stranger.request('invite.accept', { inviteId: inv2.inviteId }), { code: 743 }, 'nor accept it');
  await t.rejects(b.request('invite.accept', { inviteId: inv2.inviteId }), { code: 743 }, 'the sender cannot accept their own');
  await t.rejects(host.request('invite.cancel', { inviteId: inv2.inviteId }), { code: 743 }, 'the invited side cannot cancel it');
  t.same(await host.request('invite.count', {}), { total: 1, unread: 1 }, 'still pending after the refusals');

  const declined = b.next('invite.answered');
  t.same(await host.request('invite.decline', { inviteId: inv2.inviteId }), {});
  t.same(await declined, { inviteId: inv2.inviteId, accepted: false, reason: 'declined' });

  const inv3 = await b.request('invite.send', { userId: 100 });
  const cancelled = host.next('invite.cancelled');
  t.same(await b.request('invite.cancel', { inviteId: inv3.inviteId }), {});
  t.same(await cancelled, { inviteId: inv3.inviteId, reason: 'cancelled' });
  t.same(await host.request('invite.count', {}), { total: 0, unread: 0 });
  const rows = ts.server.internals.db.prepare('SELECT id, status FROM invites ORDER BY id').all();
  t.same(rows, [
    { id: inv.inviteId, status: 'expired' },
    { id: inv2.inviteId, status: 'declined' },
    { id: inv3.inviteId, status: 'cancelled' },
  ]);
});

t.test('rules: offline, roles, duplicates, limits, busy host, others answered busy, public room closed', async (t) => {
  const ts = await startTestServer(t, { ...rules, maxInvitesPerViewer: 2 });
  const host = await ts.connect(100, 'host');
  const host2 = await ts.connect(101, 'host');
  await ts.connect(102, 'host'); // online, so only the viewer's limit refuses the third invitation
  const [a, b, c] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(3)]);

  await t.rejects(a.request('invite.send', { userId: 999 }), { code: 50 }, 'offline');
  await t.rejects(a.request('invite.send', { userId: 2 }), { code: 700 }, 'a viewer invites hosts only');
  await t.rejects(a.request('invite.send', { userId: 1 }), { code: 700 }, 'not yourself');
  const first = await a.request('invite.send', { userId: 100 });
  await t.rejects(a.request('invite.send', { userId: 100 }), { code: 744 }, 'one pending per pair');
  await t.rejects(host.request('invite.send', { userId: 1 }), { code: 744 }, 'in either direction');
  const toHost2 = await a.request('invite.send', { userId: 101 });
  await t.rejects(a.request('invite.send', { userId: 102 }), { code: 745 }, 'LIVE_MAX_INVITES_PER_VIEWER');

  const fromB = await b.request('invite.send', { userId: 100 });
  const hostToC = await host.request('invite.send', { userId: 3 });
  t.match(hostToC, { from: { userId: 100 }, to: { userId: 3 }, direction: 'sent' });
  const room = await host.request('room.open', { title: 'public' });
  const inRoom = await c.request('room.enter', { roomId: room.roomId });
  t.equal(inRoom.roomId, room.roomId);

  const bHears = b.next('invite.answered');
  const cHears = c.next('invite.cancelled');
  const roomEnded = c.next('room.ended');
  const host2Hears = host2.next('invite.cancelled');
  const show = await host.request('invite.accept', { inviteId: first.inviteId });
  t.same(await bHears, { inviteId: fromB.inviteId, accepted: false, reason: 'busy' }, 'the other viewer\'s invitation is declined as busy');
  t.same(await cHears, { inviteId: hostToC.inviteId, reason: 'busy' }, 'the host\'s own invitation is withdrawn');
  t.match(await roomEnded, { roomId: room.roomId }, 'the host\'s public room closed');
  t.same(await host2Hears, { inviteId: toHost2.inviteId, reason: 'busy' }, 'the viewer\'s invitation to another host is withdrawn');

  await t.rejects(b.request('invite.send', { userId: 100 }), { code: 739 }, 'a host in a private show is busy');
  await t.rejects(host2.request('invite.send', { userId: 1 }), { code: 739 }, 'so is the viewer');
  await t.rejects(host.request('room.open', { title: 'again' }), { code: 739 }, 'no public room during a show');
  await t.rejects(a.request('room.enter', { roomId: room.roomId }), { code: 739 });
  t.match(await b.request('presence.query', { userIds: [100] }), { statuses: [{ status: 'busy' }] }, 'busy, not offline, after the room closed');
  await t.rejects(b.request('show.enter', { showId: show.showId }), { code: 746 }, 'another user\'s show');
  await t.rejects(b.request('show.close', { showId: show.showId }), { code: 746 });
  await t.rejects(a.request('show.close', { showId: show.showId, countdownSec: 5 }), { code: 700 }, 'only the host counts down');
  t.match(await a.request('show.current', {}), { show: { showId: show.showId, status: 'accepted' } }, 'unchanged by the refusals');

  const ended = host.next('show.ended');
  t.same(await a.request('show.close', { showId: show.showId }), {});
  t.match(await ended, { showId: show.showId, reason: 'viewer_closed', startedAt: null, durationSec: 0 });
  t.ok(await b.request('invite.send', { userId: 100 }), 'the host takes invitations again');
});

t.test('host invites a viewer; the viewer accepts; nobody enters → host_no_show', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const got = viewer.next('invite.received');
  const inv = await host.request('invite.send', { userId: 1 });
  t.match(await got, { inviteId: inv.inviteId, from: { userId: 100 }, direction: 'received' });
  t.same(await viewer.request('invite.count', {}), { total: 1, unread: 1 });
  const hostHears = host.next('invite.answered');
  const show = await viewer.request('invite.accept', { inviteId: inv.inviteId });
  t.match(await hostHears, { accepted: true, show: { showId: show.showId } });
  const ended = viewer.next('show.ended');
  ts.clock.advance(120_000);
  t.match(await ended, { showId: show.showId, reason: 'host_no_show' });
});

t.test('the viewer never enters after the start → viewer_no_show; a side away past the grace → abnormal', async (t) => {
  const ts = await startTestServer(t, { ...rules, showCountdownMs: 0 });
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const inv = await viewer.request('invite.send', { userId: 100 });
  const show = await host.request('invite.accept', { inviteId: inv.inviteId });
  const started = viewer.next('show.started');
  t.match(await host.request('show.enter', { showId: show.showId }), { status: 'live' }, 'a zero countdown starts at once');
  t.match(await started, { viewerEnterBy: show.acceptedAt + 60_000 });
  const ended = host.next('show.ended');
  ts.clock.advance(60_000);
  t.match(await ended, { reason: 'viewer_no_show', durationSec: 60 });

  const inv2 = await viewer.request('invite.send', { userId: 100 });
  const show2 = await host.request('invite.accept', { inviteId: inv2.inviteId });
  await host.request('show.enter', { showId: show2.showId });
  await viewer.request('show.enter', { showId: show2.showId });
  await ts.drop(viewer);
  // The desk hears of the drop before the host's next request (one mailbox): its timer is armed by then.
  await host.request('show.current', {});
  const ended2 = host.next('show.ended');
  ts.clock.advance(44_000);
  const back = await ts.connect(1);
  ts.clock.advance(2_000);
  t.match(await back.request('show.current', {}), { show: { showId: show2.showId, status: 'live' } }, 'back within the grace: still on');
  await ts.drop(back);
  await host.request('show.current', {});
  ts.clock.advance(45_000);
  t.match(await ended2, { showId: show2.showId, reason: 'abnormal', durationSec: 91 });
});
