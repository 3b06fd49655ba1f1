import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint, until } from '../helpers/server.js';

t.test('kill -9 with a pending invitation and a start countdown: every deadline fires once, on time, after the restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-show-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  const token = (userId: number, role: 'host' | 'viewer' = 'viewer') => mint(userId, role, { issuedAt: T0 / 1000 });
  const env = {
    LIVE_DB_PATH: join(dir, 'live.db'),
    LIVE_INVITE_TTL_MS: '30000',
    LIVE_SHOW_COUNTDOWN_MS: '10000',
    LIVE_SHOW_VIEWER_ENTER_MS: '60000',
    LIVE_SHOW_AWAY_GRACE_MS: '600000',
    LIVE_BOOKING_MIN_LEAD_MS: '60000',
    LIVE_BOOKING_REMIND_MS: '50000',
    LIVE_BOOKING_JUDGE_MS: '60000',
  };
  const connect = (url: string, userId: number, role?: 'host' | 'viewer') => LiveClient.connect(url, { token: token(userId, role) });

  const first = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0) });
  t.teardown(() => void first.child.kill('SIGKILL'));
  const [h100, v1, h101, v2] = await Promise.all([connect(first.url, 100, 'host'), connect(first.url, 1), connect(first.url, 101, 'host'), connect(first.url, 2)]);
  const inv = await v1.request('invite.send', { userId: 100 });
  const show = await h100.request('invite.accept', { inviteId: inv.inviteId });
  const entered = await h100.request('show.enter', { showId: show.showId });
  t.equal(entered.startsAt, T0 + 10_000, 'the show starts at T0 + 10 s');
  const pending = await v2.request('invite.send', { userId: 101 });
  t.equal(pending.expiresAt, T0 + 30_000);
  // A booking to be accepted (reminder at T0 + 140 s, judgement at T0 + 250 s) and one left pending (expires at T0 + 10 s, while down).
  const booked = await v2.request('booking.create', { userId: 101, startsAt: T0 + 190_000 });
  const unanswered = await v1.request('booking.create', { userId: 101, startsAt: T0 + 60_000, durationMin: 10 });
  await h101.request('booking.accept', { bookingId: booked.bookingId });

  first.child.kill('SIGKILL');
  await exited(first.child);

  // Down for 20 s: the start fell due while the server was down; the expiry is still ahead.
  const second = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0 + 20_000) });
  t.teardown(() => void second.child.kill('SIGKILL'));
  const [host, viewer, host2, viewer2] = await Promise.all([
    connect(second.url, 100, 'host'), connect(second.url, 1), connect(second.url, 101, 'host'), connect(second.url, 2),
  ]);
  // A deadline that fell due while the server was down is armed with no delay; the fake clock
  // fires such timers when asked to move (by 0 ms: time stands still), the real clock at once.
  const current = await until(
    () => second.advance(0).then(() => viewer.request('show.current', {})),
    (r) => r.show?.status === 'live',
    'the overdue start to fire',
  );
  t.match(current, { show: { showId: show.showId, status: 'live', startedAt: T0 + 10_000, viewerEnterBy: T0 + 70_000 } },
    'the start that fell due while down happened at start-up, dated when it was due');
  await until(
    () => second.advance(0).then(() => host2.request('booking.list', { state: 'closed', page: 1, pageSize: 5 })),
    (r) => r.total === 1,
    'the overdue booking expiry to fire',
  );
  t.same(await host2.request('invite.count', {}), { total: 1, unread: 1 }, 'the invitation is still pending');
  await t.rejects(viewer.request('room.enter', { roomId: 1 }), { code: 739 }, 'the viewer is still in the show after the restart');

  const expired: unknown[] = [];
  for (const c of [viewer2, host2]) c.on('invite.expired', (d) => void expired.push(d));
  await second.advance(9_999);
  t.same(await host2.request('invite.count', {}), { total: 1, unread: 1 }, 'not expired before its time');
  // Due now: the index's timer recovers the desk, which re-arms the expiry at its (current) time.
  await second.advance(1);
  await until(() => second.advance(0).then(() => expired.length), (n) => n === 2, 'the expiry pushes');
  t.same(expired, [{ inviteId: pending.inviteId }, { inviteId: pending.inviteId }], 'the expiry fires on time, to both');

  const ends: unknown[] = [];
  host.on('show.ended', (d) => void ends.push(d));
  const viewerEnd = viewer.next('show.ended');
  await second.advance(39_999);
  t.match(await viewer.request('show.current', {}), { show: { status: 'live' } }, 'not before its time');
  await second.advance(1);
  t.match(await viewerEnd, { showId: show.showId, reason: 'viewer_no_show', startedAt: T0 + 10_000, endedAt: T0 + 70_000, durationSec: 60 });
  await second.advance(60_000);
  t.equal(ends.length, 1, 'the host hears of the end once');

  const soon = [viewer2.next('booking.soon'), host2.next('booking.soon')];
  await second.advance(10_000 - 1);
  t.match(await host2.request('booking.list', { state: 'upcoming', page: 1, pageSize: 5 }), { bookings: [{ bookingId: booked.bookingId, status: 'accepted' }] });
  await second.advance(1);
  t.same(await Promise.all(soon), [0, 1].map(() => ({ bookingId: booked.bookingId, startsAt: T0 + 190_000, judgeAt: T0 + 250_000 })), 'the reminder at T0 + 140 s');
  const settled: unknown[] = [];
  for (const c of [viewer2, host2]) c.on('booking.settled', (d) => void settled.push(d));
  await second.advance(110_000);
  await until(() => second.advance(0).then(() => settled.length), (n) => n === 2, 'the judgement');
  t.same(settled, [0, 1].map(() => ({ bookingId: booked.bookingId, outcome: 'missed_by_both', deposit: 0, depositTo: null })), 'judged once, to both');
  second.child.kill('SIGTERM');
  t.match(await exited(second.child), { code: 0 });

  const db = new Database(join(dir, 'live.db'), { readonly: true });
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT id, status, ended_at AS endedAt FROM invites ORDER BY id').all(), [
    { id: inv.inviteId, status: 'accepted', endedAt: T0 },
    { id: pending.inviteId, status: 'expired', endedAt: T0 + 30_000 },
  ]);
  t.same(db.prepare('SELECT started_at AS startedAt, ended_at AS endedAt, end_reason AS reason FROM shows').all(), [
    { startedAt: T0 + 10_000, endedAt: T0 + 70_000, reason: 'viewer_no_show' },
  ]);
  t.same(db.prepare('SELECT id, status, updated_at AS at FROM bookings ORDER BY id').all(), [
    { id: booked.bookingId, status: 'missed_by_both', at: T0 + 250_000 },
    { id: unanswered.bookingId, status: 'expired', at: T0 + 20_000 },
  ], 'the expiry that fell due while down fired at start-up');
  t.same(db.prepare("SELECT count(*) AS n FROM actor_deadlines WHERE key LIKE 'desk:%'").get(), { n: 0 }, 'no deadline left behind');
});
