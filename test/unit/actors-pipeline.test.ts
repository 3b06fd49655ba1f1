import t, { type Test } from 'tap';
import { pino } from 'pino';
import { Directory } from '../../src/actors/directory.js';
import { fail, ok, type Step } from '../../src/actors/effects.js';
import { ActorRuntime } from '../../src/actors/runtime.js';
import type { ActorDef } from '../../src/actors/shell.js';
import { FakeClock } from '../../src/clock.js';
import { openDatabase } from '../../src/storage/database.js';
import type { DurableWrite } from '../../src/storage/durable-writes.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';

/** A counter: `add` journals (with a side write when asked to carry one), `get` reads. */
interface Counter {
  n: number;
}
type CounterMsg = { t: 'add'; poison?: boolean } | { t: 'get' };
const counter: ActorDef<Counter, CounterMsg> = {
  kind: 'counter',
  initialState: () => ({ n: 0 }),
  reduce: (s, msg): Step<Counter> => {
    if (msg.t === 'get') return { state: s, effects: [ok(s.n)] };
    const next = { n: s.n + 1 };
    // The marker write is refused by the applier below, as a constraint violation would be.
    return { state: next, effects: [next.n > 0 ? ok(next.n) : fail('INTERNAL')], writes: msg.poison ? [{ t: 'deadline', key: 'poison', nextAt: 1 }] : [] };
  },
};

function setup(t: Test) {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  const commits: number[] = [];
  const engine = new SqliteJournalEngine(db, {
    onCommit: (_s, items) => commits.push(items),
    applyWrite: (w: DurableWrite) => {
      if (w.t === 'deadline' && w.key === 'poison') throw Object.assign(new Error('refused'), { code: 'SQLITE_CONSTRAINT_CHECK' });
    },
  });
  const runtime = new ActorRuntime(engine);
  const counters = new Directory<Counter, CounterMsg>({
    runtime,
    def: counter,
    clock: new FakeClock(),
    ports: { push: () => {}, publish: () => {}, emit: () => {} },
    logger: pino({ level: 'silent' }),
    snapshots: engine,
    idleMs: 60_000,
    snapshotEvery: 10,
    askTimeoutMs: 60_000,
  });
  t.teardown(async () => {
    await counters.close();
    runtime.shutdown();
    db.close();
  });
  return { engine, commits, counters };
}

t.test('a burst to one actor shares group commits; replies come in order, each after its commit', async (t) => {
  const { engine, commits, counters } = setup(t);
  const replies = await Promise.all(Array.from({ length: 50 }, () => counters.ask<number>(1, { t: 'add' })));
  t.same(replies, Array.from({ length: 50 }, (_, i) => i + 1), 'in order');
  t.ok(commits.length <= 5, `50 writes of one actor in ${commits.length} commits (${commits.join(', ')})`);
  t.equal(engine.lastSequence('counter:1'), 50);
  const snap = await engine.latestSnapshot('counter:1');
  t.match(snap, { sequenceNumber: 50, data: { n: 50 } }, 'periodic snapshots match the write they follow');
});

t.test('a failed write: it and every message after it are refused, the journal has no gap, the actor recovers', async (t) => {
  const { engine, counters } = setup(t);
  await counters.ask(2, { t: 'add' });
  const burst = await Promise.allSettled([
    counters.ask<number>(2, { t: 'add' }),
    counters.ask<number>(2, { t: 'add', poison: true }),
    counters.ask<number>(2, { t: 'add' }),
    counters.ask<number>(2, { t: 'get' }),
  ]);
  t.match(burst, [
    { status: 'fulfilled', value: 2 },
    { status: 'rejected', reason: { code: 900 } },
    { status: 'rejected', reason: { code: 900 } },
    { status: 'rejected', reason: { code: 900 } },
  ], 'nothing after the failed write is confirmed, not even a read of the state it would have built on');
  t.same(engine.events('counter:2').map((e) => e.sequenceNumber), [1, 2], 'the journal stops before the failed write');
  t.equal(await counters.ask<number>(2, { t: 'get' }), 2, 'recovered from the journal');
  t.equal(await counters.ask<number>(2, { t: 'add' }), 3, 'and writing again');
  t.same(engine.events('counter:2').map((e) => e.sequenceNumber), [1, 2, 3]);
});
