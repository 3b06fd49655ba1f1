import type Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import type { Config } from '../../src/server/config.js';
import { ADMIN_TOKEN, adminApi } from '../helpers/admin.js';
import { PushReceiver } from '../helpers/push-receiver.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';

const MIN = 60_000;
const SECRET = 'push-secret-0123456789-0123456789-abcd';

interface Row {
  id: number;
  user_id: number;
  kind: string;
  payload: string;
  attempts: number;
  status: string;
  next_attempt_at: number | null;
  last_error: string | null;
}

const row = (db: Database.Database, id: number) => db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined;
const rows = (db: Database.Database) => db.prepare('SELECT * FROM outbox ORDER BY id').all() as Row[];

async function waitRow(ts: TestServer, id: number, ok: (r: Row) => boolean, what: string): Promise<Row> {
  await waitFor(() => {
    const r = row(ts.server.internals.db, id);
    return r !== undefined && ok(r);
  }, what);
  return row(ts.server.internals.db, id)!;
}

async function withReceiver(t: Test, overrides: Partial<Config>) {
  const receiver = await PushReceiver.start();
  t.teardown(() => receiver.close());
  const ts = await startTestServer(t, { pushWebhookUrl: receiver.url, pushWebhookSecret: SECRET, adminToken: ADMIN_TOKEN, ...overrides });
  // Hosts that logged in once and are offline now: bookings may be made to them.
  for (const id of [100, 101]) await (await ts.connect(id, 'host')).close();
  return { receiver, ts };
}

t.test('a failing, timing-out and slow gateway: nothing lost, one user\'s items in order, the same id on every attempt', async (t) => {
  const { receiver, ts } = await withReceiver(t, { pushTimeoutMs: 5000, pushBackoffBaseMs: 1000, pushBackoffMaxMs: 4000, pushMaxAttempts: 10 });
  const { db } = ts.server.internals;
  receiver.rule = (p) => (p.userId === 101 ? 200 : 'hold');
  const [v1, v2, v3] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(3)]);
  const T = ts.clock.now();
  const b1 = await v1.request('booking.create', { userId: 100, startsAt: T + 10 * MIN });
  const b2 = await v2.request('booking.create', { userId: 100, startsAt: T + 20 * MIN });
  const b3 = await v3.request('booking.create', { userId: 101, startsAt: T + 30 * MIN });
  const b4 = await v3.request('booking.create', { userId: 100, startsAt: T + 40 * MIN });
  t.same(rows(db).map((r) => [r.id, r.user_id]), [[1, 100], [2, 100], [3, 101], [4, 100]], 'one outbox row per booking, for its receiver');

  // Attempt 1 of item 1 fails with 500.
  const first = await receiver.waitForCount(1, 'the first push of user 100');
  t.match(first.body, { id: 1, userId: 100, kind: 'booking.received', payload: { bookingId: b1.bookingId, direction: 'received' }, createdAt: T, attempt: 1 });
  t.equal(first.headers.authorization, `Bearer ${SECRET}`, 'the secret as a bearer token');
  first.answer(500);
  await waitRow(ts, 3, (r) => r.status === 'delivered', 'user 101\'s item delivered meanwhile (another user is not held up)');
  const failed = await waitRow(ts, 1, (r) => r.attempts === 1, 'the failure recorded');
  t.match(failed, { status: 'pending', last_error: 'HTTP 500' });
  t.ok(failed.next_attempt_at! >= T + 500 && failed.next_attempt_at! <= T + 1000, 'retried after 50–100 % of the base delay');
  t.same(receiver.of(100).map((p) => p.body.id), [1], 'nothing else of user 100 is sent while its first item is not through');

  // Attempt 2 gets no answer: abandoned after the timeout; its late answer reaches nobody.
  ts.clock.advance(1000);
  const second = await receiver.waitForCount(3, 'the second attempt');
  t.match(second.body, { id: 1, attempt: 2 });
  ts.clock.advance(4999);
  t.equal(row(db, 1)!.attempts, 1, 'not abandoned before the timeout');
  ts.clock.advance(1);
  const timedOut = await waitRow(ts, 1, (r) => r.attempts === 2, 'the timeout recorded');
  t.match(timedOut, { status: 'pending', last_error: 'timed out after 5000 ms' });
  await waitFor(() => second.gone, 'the gateway to see the request abandoned');
  second.answer(200);
  t.equal(second.answered, 0, 'the answer after the timeout is heard by nobody');

  // Attempt 3 is answered slowly (within the timeout): delivered; then items 2 and 4 follow in order.
  ts.clock.advance(2000);
  const third = await receiver.waitForCount(4, 'the third attempt');
  t.match(third.body, { id: 1, attempt: 3 });
  receiver.rule = () => 200;
  ts.clock.advance(4000);
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  t.equal(receiver.received.length, 4, 'while item 1 is in flight, item 2 waits');
  third.answer(200);
  await waitFor(() => rows(db).every((r) => r.status === 'delivered'), 'every item delivered');

  t.same(receiver.of(100).map((p) => [p.body.id, p.body.attempt]), [[1, 1], [1, 2], [1, 3], [2, 1], [4, 1]], 'in order, each after the previous was through');
  t.same(receiver.accepted.filter((id) => id !== 3), [1, 2, 4], 'user 100 got each item once, in the order written');
  t.match(receiver.of(100)[3]!.body, { payload: { bookingId: b2.bookingId } });
  t.match(receiver.of(100)[4]!.body, { payload: { bookingId: b4.bookingId } });
  t.match(receiver.of(101)[0]!.body, { id: 3, payload: { bookingId: b3.bookingId } });
  t.same(rows(db).map((r) => r.attempts), [3, 1, 1, 1]);

  const metrics = await (await fetch(`${ts.http}/metrics`)).text();
  t.match(metrics, /live_push_outcomes_total\{outcome="delivered"\} 4/);
  t.match(metrics, /live_push_outcomes_total\{outcome="retried"\} 2/);
  t.match(metrics, /live_push_backlog\{status="pending"\} 0/);
  t.notOk(ts.logs.some((l) => JSON.stringify(l).includes(SECRET)), 'the secret is never logged');
  t.ok(ts.logs.some((l) => l.msg === 'push attempt failed, will retry' && l.userId === 100 && l.deliveryId === 1), 'failures are logged with user and delivery id');
});

t.test('dead letters: after the last attempt, or at once on a 4xx; the admin API shows them and puts one back', async (t) => {
  const { receiver, ts } = await withReceiver(t, { pushBackoffBaseMs: 1000, pushBackoffMaxMs: 1000, pushMaxAttempts: 3 });
  const { db } = ts.server.internals;
  const admin = adminApi(ts);
  receiver.rule = (p) => (p.userId === 101 ? 404 : 503);
  const v1 = await ts.connect(1);
  const T = ts.clock.now();
  await v1.request('booking.create', { userId: 100, startsAt: T + 10 * MIN });
  await v1.request('booking.create', { userId: 100, startsAt: T + 20 * MIN });
  await v1.request('booking.create', { userId: 101, startsAt: T + 30 * MIN });

  t.match(await waitRow(ts, 3, (r) => r.status === 'dead', 'a 404 kills at once'), { attempts: 1, last_error: 'HTTP 404' });
  for (let attempts = 1; attempts < 3; attempts++) {
    await waitRow(ts, 1, (r) => r.attempts === attempts, `attempt ${attempts} recorded`);
    ts.clock.advance(1000);
  }
  await waitFor(() => receiver.of(100).length === 3, 'the third attempt');
  receiver.rule = () => 200;
  t.match(await waitRow(ts, 1, (r) => r.status === 'dead', 'dead after 3 attempts'), { attempts: 3, last_error: 'HTTP 503' });
  await waitRow(ts, 2, (r) => r.status === 'delivered', 'the next item of the user goes once the dead one is out of the way');
  t.same(receiver.of(100).map((p) => [p.body.id, p.body.attempt]), [[1, 1], [1, 2], [1, 3], [2, 1]]);

  t.match(await admin.call('GET', '/admin/outbox', undefined, 'x'.repeat(40)), { status: 401, body: { code: 711 } }, 'a wrong token');
  const missing = await fetch(`${ts.http}/admin/outbox`);
  t.equal(missing.status, 401, 'no token');
  t.match(await admin.call('POST', '/admin/outbox/1/retry', undefined, 'x'.repeat(40)), { status: 401 }, 'retry with a wrong token');
  t.equal(row(db, 1)!.status, 'dead', 'and it changed nothing');

  ts.clock.advance(30_000);
  const backlog = await admin.get('/admin/outbox');
  t.match(backlog, { pending: 0, dead: 2, oldestPendingAt: null, oldestPendingAgeMs: null });
  t.match(backlog.lastDead, [
    { id: 1, userId: 100, kind: 'booking.received', attempts: 3, lastError: 'HTTP 503', status: 'dead' },
    { id: 3, userId: 101, attempts: 1, lastError: 'HTTP 404' },
  ], 'newest dead first');

  t.same(await admin.call('POST', '/admin/outbox/1/retry'), { status: 200, body: {} });
  await waitRow(ts, 1, (r) => r.status === 'delivered', 'the retried item delivered');
  t.match(receiver.of(100).at(-1)!.body, { id: 1, attempt: 1 }, 'same id, attempts counted afresh');
  t.match(await admin.call('POST', '/admin/outbox/1/retry'), { status: 404, body: { code: 760 } }, 'not dead any more');
  t.match(await admin.call('POST', '/admin/outbox/99/retry'), { status: 404, body: { code: 760 } }, 'no such item');
  t.match(await admin.call('POST', '/admin/outbox/x1/retry'), { status: 400, body: { code: 700 } }, 'not an id');
  t.match(await admin.get('/admin/outbox'), { pending: 0, dead: 1 });

  const metrics = await (await fetch(`${ts.http}/metrics`)).text();
  t.match(metrics, /live_push_outcomes_total\{outcome="dead"\} 2/);
  t.match(metrics, /live_push_backlog\{status="dead"\} 1/);
  t.ok(ts.logs.some((l) => l.msg === 'push dead: not delivered, no more attempts' && l.deliveryId === 3 && l.userId === 101));
});

t.test('without a webhook nothing is sent; invitations and the booking timeline write their rows with the fact, a failed commit neither', async (t) => {
  const ts = await startTestServer(t, { adminToken: ADMIN_TOKEN });
  const { db } = ts.server.internals;
  t.ok(ts.logs.some((l) => l.msg === 'LIVE_PUSH_WEBHOOK_URL not set: outbox items are kept pending and not sent'));
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  await (await ts.connect(101, 'host')).close();
  const inv = await viewer.request('invite.send', { userId: 100 });
  t.match(rows(db), [{ id: 1, user_id: 100, kind: 'invite.received', status: 'pending', attempts: 0 }], 'exactly one row, for the invited host (online: written all the same)');
  t.match(JSON.parse(rows(db)[0]!.payload), { inviteId: inv.inviteId, direction: 'received', from: { userId: 1 } });

  // The booking timeline: received (to the invitee), cancelled (to the other side), soon (to both).
  const T = ts.clock.now();
  const b = await viewer.request('booking.create', { userId: 100, startsAt: T + 10 * MIN });
  await host.request('booking.accept', { bookingId: b.bookingId });
  const c = await viewer.request('booking.create', { userId: 100, startsAt: T + 60 * MIN });
  await host.request('booking.cancel', { bookingId: c.bookingId });
  const soon = viewer.next('booking.soon');
  ts.clock.advance(9 * MIN);
  await soon;
  await waitFor(() => rows(db).length === 6, 'the reminders\' rows');
  t.same(rows(db).slice(1).map((r) => [r.user_id, r.kind]), [
    [100, 'booking.received'],
    [100, 'booking.received'],
    [1, 'booking.cancelled'],
    [100, 'booking.soon'],
    [1, 'booking.soon'],
  ]);
  ts.clock.advance(60 * MIN);
  t.ok(rows(db).every((r) => r.status === 'pending' && r.attempts === 0), 'nothing sent, nothing lost');
  t.match(await adminApi(ts).get('/admin/outbox'), { pending: 6, dead: 0, oldestPendingAt: T, oldestPendingAgeMs: 69 * MIN });

  // A commit that fails stores neither the booking nor its push.
  db.pragma('query_only = 1');
  await t.rejects(viewer.request('booking.create', { userId: 101, startsAt: ts.clock.now() + 10 * MIN }), { code: 900 });
  db.pragma('query_only = 0');
  t.equal(db.prepare('SELECT count(*) FROM bookings WHERE host_id = 101').pluck().get(), 0);
  t.equal(db.prepare('SELECT count(*) FROM outbox WHERE user_id = 101').pluck().get(), 0, 'no push for a booking that was not made');
  const again = await viewer.request('booking.create', { userId: 101, startsAt: ts.clock.now() + 10 * MIN });
  t.match(JSON.parse((db.prepare('SELECT payload FROM outbox WHERE user_id = 101').pluck().all() as string[]).join()), { bookingId: again.bookingId }, 'once writes work, exactly one');
});
