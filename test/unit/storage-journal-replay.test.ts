import { join } from 'node:path';
import t from 'tap';
import { configurePersistence, dispatch, query, spawnPersistent, start, stop, type Ref } from 'nact';
import { openDatabase } from '../../src/storage/database.js';
import { asNactEngine, SqliteJournalEngine } from '../../src/storage/journal-engine.js';

type Msg = { type: 'add'; n: number } | { type: 'get'; sender: Ref<number> };
// nact's typings omit these two context members of persistent actors.
type Ctx = { recovering?: boolean; persist(msg: Msg): Promise<void> };

const KEY = 'counter:1';

async function counter(state: number | undefined, msg: Msg, ctx: unknown): Promise<number> {
  const sum = state ?? 0;
  const c = ctx as Ctx;
  if (msg.type === 'get') {
    if (!c.recovering) dispatch(msg.sender, sum);
    return sum;
  }
  if (!c.recovering) await c.persist(msg);
  return sum + msg.n;
}

function boot(path: string) {
  const db = openDatabase({ path, synchronous: 'FULL' });
  const engine = new SqliteJournalEngine(db);
  const offsets: number[] = [];
  const events = engine.events.bind(engine);
  // Records the offsets nact asks for, to prove recovery started from the snapshot.
  engine.events = (key, offset, limit, tags) => {
    offsets.push(offset ?? 0);
    return events(key, offset, limit, tags);
  };
  const system = start(configurePersistence(asNactEngine(engine)));
  const actor = spawnPersistent(system, counter, KEY, undefined, { snapshotEvery: 5 });
  const shutdown = () => {
    stop(system);
    engine.close();
    db.close();
  };
  return { db, engine, offsets, actor, shutdown };
}

const getSum = (actor: Ref<Msg>) => query(actor, (sender: Ref<number>) => ({ type: 'get', sender }) as Msg, 1000);

t.test('snapshot + journal tail replay equals the live state', async (t) => {
  const path = join(t.testdir(), 'replay.db');
  const adds = Array.from({ length: 23 }, (_, i) => (i * 7) % 11 + 1);
  const expected = adds.reduce((a, b) => a + b, 0);

  const first = boot(path);
  for (const n of adds) dispatch(first.actor, { type: 'add', n });
  const live = await getSum(first.actor);
  t.equal(live, expected, 'live sum');
  t.equal(first.engine.lastSequence(KEY), 23, 'every add journaled');
  t.same(first.offsets, [0], 'first boot replayed from scratch');

  const kept = await first.engine.latestSnapshot(KEY);
  const base = (kept?.data as number | undefined) ?? 0;
  const folded = first.engine.events(KEY, kept?.sequenceNumber ?? 0).reduce((sum, e) => sum + (e.data as { n: number }).n, base);
  t.equal(folded, live, 'the latest snapshot plus the journal after it gives the live sum');
  t.equal(first.engine.events(KEY, 0).length, 23 - (kept?.sequenceNumber ?? 0), 'the journal was compacted behind the snapshot');
  first.shutdown();

  const second = boot(path);
  t.teardown(second.shutdown);
  const snapshot = await second.engine.latestSnapshot(KEY);
  t.ok(snapshot, 'a snapshot exists');
  const snapSeq = snapshot!.sequenceNumber;
  t.ok(snapSeq > 0 && snapSeq < 23, `snapshot at seq ${snapSeq}, before the last add`);
  t.type(snapshot!.data, 'number', 'snapshot holds the sum itself');

  t.equal(await getSum(second.actor), live, 'recovered sum equals live sum');
  t.same(second.offsets, [snapSeq], 'recovery read the journal only after the snapshot');
  const tail = second.engine.events(KEY, snapSeq);
  t.ok(tail.length < 23, `tail of ${tail.length} events replayed instead of 23`);
  t.equal(
    (snapshot!.data as number) + tail.reduce((sum, e) => sum + (e.data as { n: number }).n, 0),
    live,
    'snapshot + tail = live',
  );

  // New writes after recovery continue the sequence without colliding.
  dispatch(second.actor, { type: 'add', n: 100 });
  t.equal(await getSum(second.actor), live + 100);
  t.equal(second.engine.lastSequence(KEY), 24);
});
