/**
 * npx tsx bench/overload.ts [-- options]   (npm run bench:overload)
 *
 * Overload: what the server does when offered more than it can serve
 * (issue 7, defect 6). Open loop: requests go out on a fixed schedule,
 * whether or not earlier ones were answered, as a crowd of apps does.
 *
 *  1. Capacity. A request mix is offered at a rising rate (--ramp-start,
 *     × --ramp-factor per step, --ramp-seconds each) until a step fails:
 *     goodput < 97 % of offered, < 99 % ok, or ok p99 > --p99-ms. C is the
 *     highest rate that passed (a failing step is tried once more, the
 *     machine is shared). --capacity <req/s> skips the ramp and uses the
 *     given C (to compare two builds at the same absolute load).
 *  2. Steps. --steps × C (default 0.5,1,1.5,2,3,4), each --warmup s and then
 *     --seconds s measured, open loop. Per step: offered and goodput (ok
 *     replies/s received in the window), the share of each outcome (ok,
 *     908 shed, 903 rate limited, 907 timeout in the server, client timeout
 *     after --timeout ms, …), latency of ok replies and of refusals
 *     (908/903), server RSS at the end of the window and its peak over the
 *     step, server CPU, and a bystander: one more user in a process of its
 *     own (bench/lib/overload-bystander.ts, own connection, own event loop)
 *     sending session.whoami every --bystander-ms, its p50/p99/max: the
 *     server's answer time to a light request of an idle user. After each
 *     step the bench waits for the step's requests to settle (drain) and for
 *     the server to answer the bystander fast again (recovery, ≤ --recover s).
 *  3. Baseline. The same steps (same absolute rates) against a bare
 *     uWebSockets.js server (bench/baselines/bare-uws.ts: an empty ok to any
 *     request, same codec, same client): the ceiling of the bench client on
 *     this machine. Ratios ours/bare of goodput are printed.
 *  4. The load client's own CPU (also per request, µs) and event-loop delay
 *     are printed per step: when they are high, the client, not the server,
 *     limits the numbers. The client is made cheap per request so that this
 *     stays rare (bench/lib/load-engine.ts, load-conn.ts): a raw `ws` socket
 *     per user, requests from pre-encoded templates, replies read for
 *     `re`/`ok`/`err.code` only, requests in flight in typed arrays with one
 *     timeout sweep every 100 ms; a 908 costs it what an ok costs.
 *
 * Load: --conns connections (viewers) spread over --rooms rooms, each opened
 * by its host; step k's requests go round-robin over the connections, the op
 * chosen by --mix (weights):
 *   whoami   session.whoami  → the caller's users row (a primary-key read; no actor)
 *   viewers  room.viewers    → the room actor of the caller's room, page 1 of 20 (a few hot actors)
 *   presence presence.query  → the single presence actor, 20 user ids (one global actor)
 *   ping     session.ping    → no actor (the gateway alone), not in the default mix
 * By default the per-connection rate limit is raised (LIVE_RATE_PER_S and
 * LIVE_RATE_BURST = 100000) so that only the server's aggregate capacity is
 * measured; --rate-limit default keeps the server's own (20/s, burst 40).
 * --env KEY=VALUE (repeatable, or comma-separated) passes more settings to our server.
 *
 * Our server runs built (dist/main.js, built from src/ unless --server names
 * another built entry) with LIVE_LOG_LEVEL=warn; its warn/error lines are
 * counted and, if the bench aborts, printed. Results: a table on stdout and
 * bench/results/overload-<date>.json. Not a test: client and server share the machine.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { LiveClient } from '../src/client/index.js';
import { mint, TEST_SECRET } from '../test/helpers/server.js';
import { pool, round, RssSampler, LogTally, sleep } from './lib/load.js';
import { template } from './lib/load-conn.js';
import { LoadEngine } from './lib/load-engine.js';
import { Bystander } from './lib/overload-bystander.js';
import * as O from './lib/overload-options.js';
import { oneLine, printRamp, printRatios, printTarget, rampVerdict, type TargetRun } from './lib/overload-report.js';
import { mib, runStep, type Ctx, type Running, type StepConfig } from './lib/overload-step.js';
import { buildServer, ROOT, startProcess, stopProcess } from './lib/proc.js';

const { CONNS, ROOMS, SECONDS, WARMUP, TIMEOUT_MS, RECOVER_S, RAMP_START, RAMP_FACTOR, RAMP_SECONDS, RAMP_MAX, P99_MS, CAPACITY, STEPS, MIX, MIX_SEQ, MIX_LABEL } = O;
const STEP_CONFIG: StepConfig = { timeoutMs: TIMEOUT_MS, recoverS: RECOVER_S, opNames: MIX.map((m) => O.OP_KINDS[m.kind].op) };

// ---------------------------------------------------------------- targets

const children = new Set<ChildProcess>();
const serverLog = new LogTally();
/** The log ring of bench/lib/proc.ts's startProcess (stdout warn+ lines and stderr). */
let procLogs: { format(): string } | undefined;
let ourEntry: string | undefined;

function track(child: ChildProcess, name: string): () => string | undefined {
  children.add(child);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    children.delete(child);
    exit = `${name} exited (code ${code}, signal ${signal})`;
  });
  return () => exit;
}

async function startOurs(dbDir: string): Promise<Running> {
  ourEntry ??= O.values.server ? (isAbsolute(O.values.server) ? O.values.server : resolve(O.values.server)) : buildServer();
  const env: Record<string, string> = {
    LIVE_HOST: '127.0.0.1',
    LIVE_PORT: '0',
    LIVE_DB_PATH: join(dbDir, 'live.db'),
    LIVE_TOKEN_SECRET: TEST_SECRET,
    LIVE_LOG_LEVEL: 'warn',
    LIVE_ROOM_DEFAULT_SEATS: String(Math.min(10_000, Math.ceil(CONNS / ROOMS) + 10)),
    ...(O.RAISE_RATE_LIMIT ? { LIVE_RATE_PER_S: '100000', LIVE_RATE_BURST: '100000' } : {}),
    ...O.EXTRA_ENV,
  };
  const started = await startProcess(ourEntry, env, O.values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/prof')}`] : [], { onStdoutLine: serverLog.onLine });
  const { child, port } = started;
  procLogs = started.logs;
  const exited = track(child, 'live-room-server');
  return { name: 'live-room-server', pid: child.pid!, port, exited, metricsUrl: `http://127.0.0.1:${port}/metrics`, stop: () => stopProcess(child) };
}

async function startBare(): Promise<Running> {
  const { child, port } = await startProcess('bench/baselines/bare-uws.ts', {});
  const exited = track(child, 'bare uWebSockets.js');
  return { name: 'bare uWebSockets.js', pid: child.pid!, port, exited, metricsUrl: undefined, stop: () => stopProcess(child) };
}

function killChildren(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping the servers`);
    killChildren();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- setup, ramp, steps

async function connectAll(srv: Running): Promise<Ctx> {
  const url = `ws://127.0.0.1:${srv.port}/ws`;
  const seats = Math.min(10_000, Math.ceil(CONNS / ROOMS) + 10);
  const hosts = await pool(ROOMS, 50, async (r) => {
    const c = await LiveClient.connect(url, { token: mint(O.HOST_BASE + r, 'host'), requestTimeoutMs: TIMEOUT_MS });
    const view = (await c.request('room.open', { title: `overload room ${r}`, seatLimit: seats })) as { roomId?: number };
    // The bare server answers anything with an empty ok: there is no room id, any will do.
    return { client: c, roomId: view.roomId ?? r + 1 };
  });
  // Request k of a step goes to connection k mod N, its kind MIX_SEQ[(k + ⌊k/N⌋) mod |MIX_SEQ|]:
  // the op shifts each round so that a connection does not always send the same one.
  const engine = new LoadEngine(MIX.length, (k) => MIX_SEQ[(k + Math.floor(k / CONNS)) % MIX_SEQ.length]!, TIMEOUT_MS);
  const ctx: Ctx = { srv, engine, bystander: undefined as unknown as Bystander, hosts: hosts.map((h) => h.client) };
  try {
    await pool(CONNS, 100, async (i) => {
      const info = { roomId: hosts[i % ROOMS]!.roomId, presenceIds: O.presenceIdsFor(i) };
      const templates = MIX.map((m) => template(O.OP_KINDS[m.kind].op, O.OP_KINDS[m.kind].d(info)));
      await engine.connect(i, url, mint(O.LOAD_BASE + i, 'viewer'), templates);
      const enter = template('room.enter', { roomId: info.roomId });
      let r = await engine.call(i, enter);
      for (let n = 0; !r.ok && r.code === 908 && n < 20; n++) await sleep(200 + Math.random() * 300), (r = await engine.call(i, enter));
      if (!r.ok) throw new Error(`room.enter of load user ${O.LOAD_BASE + i} refused with ${r.code}`);
    });
    if (engine.retries) console.error(`  ${engine.retries} upgrades refused with 503 (908) while connecting, tried again`);
    ctx.bystander = await Bystander.start(url, mint(O.BYSTANDER_ID, 'viewer'), O.BYSTANDER_MS, TIMEOUT_MS);
    track(ctx.bystander.child, 'the bystander');
  } catch (err) {
    closeAll(ctx);
    throw err;
  }
  return ctx;
}

function closeAll(ctx: Ctx): void {
  ctx.engine.dropAll();
  ctx.bystander?.stop();
  for (const h of ctx.hosts) void h.drop().catch(() => {});
}

async function runTarget(which: 'ours' | 'bare', dbDir: string, capacity: { value: number | undefined; clientLimited: boolean }): Promise<TargetRun> {
  const srv = which === 'ours' ? await startOurs(dbDir) : await startBare();
  let ctx: Ctx | undefined;
  try {
    console.error(`${srv.name}: pid ${srv.pid}, port ${srv.port}; connecting ${ROOMS} hosts, ${CONNS} viewers and a bystander (own process)`);
    ctx = await connectAll(srv);
    // Warm the JIT (client and server) at a low rate, not recorded.
    await runStep(ctx, STEP_CONFIG, Math.min(RAMP_START, capacity.value ?? RAMP_START) / 2, 2, 0, 'ramp', null);
    const idleRssMiB = mib(new RssSampler(srv.pid).sample());
    const ramp = [];
    if (capacity.value === undefined) {
      let rate = RAMP_START;
      let retried = false;
      let best = 0;
      while (rate <= RAMP_MAX) {
        console.error(`${srv.name}: ramp ${rate} req/s for ${RAMP_SECONDS} s`);
        const r = await runStep(ctx, STEP_CONFIG, rate, RAMP_SECONDS, WARMUP, 'ramp', null);
        ramp.push(r);
        const v = rampVerdict(r, P99_MS);
        console.error(`  ${oneLine(r)}\n  → ${v.why}`);
        if (v.pass) {
          best = rate;
          retried = false;
          rate = Math.round((rate * RAMP_FACTOR) / 10) * 10;
          continue;
        }
        if (v.clientLimited) {
          capacity.clientLimited = true;
          break;
        }
        if (!retried) {
          retried = true;
          console.error('  (one more try at the same rate: the machine is shared)');
          continue;
        }
        break;
      }
      if (!best) throw new Error(`no ramp step passed (from ${RAMP_START} req/s): lower --ramp-start or raise --p99-ms`);
      capacity.value = best;
      console.error(`${srv.name}: capacity C = ${best} req/s${capacity.clientLimited ? ' (the bench client could not offer more: C is a floor)' : ''}`);
    }
    const C = capacity.value;
    const steps = [];
    for (const mult of STEPS) {
      const rate = Math.round(mult * C);
      const perConn = rate / CONNS;
      if (!O.RAISE_RATE_LIMIT && perConn > 18 && which === 'ours') {
        console.error(`  note: ${round(perConn, 1)} req/s per connection is near or over LIVE_RATE_PER_S (default 20): expect 903`);
      }
      console.error(`${srv.name}: ${mult}×C = ${rate} req/s for ${WARMUP} + ${SECONDS} s`);
      const r = await runStep(ctx, STEP_CONFIG, rate, SECONDS, WARMUP, 'step', mult);
      steps.push(r);
      console.error(`  ${oneLine(r)}`);
    }
    return { target: srv.name, idleRssMiB, ramp, steps };
  } finally {
    if (ctx) closeAll(ctx);
    await srv.stop().catch(() => {});
  }
}

// ---------------------------------------------------------------- report

async function main(): Promise<void> {
  const started = new Date();
  const dbDir = mkdtempSync(join(tmpdir(), 'live-bench-overload-'));
  const capacity = { value: CAPACITY, clientLimited: false };
  const runs: TargetRun[] = [];
  console.error(
    `overload bench: ${CONNS} connections in ${ROOMS} rooms, mix ${MIX_LABEL}; per-connection rate limit ${O.RAISE_RATE_LIMIT ? 'raised to 100000/s' : 'server default'}; ` +
      `client timeout ${TIMEOUT_MS} ms; ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  );
  try {
    // Ours first: it finds C (unless given); the baseline gets the same absolute rates.
    const order = (['ours', 'bare'] as const).filter((t) => O.TARGETS.includes(t));
    if (order[0] === 'bare' && capacity.value === undefined) throw new Error('--targets bare alone needs --capacity');
    for (const t of order) {
      runs.push(await runTarget(t, dbDir, capacity));
      await sleep(1000);
    }
  } catch (err) {
    console.error(`\nbench aborted: ${(err as Error).stack ?? err}`);
    if (procLogs) {
      serverLog.print((s) => console.error(s), false);
      console.error(procLogs.format());
    } else serverLog.print();
    killChildren();
    rmSync(dbDir, { recursive: true, force: true });
    process.exit(1);
  }
  rmSync(dbDir, { recursive: true, force: true });

  const C = capacity.value!;
  console.log(
    `\noverload bench, ${started.toISOString()}: ${CONNS} connections (${ROOMS} rooms), open loop, mix ${MIX_LABEL}\n` +
      `capacity C = ${C} req/s ${CAPACITY !== undefined ? '(given)' : `(ramp from ${RAMP_START} × ${RAMP_FACTOR}, ${RAMP_SECONDS} s each: highest rate with goodput ≥ 97 % of offered, ≥ 99 % ok, ok p99 ≤ ${P99_MS} ms)`}` +
      `${capacity.clientLimited ? ' — the bench client could not offer more, C is a floor' : ''}\n` +
      `steps ${STEPS.join(', ')} × C, ${WARMUP} s warm-up + ${SECONDS} s measured each; bystander: session.whoami every ${O.BYSTANDER_MS} ms on its own connection, in its own process; ` +
      `per-connection rate limit ${O.RAISE_RATE_LIMIT ? 'raised (LIVE_RATE_PER_S=LIVE_RATE_BURST=100000)' : 'server default'}` +
      `${Object.keys(O.EXTRA_ENV).length ? `; env ${Object.entries(O.EXTRA_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`,
  );
  const ramp = runs.find((r) => r.ramp.length)?.ramp ?? [];
  if (ramp.length) printRamp(ramp, P99_MS);
  for (const run of runs) printTarget(run, RECOVER_S);
  const ours = runs.find((r) => r.target === 'live-room-server');
  const bare = runs.find((r) => r.target === 'bare uWebSockets.js');
  const ratios = ours && bare ? printRatios(ours, bare) : [];
  console.log('');
  serverLog.print((s) => console.log(s), false);

  const date = started.toISOString().slice(0, 10);
  let file = O.values.out ? resolve(O.values.out) : join(ROOT, 'bench/results', `overload-${date}.json`);
  if (!O.values.out && existsSync(file)) file = join(ROOT, 'bench/results', `overload-${date}-${started.toISOString().slice(11, 16).replace(':', '')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: started.toISOString(),
        host: { cpus: cpus().length, loadavgAtStart: loadavg() },
        server: ourEntry ?? null,
        conns: CONNS,
        rooms: ROOMS,
        mix: Object.fromEntries(MIX.map((m) => [O.OP_KINDS[m.kind].op, m.weight])),
        rateLimit: O.RAISE_RATE_LIMIT ? 'raised: LIVE_RATE_PER_S=LIVE_RATE_BURST=100000' : 'server default',
        env: O.EXTRA_ENV,
        timeoutMs: TIMEOUT_MS,
        bystanderMs: O.BYSTANDER_MS,
        client: 'raw ws per user, pre-encoded requests, replies read for re/ok/err.code; bystander in its own process',
        seconds: SECONDS,
        warmup: WARMUP,
        capacity: { value: C, given: CAPACITY !== undefined, clientLimited: capacity.clientLimited, rampStart: RAMP_START, rampFactor: RAMP_FACTOR, rampSeconds: RAMP_SECONDS, p99Ms: P99_MS },
        steps: STEPS,
        runs,
        ratios,
        serverLog: { error: serverLog.error, warn: serverLog.warn, byMsg: serverLog.summary(), first: serverLog.first, last: serverLog.tail() },
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`written ${file}`);
  process.exit(0);
}

void main();
