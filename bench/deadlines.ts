/**
 * npm run bench:timers [-- --actors 100000 --spread-sec 3600 --observe-sec 120 --lead-sec 45 --burst 10000 --chat 200 --invite-pairs 200 --invite-sec 10]
 *
 * Durable deadlines at scale (bench/lib/deadlines-child.ts does the work, one process per job):
 *   1. seed: `actors` actors, one durable deadline each, created through the real machinery at
 *      synchronous=FULL (creation rate, commits/s, rows per commit);
 *   2. restart: a fresh process opens the database and arms every deadline from the index without
 *      recovering anybody (time to ready, RSS, live actors), then lets them all fire while the real
 *      server (a separate process) carries chat at --chat lines/s, for the first --observe-sec of
 *      the plan: lateness p50/p99/max for the burst second and for the rest, exactly-once check of
 *      everything due in that window, and that nothing due later fired early;
 *   3. baseline: a bare Node process arming the same deadlines as plain setTimeouts, same chat load;
 *   4. invitations on the real server at the highest rate --invite-pairs viewers can make them, one in
 *      flight each, for --invite-sec: invitations/s, commits/s, rows per commit (bench/lib/invite-rate.ts).
 * Deadlines are spread uniformly over --spread-sec (default: bookings spread over an hour, of which
 * the first two minutes are watched), plus --burst of them due within one second in the middle of
 * the watched window; the first is due --lead-sec after the plan is made (seeding must finish
 * before). `--spread-sec 60 --observe-sec 60` compresses the hour into a minute (60× the firing
 * rate) and watches every deadline fire. Results: bench/results/timers-<date>.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LiveClient } from '../src/client/index.js';
import { mint, TEST_SECRET } from '../test/helpers/server.js';
import { inviteRate } from './lib/invite-rate.js';
import { Histogram, pool, round } from './lib/load.js';
import { buildServer, ROOT, startProcess, stopProcess } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    actors: { type: 'string', default: '100000' },
    'spread-sec': { type: 'string', default: '3600' },
    'observe-sec': { type: 'string', default: '120' },
    'lead-sec': { type: 'string', default: '45' },
    burst: { type: 'string', default: '10000' },
    chat: { type: 'string', default: '200' },
    'invite-pairs': { type: 'string', default: '200' },
    'invite-sec': { type: 'string', default: '10' },
  },
});
const N = Number(values.actors);
const SPREAD = Number(values['spread-sec']) * 1000;
const LEAD = Number(values['lead-sec']) * 1000;
const BURST = Math.min(N, Number(values.burst));
const CHAT = Number(values.chat);
const OBSERVE = Math.min(SPREAD, Number(values['observe-sec']) * 1000);
const BURST_FROM = Math.floor(OBSERVE / 2);

// The plan: offsets (ms after the first due time) of every deadline.
const offsets = new Int32Array(N);
for (let i = 0; i < N; i++) offsets[i] = i < BURST ? BURST_FROM + Math.floor((i / BURST) * 1000) : Math.floor(((i - BURST) / Math.max(1, N - BURST)) * SPREAD);
const dir = mkdtempSync(join(tmpdir(), 'bench-timers-'));
const planPath = join(dir, 'plan.bin');
writeFileSync(planPath, Buffer.from(offsets.buffer));
const env = { BURST_FROM_MS: String(BURST_FROM), OBSERVE_MS: String(OBSERVE) };
const watched = offsets.filter((o) => o <= OBSERVE).length;

/** Runs a job to its end (its own process: its RSS is its own) and returns the JSON line it printed. */
function job(entry: string, args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.once('exit', (code) => {
      const json = out.split('\n').reverse().find((l) => l.startsWith('{"'));
      if (code === 0 && json) resolve(JSON.parse(json) as Record<string, unknown>);
      else reject(new Error(`${entry} ${args[0] ?? ''} exited with ${code}\n${out.slice(-2000)}`));
    });
  });
}

/** A few rooms chatting at CHAT lines/s on the real server; returns a stop() giving the latency figures. */
let chats = 0;
async function chat(): Promise<{ stop(): Promise<{ linesPerSec: number; p50: number; p99: number; max: number }> }> {
  const server = await startProcess(buildServer(), {
    LIVE_HOST: '127.0.0.1', LIVE_PORT: '0', LIVE_DB_PATH: join(dir, `chat-${++chats}.db`), LIVE_TOKEN_SECRET: TEST_SECRET, LIVE_LOG_LEVEL: 'warn',
    LIVE_CHAT_PER_S: '1000', LIVE_CHAT_BURST: '1000', LIVE_RATE_PER_S: '100000', LIVE_RATE_BURST: '100000',
  });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const ROOMS = 4;
  const hosts = await Promise.all(Array.from({ length: ROOMS }, async (_, i) => {
    const c = await LiveClient.connect(url, { token: mint(i + 1, 'host') });
    return { c, roomId: (await c.request('room.open', { title: `chat ${i}` })).roomId };
  }));
  const hist = new Histogram();
  await pool(ROOMS * 50, 50, async (i) => {
    const c = await LiveClient.connect(url, { token: mint(1000 + i, 'viewer') });
    c.on('chat.message', (d) => hist.add(performance.now() - Number(d.text)));
    await c.request('room.enter', { roomId: hosts[i % ROOMS]!.roomId });
  });
  let sent = 0;
  let failedSends = 0;
  const startedAt = performance.now();
  const timer = CHAT > 0 ? setInterval(() => {
    const h = hosts[sent++ % ROOMS]!;
    h.c.request('chat.send', { text: String(performance.now()) }).catch(() => void failedSends++);
  }, 1000 / CHAT) : undefined;
  return {
    async stop() {
      clearInterval(timer);
      const secs = (performance.now() - startedAt) / 1000;
      await stopProcess(server.child);
      return { linesPerSec: round(sent / secs), failedSends, p50: hist.percentile(50), p99: hist.percentile(99), max: round(hist.max) };
    },
  };
}

try {
  const t0 = Date.now() + LEAD;
  console.error(`seeding ${N} deadlines (due from ${LEAD / 1000} s to ${(LEAD + SPREAD) / 1000} s from now, ${BURST} of them within one second at +${BURST_FROM / 1000} s; the ${watched} due in the first ${OBSERVE / 1000} s are watched)`);
  const seed = await job(join(ROOT, 'bench/lib/deadlines-child.ts'), ['seed', join(dir, 'timers.db'), planPath, String(t0)]);
  console.error(`seeded: ${JSON.stringify(seed)}`);
  if (Date.now() > t0 - 5000) throw new Error('seeding took longer than --lead-sec allows; raise it');
  const load = await chat();
  const ours = await job(join(ROOT, 'bench/lib/deadlines-child.ts'), ['run', join(dir, 'timers.db'), planPath, String(t0)]);
  console.error(`ours: ${JSON.stringify(ours)}`);
  const oursChat = await load.stop();
  const load2 = await chat();
  const bare = await job(join(ROOT, 'bench/baselines/bare-timeouts.ts'), [planPath, String(Date.now() + 10_000)]);
  const bareChat = await load2.stop();
  const invites = Number(values['invite-pairs']) > 0 ? await inviteRate(dir, Number(values['invite-pairs']), Number(values['invite-sec'])) : null;
  type Lat = { p50: number; p99: number; max: number };
  const row = (name: string, r: Record<string, unknown>, c: Awaited<ReturnType<Awaited<ReturnType<typeof chat>>['stop']>>) => ({
    target: name, 'ready ms (process)': r.readyMs, 'open→ready ms': r.openToReadyMs, 'RSS ready MiB': r.rssMiB, 'live actors': r.liveActors,
    fired: r.fired, missing: r.missing, twice: r.twice, early: r.early, 'burst p50/p99 ms': `${(r.burst as Lat).p50} / ${(r.burst as Lat).p99}`,
    'rest p50/p99 ms': `${(r.rest as Lat).p50} / ${(r.rest as Lat).p99}`,
    '5 s after burst p99': (r.after as Lat).p99, 'quiet p50/p99 ms': `${(r.quiet as Lat).p50} / ${(r.quiet as Lat).p99}`, 'max ms': Math.max((r.burst as Lat).max, (r.rest as Lat).max),
    'chat p99 ms': c.p99,
  });
  console.log(`\ntimers bench: ${N} deadlines over ${N} actors, spread over ${SPREAD / 1000} s + ${BURST} within one second; the ${watched} due in the first ${OBSERVE / 1000} s watched; chat ${CHAT} lines/s on the real server meanwhile; 2 cores shared\n`);
  console.log('seeding (creation through the actors, synchronous=FULL):');
  console.table([seed]);
  console.table([row('durable deadlines', ours, oursChat), row('bare setTimeout', bare, bareChat)]);
  const ratio = (a: unknown, b: unknown) => (Number(b) > 0 ? `${round(Number(a) / Number(b), 2)}×` : 'n/a');
  if (invites) {
    console.log('\ninvitations on the real server (invite.send + invite.cancel per round, one in flight per viewer, synchronous=FULL):');
    console.table([invites]);
  }
  console.log(`ours / bare: ready ${ratio(ours.readyMs, bare.readyMs)}, RSS ${ratio(ours.rssMiB, bare.rssMiB)}, rest p99 ${ratio((ours.rest as Lat).p99, (bare.rest as Lat).p99)}, burst p99 ${ratio((ours.burst as Lat).p99, (bare.burst as Lat).p99)}`);
  console.log(`goals: ready < 2 s: ${Number(ours.readyMs) < 2000 ? 'met' : 'not met'}; lateness p99 < 20 ms at normal load (quiet: outside the burst second and the ${5} s after it): ${(ours.quiet as Lat).p99 < 20 ? 'met' : 'not met'}; outside the burst second: ${(ours.rest as Lat).p99 < 20 ? 'met' : 'not met'}`);
  const out = join(ROOT, `bench/results/timers-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), actors: N, spreadSec: SPREAD / 1000, observeSec: OBSERVE / 1000, watched, burst: BURST, chatPerSec: CHAT, seed, ours, oursChat, bare, bareChat, invites }, null, 2));
  console.log(`written ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
