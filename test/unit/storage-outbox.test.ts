import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';
import { PersistedEvent } from 'nact/lib/persistence/persistence-engine.js';
import { SqliteOutboxStore } from '../../src/storage/outbox.js';

function open(t: Test) {
  const db = openDatabase({ path: join(t.testdir(), 'outbox.db'), synchronous: 'NORMAL' });
  t.teardown(() => db.close());
  return { db, store: new SqliteOutboxStore(db) };
}

t.test('a user has one head: later items wait behind it and are promoted, in order, when it is delivered or dead', async (t) => {
  const { store } = open(t);
  store.append(7, 'invite.received', { inviteId: 1 }, 1000);
  store.append(7, 'booking.received', { bookingId: 2 }, 1001);
  store.append(8, 'booking.soon', { bookingId: 3 }, 1002);
  store.append(7, 'booking.soon', { bookingId: 2 }, 1003);
  t.same(store.due(5000, 10).map((i) => [i.userId, i.id]), [[7, 1], [8, 3]], 'only the heads are due, one per user');
  t.equal(store.get(2)!.nextAttemptAt, null, 'the second item of user 7 waits');

  store.delivered(1, 1, 2000);
  t.match(store.get(1), { status: 'delivered', attempts: 1, nextAttemptAt: null });
  t.same(store.due(5000, 10).map((i) => i.id), [3, 2], 'the next item of user 7 is the head now, due at once (soonest due first)');
  t.equal(store.get(2)!.nextAttemptAt, 2000);

  store.failed(2, 1, 9000, 'HTTP 500', 2100);
  t.same(store.due(5000, 10).map((i) => i.id), [3], 'a retry is not due before its time');
  t.equal(store.nextDueAfter(5000), 9000);
  t.same(store.due(9000, 10).map((i) => i.id), [3, 2], 'and is at its time');
  t.equal(store.get(4)!.nextAttemptAt, null, 'the item behind a failing head keeps waiting (order per user)');

  store.dead(2, 3, 'HTTP 400', 9100);
  t.match(store.get(2), { status: 'dead', attempts: 3, lastError: 'HTTP 400' });
  t.equal(store.get(4)!.nextAttemptAt, 9100, 'a dead head lets the next one go');
  t.same(store.get(1)!.payload, { inviteId: 1 }, 'the payload comes back as written');
});

t.test('a dead item retried goes back to pending with no attempts: at once if its user has nothing pending, else behind the head', async (t) => {
  const { store } = open(t);
  store.append(1, 'k', {}, 100);
  store.dead(1, 10, 'HTTP 503', 200);
  t.equal(store.retryDead(99, 300), false, 'no such item');
  t.equal(store.retryDead(1, 300), true);
  t.match(store.get(1), { status: 'pending', attempts: 0, nextAttemptAt: 300 });
  t.equal(store.retryDead(1, 300), false, 'only a dead item can be retried');

  store.append(2, 'k', {}, 400); // id 2, head of user 2
  store.append(2, 'k', {}, 401); // id 3
  store.dead(2, 1, 'HTTP 404', 500); // 3 becomes the head
  t.equal(store.retryDead(2, 600), true);
  t.equal(store.get(2)!.nextAttemptAt, null, 'behind the head in flight: never two heads for one user');
  store.delivered(3, 1, 700);
  t.equal(store.get(2)!.nextAttemptAt, 700, 'promoted when the head is done');
});

t.test('backlog: counts, oldest pending, the last dead newest first', async (t) => {
  const { store } = open(t);
  t.same(store.backlog(5), { pending: 0, dead: 0, oldestPendingAt: null, lastDead: [] });
  for (let i = 0; i < 4; i++) store.append(i + 1, 'k', { i }, 1000 + i);
  store.dead(1, 2, 'HTTP 410', 2000);
  store.dead(2, 1, 'HTTP 403', 2001);
  store.delivered(3, 1, 2002);
  const b = store.backlog(1);
  t.match(b, { pending: 1, dead: 2, oldestPendingAt: 1003 });
  t.same(b.lastDead.map((i) => i.id), [2], 'limited, newest first');
});

t.test('the due heads and the counts are read off the partial indexes, not by scanning the table', async (t) => {
  const { db } = open(t);
  const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  t.match(plan("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= 1 ORDER BY next_attempt_at, id LIMIT 5"), /USING INDEX outbox_due/);
  t.notMatch(plan("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= 1 ORDER BY next_attempt_at, id LIMIT 5"), /TEMP B-TREE/, 'in index order');
  t.match(plan("SELECT 1 FROM outbox WHERE user_id = 1 AND status = 'pending' LIMIT 1"), /USING COVERING INDEX outbox_pending_user/);
  t.match(plan("SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE status = 'pending'"), /INDEX outbox_pending/);
  t.match(plan("SELECT * FROM outbox WHERE status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT 5"), /USING INDEX outbox_dead/);
});

t.test('an outbox durable write commits with its journal entry, or neither is stored', async (t) => {
  const { db, store } = open(t);
  const appended: number[] = [];
  const { sqliteWriteApplier } = await import('../../src/storage/durable-writes.js');
  const engine = new SqliteJournalEngine(db, { applyWrite: sqliteWriteApplier(db, { outboxAppended: (u) => appended.push(u) }) });
  const event = (seq: number) => new PersistedEvent({ m: 'x' }, seq, 'desk:1', [], 1000);
  await engine.persist(event(1), [{ t: 'outbox', userId: 5, kind: 'invite.received', payload: { inviteId: 1 }, at: 1000 }]);
  t.equal(db.prepare('SELECT count(*) FROM journal').pluck().get(), 1);
  t.match(store.get(1), { userId: 5, kind: 'invite.received', payload: { inviteId: 1 }, status: 'pending', nextAttemptAt: 1000 });
  t.same(appended, [5]);

  // A later write of the same entry fails (a second open room for host 1): the outbox row written before it goes too.
  await engine.persist(event(2), [{ t: 'room.open', roomId: 1, hostId: 1, at: 1000 }]);
  await t.rejects(
    engine.persist(event(3), [
      { t: 'outbox', userId: 5, kind: 'invite.received', payload: { inviteId: 2 }, at: 1001 },
      { t: 'room.open', roomId: 2, hostId: 1, at: 1001 },
    ]),
    /UNIQUE/,
  );
  t.equal(db.prepare('SELECT count(*) FROM journal').pluck().get(), 2, 'the entry is not stored');
  t.equal(db.prepare('SELECT count(*) FROM outbox').pluck().get(), 1, 'nor its outbox row');
  engine.close();
});
