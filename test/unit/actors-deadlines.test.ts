import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { Directory } from '../../src/actors/directory.js';
import { ok, type Step } from '../../src/actors/effects.js';
import { ActorRuntime } from '../../src/actors/runtime.js';
import type { ActorDef } from '../../src/actors/shell.js';
import { FakeClock } from '../../src/clock.js';
import { openDatabase } from '../../src/storage/database.js';
import { DeadlineIndex } from '../../src/storage/deadline-index.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';
import { waitFor } from '../helpers/server.js';

/** A countdown: `start` sets a deadline; `end` (delivered by it) records when it ended. */
interface Countdown {
  endsAt: number | null;
  endedAt: number[];
}
type CountdownMsg = { t: 'start'; inMs: number } | { t: 'end' } | { t: 'get' };

const countdown: ActorDef<Countdown, CountdownMsg> = {
  kind: 'countdown',
  initialState: () => ({ endsAt: null, endedAt: [] }),
  reduce(state, msg, now): Step<Countdown> {
    switch (msg.t) {
      case 'start':
        return { state: { ...state, endsAt: now + msg.inMs }, effects: [ok()] };
      case 'end':
        // Idempotent: a late or repeated delivery after the end changes nothing.
        if (state.endsAt === null || now < state.endsAt) return { state, effects: [] };
        return { state: { endsAt: null, endedAt: [...state.endedAt, now] }, effects: [] };
      case 'get':
        return { state, effects: [ok(state)] };
    }
  },
  deadlines: (s) => (s.endsAt === null ? [] : [{ id: 'end', at: s.endsAt, msg: { t: 'end' } }]),
};

function boot(t: Test, path: string, clock: FakeClock) {
  const db = openDatabase({ path, synchronous: 'FULL' });
  const engine = new SqliteJournalEngine(db);
  const runtime = new ActorRuntime(engine);
  const index = new DeadlineIndex(db);
  const dir = new Directory<Countdown, CountdownMsg>({
    runtime,
    def: countdown,
    clock,
    ports: { push: () => {}, publish: () => {}, emit: () => {} },
    logger: pino({ level: 'silent' }),
    snapshots: engine,
    idleMs: 60_000,
    snapshotEvery: 1000,
    askTimeoutMs: 2000,
    deadlineStore: index,
  });
  let stopped = false;
  /** Drops everything without a goodbye, as a crash would (the journal is already committed). */
  const crash = () => {
    if (stopped) return;
    stopped = true;
    runtime.shutdown();
    db.close();
  };
  t.teardown(crash);
  return { dir, index, crash };
}

const tempDb = (t: Test) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-deadlines-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'live.db');
};

const ended = (dir: Directory<Countdown, CountdownMsg>) => dir.ask<Countdown>(1, { t: 'get' });

t.test('a deadline fires at its time and leaves the index', async (t) => {
  const clock = new FakeClock(1_000_000);
  const { dir, index } = boot(t, tempDb(t), clock);
  await dir.ask(1, { t: 'start', inMs: 5000 });
  t.same(index.keysOf('countdown'), ['countdown:1']);
  clock.advance(4999);
  t.same((await ended(dir)).endedAt, [], 'not before its time');
  clock.advance(1);
  await waitFor(() => index.keysOf('countdown').length === 0, 'the deadline to be handled');
  t.same(await ended(dir), { endsAt: null, endedAt: [1_005_000] });
});

t.test('a deadline survives a crash: re-armed at start, fires on time', async (t) => {
  const path = tempDb(t);
  const clock = new FakeClock(2_000_000);
  const first = boot(t, path, clock);
  await first.dir.ask(1, { t: 'start', inMs: 10_000 });
  first.crash();

  clock.advance(3000);
  const second = boot(t, path, clock);
  t.equal(second.dir.armFromIndex(), 1, 'one actor held a deadline');
  await ended(second.dir); // recovered and re-armed
  clock.advance(6999);
  t.same((await ended(second.dir)).endedAt, []);
  clock.advance(1);
  await waitFor(() => second.index.keysOf('countdown').length === 0, 'the deadline to be handled');
  t.same((await ended(second.dir)).endedAt, [2_010_000], 'ended exactly at the deadline set before the crash');
  await t.resolves(second.dir.close(), 'a woken directory still closes (its wake-up settled)');
});

t.test('a deadline that passed while the server was down fires at once, once', async (t) => {
  const path = tempDb(t);
  const clock = new FakeClock(3_000_000);
  const first = boot(t, path, clock);
  await first.dir.ask(1, { t: 'start', inMs: 1000 });
  first.crash();

  clock.advance(60_000);
  const second = boot(t, path, clock);
  second.dir.armFromIndex();
  await ended(second.dir);
  clock.advance(0);
  await waitFor(() => second.index.keysOf('countdown').length === 0, 'the overdue deadline to be handled');
  const state = await ended(second.dir);
  t.same(state.endedAt, [3_060_000], 'handled on recovery, at the recovery time');
  clock.advance(60_000);
  t.same((await ended(second.dir)).endedAt, [3_060_000], 'not twice');
});

t.test('a passivated actor is woken by its own deadline', async (t) => {
  const clock = new FakeClock(4_000_000);
  const { dir, index } = boot(t, tempDb(t), clock);
  await dir.ask(1, { t: 'start', inMs: 120_000 });
  clock.advance(60_000);
  await dir.passivateIdle();
  t.equal(dir.size, 0, 'passivated while waiting');
  clock.advance(60_000);
  await waitFor(() => index.keysOf('countdown').length === 0, 'the deadline to be handled');
  t.same((await ended(dir)).endedAt, [4_120_000]);
});

t.test('start-up arms timers from the index without recovering anybody; each holder recovers when due', async (t) => {
  const path = tempDb(t);
  const clock = new FakeClock(5_000_000);
  const first = boot(t, path, clock);
  for (let id = 1; id <= 50; id++) await first.dir.ask(id, { t: 'start', inMs: id * 1000 });
  first.crash();

  const second = boot(t, path, clock);
  t.equal(second.dir.armFromIndex(), 50);
  t.equal(second.dir.size, 0, 'no actor recovered at start');
  t.equal(second.dir.armedActors, 50, 'one timer per holder');
  clock.advance(1000);
  // The wake-up recovers the actor, which re-arms its (now due) deadline: on a fake clock that needs one more turn.
  await second.dir.ask(1, { t: 'get' });
  t.equal(second.dir.size, 1, 'only the holder whose deadline came due was recovered');
  clock.advance(0);
  await waitFor(() => second.index.keysOf('countdown').length === 49, 'the first deadline to be handled');
  t.same((await second.dir.ask<Countdown>(1, { t: 'get' })).endedAt, [5_001_000]);
  for (let id = 2; id <= 50; id++) {
    clock.advance(1000);
    await second.dir.ask(id, { t: 'get' });
    clock.advance(0);
    await waitFor(() => second.index.keysOf('countdown').length === 50 - id, `deadline ${id} to be handled`);
  }
  const ends = await Promise.all(Array.from({ length: 50 }, (_, i) => second.dir.ask<Countdown>(i + 1, { t: 'get' })));
  t.same(ends.map((s) => s.endedAt[0]), Array.from({ length: 50 }, (_, i) => 5_000_000 + (i + 1) * 1000), 'each on time');
});

t.test('a message that comes before the deadline recovers the actor, which takes its timers over from the index', async (t) => {
  const path = tempDb(t);
  const clock = new FakeClock(6_000_000);
  const first = boot(t, path, clock);
  await first.dir.ask(1, { t: 'start', inMs: 10_000 });
  first.crash();
  const second = boot(t, path, clock);
  second.dir.armFromIndex();
  t.equal((await second.dir.ask<Countdown>(1, { t: 'get' })).endsAt, 6_010_000, 'recovered by a message');
  clock.advance(10_000);
  await waitFor(() => second.index.keysOf('countdown').length === 0, 'the deadline to be handled');
  t.same((await second.dir.ask<Countdown>(1, { t: 'get' })).endedAt, [6_010_000], 'fired once, on time');
});
