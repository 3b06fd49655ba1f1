/**
 * Child side of `npm run bench:timers` (bench/deadlines.ts), one job per process so each RSS is its own:
 *   seed <db> <plan> <t0>: creates one `alarm` actor per planned deadline through the real machinery
 *     (Directory + ActorRuntime + SqliteJournalEngine at synchronous=FULL), each with one journaled
 *     `arm` message whose deadline index row rides the same commit; reports the commit figures.
 *   run <db> <plan> <t0>: opens the database like a server starting, arms every deadline from the
 *     index without recovering anybody (time to ready, RSS, live actors), then lets them all fire:
 *     each holder is recovered when due, handles `fire`, journals it, and only then (after the
 *     commit) reports — lateness = that moment − the due time. Counts firings per actor. Watches
 *     those due within OBSERVE_MS of the plan's start (default: all); the rest stay pending.
 * Prints one JSON line on stdout.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { Directory } from '../../src/actors/directory.js';
import type { DomainEvent } from '../../src/actors/effects.js';
import { ActorRuntime } from '../../src/actors/runtime.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/storage/database.js';
import { DeadlineIndex } from '../../src/storage/deadline-index.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';
import { pool } from './load.js';
import { Lateness, tally } from './deadlines-plan.js';
import { alarmActor, type AlarmMsg, type AlarmState } from './deadlines-actor.js';

const [job, dbPath, planPath, t0Raw] = process.argv.slice(2);
const offsets = new Int32Array(readFileSync(planPath!).buffer.slice(0));
const t0 = Number(t0Raw);
const burstFrom = Number(process.env.BURST_FROM_MS ?? -1);
const observe = Number(process.env.OBSERVE_MS ?? Infinity);
const watched = offsets.filter((o) => o <= observe).length;

const clock = systemClock();
const opening = performance.now();
const db = openDatabase({ path: dbPath!, synchronous: 'FULL' });
const commits: Array<[number, number]> = [];
const engine = new SqliteJournalEngine(db, { onCommit: (s, items) => commits.push([s, items]) });
const runtime = new ActorRuntime(engine, clock);
const fired = new Uint8Array(offsets.length);
const late = new Lateness(burstFrom);
let firedTotal = 0;
let onAllFired: () => void = () => {};
const directory = new Directory<AlarmState, AlarmMsg>({
  runtime,
  def: alarmActor,
  clock,
  ports: {
    push: () => {},
    publish: () => {},
    // Runs after the fire's journal write committed.
    emit: (event: DomainEvent) => {
      const { id, due } = event as unknown as { id: number; due: number };
      fired[id] = Math.min(255, fired[id]! + 1);
      const ms = Math.max(0, clock.now() - due);
      const offset = due - t0;
      late.add(offset, ms);
      if (due - t0 <= observe && ++firedTotal === watched) onAllFired();
    },
  },
  logger: pino({ level: 'warn' }),
  snapshots: engine,
  idleMs: 5_000,
  snapshotEvery: 1000,
  askTimeoutMs: 600_000,
  deadlineStore: new DeadlineIndex(db),
});

const mib = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;

if (job === 'seed') {
  const from = performance.now();
  await pool(offsets.length, Number(process.env.CONCURRENCY ?? 2000), (i) => directory.ask(i, { t: 'arm', at: t0 + offsets[i]! }));
  const sec = (performance.now() - from) / 1000;
  const items = commits.reduce((n, [, k]) => n + k, 0);
  const secs = commits.map(([s]) => s * 1000).sort((a, b) => a - b);
  console.log(JSON.stringify({
    actors: offsets.length, seconds: Math.round(sec * 100) / 100, actorsPerSec: Math.round(offsets.length / sec),
    commits: commits.length, commitsPerSec: Math.round(commits.length / sec), rowsPerCommit: Math.round((items / commits.length) * 10) / 10,
    commitMsP50: Math.round(secs[Math.floor(secs.length / 2)]! * 100) / 100, commitMsP99: Math.round(secs[Math.floor(secs.length * 0.99)]! * 100) / 100,
    rssMiB: mib(),
  }));
  await engine.flush();
  process.exit(0);
} else {
  const armed = directory.armFromIndex();
  // performance.now() counts from the process start (module loading included; tsx compiles the bench's TypeScript).
  const ready = { armed, readyMs: Math.round(performance.now()), openToReadyMs: Math.round(performance.now() - opening), liveActors: directory.size, rssMiB: mib() };
  const all = new Promise<void>((resolve) => (onAllFired = resolve));
  const lastDue = t0 + Math.min(observe, Math.max(...offsets));
  const deadline = setTimeout(() => onAllFired(), Math.max(0, lastDue - Date.now()) + 60_000);
  await all;
  clearTimeout(deadline);
  const { missing, twice, early } = tally(fired, offsets, observe);
  await engine.flush();
  const left = (db.prepare("SELECT count(*) FROM actor_deadlines WHERE key LIKE 'alarm:%'").pluck().get() as number);
  console.log(JSON.stringify({ ...ready, watched, fired: firedTotal, missing, twice, early, indexRowsLeft: left, indexRowsExpected: offsets.length - watched, ...late.report(), rssAfterMiB: mib() }));
  process.exit(0);
}
