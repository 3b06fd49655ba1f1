/**
 * Baseline of `npm run bench:timers`: a bare Node process arming the same deadlines as plain
 * setTimeouts (no storage, no actors): the floor for start-up time, memory and firing lateness.
 *   node bare-timeouts.ts <plan> <t0>   (prints one JSON line)
 */
import { readFileSync } from 'node:fs';
import { Lateness, tally } from '../lib/deadlines-plan.js';

const [planPath, t0Raw] = process.argv.slice(2);
const offsets = new Int32Array(readFileSync(planPath!).buffer.slice(0));
const t0 = Number(t0Raw);
const burstFrom = Number(process.env.BURST_FROM_MS ?? -1);
const observe = Number(process.env.OBSERVE_MS ?? Infinity);
const watched = offsets.filter((o) => o <= observe).length;
const late = new Lateness(burstFrom);
const fired = new Uint8Array(offsets.length);
let done = 0;
const opening = performance.now();
const all = new Promise<void>((resolve) => {
  offsets.forEach((offset, i) => {
    const due = t0 + offset;
    setTimeout(() => {
      fired[i]!++;
      late.add(offset, Math.max(0, Date.now() - due));
      if (offset <= observe && ++done === watched) resolve();
    }, Math.max(0, due - Date.now()));
  });
});
const mib = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
const ready = { armed: offsets.length, readyMs: Math.round(performance.now()), openToReadyMs: Math.round(performance.now() - opening), liveActors: 0, rssMiB: mib() };
await all;
console.log(JSON.stringify({ ...ready, watched, fired: done, ...tally(fired, offsets, observe), indexRowsLeft: 0, ...late.report(), rssAfterMiB: mib() }));
process.exit(0);
