import { join } from 'node:path';
import t from 'tap';
import { PersistedEvent, PersistedSnapshot } from 'nact/lib/persistence/persistence-engine.js';
import { openDatabase } from '../../src/storage/database.js';
import { DuplicateSequenceError, EarlierWriteFailed, SqliteJournalEngine } from '../../src/storage/journal-engine.js';

const ev = (key: string, seq: number, data: unknown = { seq }, tags: string[] = []) =>
  new PersistedEvent(data, seq, key, tags);
const seqs = (events: PersistedEvent[]) => events.map((e) => e.sequenceNumber);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// Only what setup needs from a tap test, to avoid naming tap's plugin-built type.
interface Fixture {
  testdir(): string;
  teardown(fn: () => void): void;
}

function setup(t: Fixture, opts: ConstructorParameters<typeof SqliteJournalEngine>[1] = {}) {
  const path = join(t.testdir(), 'journal.db');
  const db = openDatabase({ path, synchronous: 'FULL' });
  const commits: number[] = [];
  const errors: string[] = [];
  const engine = new SqliteJournalEngine(db, {
    onCommit: (_s, items) => commits.push(items),
    onError: (_e, what) => errors.push(what),
    ...opts,
  });
  t.teardown(() => {
    engine.close();
    if (db.open) db.close();
  });
  return { path, db, engine, commits, errors };
}

t.test('events: ascending after offset, limit honoured, across out-of-order batches', async (t) => {
  const { engine, commits } = setup(t);
  await Promise.all([engine.persist(ev('a', 3)), engine.persist(ev('a', 1)), engine.persist(ev('b', 2)), engine.persist(ev('a', 5))]);
  await Promise.all([engine.persist(ev('a', 2)), engine.persist(ev('a', 6)), engine.persist(ev('a', 4))]);
  t.same(commits, [4, 3], 'two batches');

  const all = engine.events('a');
  t.ok(Array.isArray(all), 'a plain array, usable by nact without awaiting');
  t.ok(all[0] instanceof PersistedEvent);
  t.same(seqs(all), [1, 2, 3, 4, 5, 6]);
  t.same(seqs(engine.events('a', 2)), [3, 4, 5, 6]);
  t.same(seqs(engine.events('a', 2, 2)), [3, 4]);
  t.same(seqs(engine.events('a', 6)), []);
  t.same(seqs(engine.events('b', 0)), [2]);
  t.same(seqs(engine.events('nobody', 0)), []);
  t.same(all[2]!.data, { seq: 3 }, 'msgpack round trip');
  t.equal(all[2]!.key, 'a');
  t.equal(engine.lastSequence('a'), 6);
  t.equal(engine.lastSequence('nobody'), 0);
});

t.test('events: tags filter keeps events having all given tags; flags round-trip', async (t) => {
  const { engine } = setup(t);
  const deleted = new PersistedEvent({ x: 1 }, 4, 'k', [], 1234, true);
  await Promise.all([
    engine.persist(ev('k', 1, 'one', ['b', 'a'])),
    engine.persist(ev('k', 2, 'two', ['a'])),
    engine.persist(ev('k', 3, 'three', ['b'])),
    engine.persist(deleted),
  ]);
  t.same(seqs(engine.events('k', 0, undefined, ['a'])), [1, 2]);
  t.same(seqs(engine.events('k', 0, undefined, ['a', 'b'])), [1]);
  t.same(seqs(engine.events('k', 1, undefined, ['b'])), [3]);
  t.same(seqs(engine.events('k', 0, 1, ['b'])), [1]);
  t.same(seqs(engine.events('k', 0, undefined, ['zzz'])), []);
  t.same(seqs(engine.events('k', 0, undefined, [])), [1, 2, 3, 4], 'empty tag list filters nothing');
  const [first, , , last] = engine.events('k');
  t.same(first!.tags, ['a', 'b']);
  t.equal(last!.isDeleted, true);
  t.equal(last!.createdAt, 1234);
  await t.rejects(engine.persist(ev('k', 9, 1, ['bad\x1ftag'])), /reserved character/);
});

t.test('duplicate (key, seq) rejects; later events of that key wait for a recovery; other keys commit', async (t) => {
  const { engine, commits } = setup(t);
  await Promise.all([engine.persist(ev('a', 1)), engine.persist(ev('a', 2)), engine.persist(ev('a', 3))]);
  const results = await Promise.allSettled([
    engine.persist(ev('a', 4)),
    engine.persist(ev('a', 2, 'overwrite?')),
    engine.persist(ev('a', 5)),
    engine.persist(ev('a', 5, 'same batch')),
    engine.persist(ev('b', 2)),
  ]);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
  t.type((results[2] as PromiseRejectedResult).reason, EarlierWriteFailed, 'no gap: a5 would follow a failed write');
  const dup = (results[1] as PromiseRejectedResult).reason;
  t.type(dup, DuplicateSequenceError);
  t.match(dup.message, /duplicate/);
  t.match(dup, { key: 'a', seq: 2, kind: 'event' });
  t.same(commits, [3, 5], 'one commit for the mixed batch');
  await t.rejects(engine.persist(ev('a', 5)), EarlierWriteFailed, 'still refused in a later batch');
  t.same(seqs(engine.events('a')), [1, 2, 3, 4], 'read by a recovering actor…');
  await engine.persist(ev('a', 5));
  t.same(seqs(engine.events('a')), [1, 2, 3, 4, 5], '…which then writes again');
  t.same(engine.events('a')[1]!.data, { seq: 2 }, 'original row untouched');
  t.same(seqs(engine.events('b')), [2]);
});

t.test('a failed commit rejects every item of the batch', async (t) => {
  const { engine, db, errors } = setup(t);
  const p = [engine.persist(ev('a', 1)), engine.persist(ev('a', 2))];
  db.close();
  const results = await Promise.allSettled(p);
  t.same(results.map((r) => r.status), ['rejected', 'rejected']);
  t.same(errors, ['commit']);
});

t.test('snapshots: latest wins, only the newest is kept, per key', async (t) => {
  const { engine, db, errors } = setup(t);
  t.equal(await engine.latestSnapshot('a'), undefined);
  await engine.takeSnapshot(new PersistedSnapshot({ sum: 5 }, 5, 'a'));
  await Promise.all([
    engine.takeSnapshot(new PersistedSnapshot({ sum: 15 }, 15, 'a')),
    engine.takeSnapshot(new PersistedSnapshot({ sum: 10 }, 10, 'a')),
    engine.takeSnapshot(new PersistedSnapshot({ other: true }, 1, 'b')),
  ]);
  const latest = await engine.latestSnapshot('a');
  t.ok(latest instanceof PersistedSnapshot);
  t.match(latest, { sequenceNumber: 15, key: 'a', data: { sum: 15 } });
  t.same(db.prepare("SELECT seq FROM snapshots WHERE key = 'a' ORDER BY seq").pluck().all(), [15]);
  t.match(await engine.latestSnapshot('b'), { sequenceNumber: 1, data: { other: true } });

  // A snapshot at a sequence number is a function of the journal up to it, so
  // nact's periodic snapshot and a passivation snapshot at the same seq may both land.
  await engine.takeSnapshot(new PersistedSnapshot({ sum: 15, again: true }, 15, 'a'));
  t.match(await engine.latestSnapshot('a'), { sequenceNumber: 15, data: { sum: 15, again: true } });
  t.same(errors, [], 'a second snapshot at the same seq replaces the first without error');
});

t.test('a snapshot compacts the journal behind it; the position survives compaction', async (t) => {
  const { engine, db } = setup(t);
  await Promise.all([1, 2, 3, 4].map((seq) => engine.persist(ev('a', seq))));
  await engine.persist(ev('b', 1));
  await engine.takeSnapshot(new PersistedSnapshot({ upTo: 3 }, 3, 'a'));
  t.same(seqs(engine.events('a')), [4], 'entries up to the snapshot are gone, later ones stay');
  t.same(seqs(engine.events('b')), [1], 'other keys untouched');
  t.equal(db.prepare("SELECT count(*) FROM journal WHERE key = 'a'").pluck().get(), 1);
  await engine.takeSnapshot(new PersistedSnapshot({ upTo: 4 }, 4, 'a'));
  t.same(seqs(engine.events('a')), []);
  t.equal(engine.lastSequence('a'), 4, 'the position is the snapshot when the journal is empty');
});

t.test('persisted data survives close and reopen', async (t) => {
  const { engine, db, path } = setup(t);
  await engine.persist(ev('a', 1, { n: 0 }));
  await engine.persist(ev('a', 2, { nested: { list: [1, 'two', null], flag: true } }));
  await engine.takeSnapshot(new PersistedSnapshot({ n: 1 }, 1, 'a'));
  engine.close();
  db.close();

  const db2 = openDatabase({ path, synchronous: 'FULL' });
  const engine2 = new SqliteJournalEngine(db2);
  t.teardown(() => db2.close());
  t.same(engine2.events('a')[0]!.data, { nested: { list: [1, 'two', null], flag: true } });
  t.match(await engine2.latestSnapshot('a'), { sequenceNumber: 1, data: { n: 1 } });
  t.equal(engine2.lastSequence('a'), 2);
});

t.test('group commit: 100 concurrent persists share transactions', async (t) => {
  const { engine, commits } = setup(t);
  await Promise.all(Array.from({ length: 100 }, (_, i) => engine.persist(ev('g', i + 1))));
  t.ok(commits.length < 100, `${commits.length} commits for 100 items`);
  t.equal(commits.length, 1);
  t.equal(engine.events('g').length, 100);
});

t.test('group commit: maxBatch flushes early', async (t) => {
  const { engine, commits } = setup(t, { maxBatch: 10 });
  const all = Array.from({ length: 100 }, (_, i) => engine.persist(ev('g', i + 1)));
  t.same(commits, Array(10).fill(10), 'flushed synchronously as each batch filled');
  await Promise.all(all);
});

t.test('promises settle only after commit; reads see queued writes', async (t) => {
  const { engine, commits } = setup(t);
  let settled = false;
  const p = engine.persist(ev('a', 1)).then(() => (settled = true));
  await Promise.resolve();
  t.equal(settled, false, 'not before the flush');
  t.same(commits, []);
  t.equal(engine.lastSequence('a'), 1, 'a read flushes the queue first');
  await p;
  t.same(commits, [1]);
  await tick();
  t.same(commits, [1], 'the scheduled flush was cancelled, not run empty');
});

t.test('flush() and close()', async (t) => {
  const { engine, commits } = setup(t);
  const p1 = engine.persist(ev('a', 1));
  await engine.flush();
  t.same(commits, [1]);
  await p1;
  await engine.flush();
  t.same(commits, [1], 'empty flush does not commit');

  const p2 = engine.persist(ev('a', 2));
  engine.close();
  await p2;
  t.same(commits, [1, 1], 'close flushed synchronously');
  await t.rejects(engine.persist(ev('a', 3)), { message: 'engine closed' });
  await t.rejects(engine.takeSnapshot(new PersistedSnapshot(1, 3, 'a')), { message: 'engine closed' });
  t.same(seqs(engine.events('a')), [1, 2], 'reads still work');
});

t.test('close() after the database went away rejects what was queued', async (t) => {
  const { engine, db, commits } = setup(t);
  const p = engine.persist(ev('a', 1));
  db.close();
  engine.close();
  await t.rejects(p, { message: 'engine closed' });
  t.same(commits, []);
});

t.test('invalid input is rejected up front', async (t) => {
  const { engine, commits } = setup(t);
  await t.rejects(engine.persist(ev('a', 1, 2n ** 70n)), RangeError);
  await t.rejects(engine.persist({ ...ev('a', 1), sequenceNumber: 1.5 } as PersistedEvent), /sequenceNumber/);
  await t.rejects(engine.persist(ev('', 1)), /key/);
  t.same(commits, []);
});

t.test('durable writes commit with their event, or not at all', async (t) => {
  const { engine, db } = setup(t);
  const rooms = () => db.prepare('SELECT id, host_id AS hostId, closed_at AS closedAt FROM rooms ORDER BY id').all();
  // Same host twice in one batch: the second item breaks the one-open-room-per-host index.
  const [first, second, plain] = await Promise.allSettled([
    engine.persist(ev('room:1', 1), [{ t: 'room.open', roomId: 1, hostId: 7, at: 10 }]),
    engine.persist(ev('room:2', 1), [{ t: 'room.open', roomId: 2, hostId: 7, at: 11 }]),
    engine.persist(ev('other', 1)),
  ]);
  t.equal(first!.status, 'fulfilled');
  t.match(second, { status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_UNIQUE' } }, 'the item whose write fails is refused');
  t.equal(plain!.status, 'fulfilled', 'the rest of the batch commits');
  t.same(seqs(engine.events('room:2')), [], 'its event is not stored either (same savepoint)');
  t.same(rooms(), [{ id: 1, hostId: 7, closedAt: null }]);

  await engine.persist(ev('room:1', 2), [{ t: 'room.close', roomId: 1, at: 20, totals: { likes: 3 } }, { t: 'deadline', key: 'room:1', nextAt: null }]);
  t.same(rooms(), [{ id: 1, hostId: 7, closedAt: 20 }]);
  t.same(db.prepare('SELECT totals FROM rooms WHERE id = 1').pluck().get(), '{"likes":3}', 'the closed row keeps its totals');
  t.same(seqs(engine.events('room:1')), [], "a closed room's journal is dropped in the closing commit");

  await engine.persist(ev('countdown:1', 1), [{ t: 'deadline', key: 'countdown:1', nextAt: 500 }]);
  t.same(db.prepare('SELECT key, next_at FROM actor_deadlines').all(), [{ key: 'countdown:1', next_at: 500 }], 'the deadline index row rides the same commit');
});

t.test('a full disk: the whole batch is refused, events and their writes alike', async (t) => {
  const { engine, db, errors } = setup(t);
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const big = { blob: 'x'.repeat(64 * 1024) };
  const results = await Promise.allSettled([
    engine.persist(ev('room:1', 1, big), [{ t: 'room.open', roomId: 1, hostId: 7, at: 10 }]),
    engine.persist(ev('user:1', 1)),
  ]);
  t.match(results, [{ status: 'rejected', reason: { code: 'SQLITE_FULL' } }, { status: 'rejected', reason: { code: 'SQLITE_FULL' } }]);
  t.same(errors, ['commit']);
  t.equal(db.prepare('SELECT count(*) FROM rooms').pluck().get(), 0, 'no registry row without its journal entry');
  db.pragma('max_page_count = 1073741823');
  await t.rejects(engine.persist(ev('room:1', 1, big)), EarlierWriteFailed, 'not before the actor recovered');
  t.same(seqs(engine.events('room:1')), [], 'recovery reads the key');
  await engine.persist(ev('room:1', 1, big), [{ t: 'room.open', roomId: 1, hostId: 7, at: 10 }]);
  t.equal(db.prepare('SELECT count(*) FROM rooms').pluck().get(), 1, 'the same write succeeds once there is room');
});
