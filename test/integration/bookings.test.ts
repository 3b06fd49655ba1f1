import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const rules = { bookingMinLeadMs: 120_000, bookingRemindMs: 60_000, bookingJudgeMs: 300_000, showCountdownMs: 10_000, showAwayGraceMs: 3_600_000, showViewerEnterMs: 600_000 };
const MIN = 60_000;

/** Steps the fake clock to `at`, where something is due; resolves with the push `op` that it causes on `c`. */
async function stepTo<T>(ts: TestServer, at: number, c: LiveClient, op: string): Promise<T> {
  const next = c.next(op as never) as Promise<T>;
  ts.clock.advance(at - ts.clock.now());
  return next;
}

t.test('viewer books an offline host → count at login → accept → reminder → both enter → start → judged completed', async (t) => {
  const ts = await startTestServer(t, rules);
  const host0 = await ts.connect(100, 'host');
  await host0.close();
  const viewer = await ts.connect(1);
  const T = ts.clock.now();

  await t.rejects(viewer.request('booking.create', { userId: 555, startsAt: T + 10 * MIN }), { code: 710 }, 'a user never seen');
  await t.rejects(viewer.request('booking.create', { userId: 100, startsAt: T + MIN }), { code: 747 }, 'too soon');
  await t.rejects(viewer.request('booking.create', { userId: 100, startsAt: T - MIN }), { code: 747 }, 'in the past');
  await t.rejects(viewer.request('booking.create', { userId: 100, startsAt: T + 40 * 24 * 60 * MIN }), { code: 747 }, 'too far ahead');
  const b = await viewer.request('booking.create', { userId: 100, startsAt: T + 10 * MIN });
  t.match(b, { from: { userId: 1 }, to: { userId: 100, profile: { nickname: 'user100' } }, status: 'pending', durationMin: 30, direction: 'sent', showId: null });
  t.equal(b.judgeAt, T + 15 * MIN);

  // Listening before the socket opens: the count follows the welcome at once.
  const host = LiveClient.create(ts.url, { token: ts.token(100, 'host') });
  const counting = host.next('booking.count');
  await host.start();
  t.teardown(() => void host.drop().catch(() => {}));
  const counted = await counting;
  t.same(counted, { total: 1, unread: 1 }, 'the offline host hears of it after the welcome');
  t.match(await host.request('booking.list', { state: 'pending', page: 1, pageSize: 10 }), { total: 1, bookings: [{ bookingId: b.bookingId, direction: 'received' }] });
  t.same(await host.request('booking.count', {}), { total: 1, unread: 0 }, 'listed, so read');
  await t.rejects(host.request('booking.enter', { bookingId: b.bookingId }), { code: 751 }, 'not open before the reminder');

  const answered = viewer.next('booking.answered');
  t.match(await host.request('booking.accept', { bookingId: b.bookingId }), { bookingId: b.bookingId, status: 'accepted' });
  t.same(await answered, { bookingId: b.bookingId, accepted: true });
  t.match(await viewer.request('booking.list', { state: 'upcoming', page: 1, pageSize: 10 }), { total: 1, bookings: [{ bookingId: b.bookingId, status: 'accepted' }] });

  const other = await ts.connect(2);
  await t.rejects(other.request('booking.create', { userId: 100, startsAt: T + 30 * MIN }), { code: 748 }, 'overlaps the accepted one (10–40 min)');
  t.ok(await other.request('booking.create', { userId: 100, startsAt: T + 40 * MIN }), 'right after it is fine');
  await t.rejects(other.request('booking.cancel', { bookingId: b.bookingId }), { code: 749 }, 'another user\'s booking');
  await t.rejects(other.request('booking.enter', { bookingId: b.bookingId }), { code: 749 });

  const hostSoon = host.next('booking.soon');
  const soon = await stepTo(ts, T + 9 * MIN, viewer, 'booking.soon');
  t.same(soon, { bookingId: b.bookingId, startsAt: T + 10 * MIN, judgeAt: T + 15 * MIN });
  t.same(await hostSoon, soon, 'both are reminded');

  const countdown = viewer.next('show.countdown');
  const show = await host.request('booking.enter', { bookingId: b.bookingId });
  t.match(show, { bookingId: b.bookingId, status: 'countdown', hostIn: true, startsAt: T + 10 * MIN }, 'a booked show starts at its booked time');
  t.match(await countdown, { showId: show.showId, startsAt: T + 10 * MIN, secondsLeft: 60 });
  t.match(await viewer.request('booking.enter', { bookingId: b.bookingId }), { showId: show.showId, viewerIn: true });
  await t.rejects(viewer.request('booking.cancel', { bookingId: b.bookingId }), { code: 752 }, 'no cancelling once entered');
  const started = await stepTo<{ startedAt: number }>(ts, T + 10 * MIN, viewer, 'show.started');
  t.equal(started.startedAt, T + 10 * MIN);

  const hostSettled = host.next('booking.settled');
  t.same(await stepTo(ts, T + 15 * MIN, viewer, 'booking.settled'), { bookingId: b.bookingId, outcome: 'completed', deposit: 0, depositTo: null });
  t.same(await hostSettled, { bookingId: b.bookingId, outcome: 'completed', deposit: 0, depositTo: null });
  t.match(await viewer.request('show.current', {}), { show: { showId: show.showId, status: 'live' } }, 'a completed booking\'s show goes on');
  t.match(await viewer.request('booking.list', { state: 'closed', page: 1, pageSize: 10 }), { total: 1, bookings: [{ bookingId: b.bookingId, status: 'completed', showId: show.showId }] });
  const ended = viewer.next('show.ended');
  await host.request('show.close', { showId: show.showId });
  t.match(await ended, { reason: 'host_closed', durationSec: 300 });
});

t.test('judgements: missed by the host, by the viewer, by both; expiry; decline; cancel by either side; host books a viewer', async (t) => {
  const ts = await startTestServer(t, rules);
  const [h1, h2, h3, h4] = await Promise.all([ts.connect(101, 'host'), ts.connect(102, 'host'), ts.connect(103, 'host'), ts.connect(104, 'host')]);
  const [v1, v2, v3] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(3)]);
  const T = ts.clock.now();
  const at = T + 10 * MIN;
  const book = async (v: LiveClient, h: LiveClient, hostId: number) => {
    const b = await v.request('booking.create', { userId: hostId, startsAt: at });
    await h.request('booking.accept', { bookingId: b.bookingId });
    return b.bookingId;
  };
  const onlyViewer = await book(v1, h1, 101);
  const onlyHost = await book(v2, h2, 102);
  // The host books the viewer (6.36); the viewer accepts (5.25).
  const received = v3.next('booking.received');
  const nobody = (await h3.request('booking.create', { userId: 3, startsAt: at })).bookingId;
  t.match(await received, { bookingId: nobody, from: { userId: 103 }, direction: 'received' });
  await v3.request('booking.accept', { bookingId: nobody });

  const expiring = (await v1.request('booking.create', { userId: 104, startsAt: T + 5 * MIN })).bookingId;
  const declined = (await v1.request('booking.create', { userId: 103, startsAt: T + 60 * MIN })).bookingId;
  const viewerCancels = (await v2.request('booking.create', { userId: 101, startsAt: T + 60 * MIN })).bookingId;
  const hostCancels = (await v3.request('booking.create', { userId: 102, startsAt: T + 90 * MIN })).bookingId;
  const v1Hears = v1.next('booking.answered');
  await h3.request('booking.decline', { bookingId: declined });
  t.same(await v1Hears, { bookingId: declined, accepted: false });
  const h1Hears = h1.next('booking.cancelled');
  await v2.request('booking.cancel', { bookingId: viewerCancels });
  t.same(await h1Hears, { bookingId: viewerCancels, reason: 'cancelled' });
  const v3Hears = v3.next('booking.cancelled');
  await h2.request('booking.cancel', { bookingId: hostCancels });
  t.same(await v3Hears, { bookingId: hostCancels, reason: 'cancelled' });

  const h4Expired = h4.next('booking.expired');
  t.same(await stepTo(ts, T + 4 * MIN, v1, 'booking.expired'), { bookingId: expiring }, 'not answered one minute before its start');
  t.same(await h4Expired, { bookingId: expiring });

  const reminded = [v1.next('booking.soon'), v2.next('booking.soon'), v3.next('booking.soon')];
  ts.clock.advance(T + 9 * MIN - ts.clock.now());
  await Promise.all(reminded);
  const v1Show = await v1.request('booking.enter', { bookingId: onlyViewer });
  t.match(v1Show, { status: 'accepted', viewerIn: true, hostIn: false });
  await h2.request('booking.enter', { bookingId: onlyHost });

  const settled = [v1.next('booking.settled'), v2.next('booking.settled'), v3.next('booking.settled')];
  const showEnded = v1.next('show.ended');
  ts.clock.advance(T + 15 * MIN - ts.clock.now());
  t.same(await Promise.all(settled), [
    { bookingId: onlyViewer, outcome: 'missed_by_host', deposit: 0, depositTo: null },
    { bookingId: onlyHost, outcome: 'missed_by_viewer', deposit: 0, depositTo: null },
    { bookingId: nobody, outcome: 'missed_by_both', deposit: 0, depositTo: null },
  ]);
  t.match(await showEnded, { showId: v1Show.showId, reason: 'host_no_show' }, 'the half-entered show ends with the judgement');
  const statuses = ts.server.internals.db.prepare('SELECT id, status FROM bookings ORDER BY id').all();
  t.same(statuses, [
    { id: onlyViewer, status: 'missed_by_host' },
    { id: onlyHost, status: 'missed_by_viewer' },
    { id: nobody, status: 'missed_by_both' },
    { id: expiring, status: 'expired' },
    { id: declined, status: 'declined' },
    { id: viewerCancels, status: 'cancelled' },
    { id: hostCancels, status: 'cancelled' },
  ]);
  t.same(ts.server.internals.db.prepare("SELECT count(*) AS n FROM actor_deadlines WHERE key LIKE 'desk:%'").get(), { n: 0 }, 'nothing left to fire');
});
