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
 *     step, server CPU, and a bystander: one more connection sending
 *     session.whoami every --bystander-ms, its p50/p99/max. After each step
 *     the bench waits for the step's requests to settle (drain) and for the
 *     server to answer the bystander fast again (recovery, ≤ --recover s).
 *  3. Baseline. The same steps (same absolute rates) against a bare
 *     uWebSockets.js server (bench/baselines/bare-uws.ts: an empty ok to any
 *     request, same codec, same client): the ceiling of the bench client on
 *     this machine. Ratios ours/bare of goodput are printed.
 *  4. The bench client's own CPU and event-loop delay are printed per step:
 *     when they are high, the client, not the server, limits the numbers.
 *
 * Load: --conns connections (viewers) spread over --rooms rooms, each opened
 * by its host; step k's requests go round-robin over the connections, the op
 * chosen by --mix (weights):
 *   whoami   session.whoami  → the caller's user actor (many actors)
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
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { LiveClient, ServerError } from '../src/client/index.js';
import { mint, TEST_SECRET } from '../test/helpers/server.js';
import { Histogram, machineBusyPct, machineTicks, OpenLoop, pool, round, RssSampler, scrapeMetrics, ServerLog, sleep, socketQueues, type SocketQueues } from './lib/load.js';
import { buildServer, cpuMsOf, ROOT, startProcess, stopProcess } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    conns: { type: 'string', default: '400' },
    rooms: { type: 'string', default: '10' },
    mix: { type: 'string', default: 'whoami:5,viewers:3,presence:2' },
    capacity: { type: 'string' },
    'ramp-start': { type: 'string', default: '500' },
    'ramp-factor': { type: 'string', default: '1.25' },
    'ramp-seconds': { type: 'string', default: '3' },
    'ramp-max': { type: 'string', default: '50000' },
    'p99-ms': { type: 'string', default: '100' },
    steps: { type: 'string', default: '0.5,1,1.5,2,3,4' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '10000' },
    recover: { type: 'string', default: '30' },
    'bystander-ms': { type: 'string', default: '100' },
    targets: { type: 'string', default: 'ours,bare' },
    'rate-limit': { type: 'string', default: 'raise' },
    env: { type: 'string', multiple: true, default: [] },
    server: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    'npx tsx bench/overload.ts [--capacity N | --ramp-start 500 --ramp-factor 1.25 --ramp-seconds 3 --p99-ms 100]\n' +
      '  [--steps 0.5,1,1.5,2,3,4] [--seconds 10] [--warmup 1] [--conns 400] [--rooms 10] [--mix whoami:5,viewers:3,presence:2]\n' +
      '  [--timeout 10000] [--recover 30] [--bystander-ms 100] [--targets ours,bare] [--rate-limit raise|default]\n' +
      '  [--env LIVE_X=1 ...] [--server path/to/built/main.js] [--out file.json]\n' +
      'See the comment at the top of bench/overload.ts.',
  );
  process.exit(0);
}

const num = (name: string, v: string | undefined, min = 0): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number ≥ ${min}, got "${v}"`);
  return n;
};
const CONNS = num('conns', values.conns, 1);
const ROOMS = num('rooms', values.rooms, 1);
const SECONDS = num('seconds', values.seconds, 0.5);
const WARMUP = num('warmup', values.warmup);
const TIMEOUT_MS = num('timeout', values.timeout, 100);
const RECOVER_S = num('recover', values.recover);
const BYSTANDER_MS = num('bystander-ms', values['bystander-ms'], 10);
const RAMP_START = num('ramp-start', values['ramp-start'], 1);
const RAMP_FACTOR = num('ramp-factor', values['ramp-factor'], 1.01);
const RAMP_SECONDS = num('ramp-seconds', values['ramp-seconds'], 0.5);
const RAMP_MAX = num('ramp-max', values['ramp-max'], 1);
const P99_MS = num('p99-ms', values['p99-ms'], 1);
const CAPACITY = values.capacity === undefined ? undefined : num('capacity', values.capacity, 1);
const STEPS = values.steps.split(',').map((s) => num('steps', s.trim(), 0.01));
const TARGETS = values.targets.split(',').map((t) => t.trim());
for (const t of TARGETS) if (t !== 'ours' && t !== 'bare') throw new Error(`--targets: ours and/or bare, got "${t}"`);
if (values['rate-limit'] !== 'raise' && values['rate-limit'] !== 'default') throw new Error('--rate-limit: raise or default');
const RAISE_RATE_LIMIT = values['rate-limit'] === 'raise';
if (ROOMS > CONNS) throw new Error('--rooms must not exceed --conns');
const EXTRA_ENV: Record<string, string> = {};
for (const kv of values.env.flatMap((e) => e.split(','))) {
  const eq = kv.indexOf('=');
  if (eq < 1) throw new Error(`--env: expected KEY=VALUE, got "${kv}"`);
  EXTRA_ENV[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
}

// ---------------------------------------------------------------- request mix

const HOST_BASE = 1; // hosts: users 1..ROOMS
const BYSTANDER_ID = 999;
const LOAD_BASE = 1001; // load connections: users 1001..1000+CONNS

interface Conn {
  client: LiveClient;
  roomId: number;
  presenceIds: number[];
}

const OP_KINDS = {
  whoami: { op: 'session.whoami', send: (c: Conn) => c.client.request('session.whoami', {}) },
  viewers: { op: 'room.viewers', send: (c: Conn) => c.client.request('room.viewers', { roomId: c.roomId, page: 1, pageSize: 20 }) },
  presence: { op: 'presence.query', send: (c: Conn) => c.client.request('presence.query', { userIds: c.presenceIds }) },
  ping: { op: 'session.ping', send: (c: Conn) => c.client.request('session.ping', {}) },
} as const;
type OpKind = keyof typeof OP_KINDS;

const MIX: Array<{ kind: OpKind; weight: number }> = values.mix.split(',').map((part) => {
  const [kind, w] = part.split(':').map((s) => s.trim()) as [string, string | undefined];
  if (!(kind in OP_KINDS)) throw new Error(`--mix: unknown op "${kind}" (${Object.keys(OP_KINDS).join(', ')})`);
  return { kind: kind as OpKind, weight: num('mix', w ?? '1', 0) };
});
/** The mix as a repeating sequence, interleaved (smooth weighted round robin) so that each op is spread evenly. */
const MIX_SEQ: OpKind[] = (() => {
  const total = MIX.reduce((a, m) => a + m.weight, 0);
  if (!(total > 0)) throw new Error('--mix: weights must add up to more than 0');
  const scale = MIX.every((m) => Number.isInteger(m.weight)) ? 1 : 100 / total;
  const w = MIX.map((m) => Math.round(m.weight * scale));
  const n = w.reduce((a, b) => a + b, 0);
  const cur = w.map(() => 0);
  const seq: OpKind[] = [];
  for (let k = 0; k < n; k++) {
    let best = 0;
    for (let i = 0; i < w.length; i++) {
      cur[i]! += w[i]!;
      if (cur[i]! > cur[best]!) best = i;
    }
    cur[best]! -= n;
    seq.push(MIX[best]!.kind);
  }
  return seq;
})();
const MIX_LABEL = (() => {
  const total = MIX.reduce((a, m) => a + m.weight, 0);
  return MIX.map((m) => `${OP_KINDS[m.kind].op} ${Math.round((100 * m.weight) / total)} %`).join(', ');
})();

/** 20 distinct user ids for presence.query: load users around this one, some of them never connected. */
function presenceIdsFor(i: number): number[] {
  const ids = new Set<number>();
  for (let j = 0; ids.size < 20; j++) ids.add(LOAD_BASE + ((i + j * 17) % (CONNS + 50)));
  return [...ids];
}

// ---------------------------------------------------------------- targets

interface Running {
  name: string;
  pid: number;
  port: number;
  /** Undefined while the process runs; how it ended otherwise. */
  exited(): string | undefined;
  metricsUrl: string | undefined;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
const serverLog = new ServerLog();
/** The log ring of bench/lib/proc.ts's startProcess (stdout warn+ lines and stderr), when that version provides one. */
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
  ourEntry ??= values.server ? (isAbsolute(values.server) ? values.server : resolve(values.server)) : buildServer();
  const env: Record<string, string> = {
    LIVE_HOST: '127.0.0.1',
    LIVE_PORT: '0',
    LIVE_DB_PATH: join(dbDir, 'live.db'),
    LIVE_TOKEN_SECRET: TEST_SECRET,
    LIVE_LOG_LEVEL: 'warn',
    LIVE_ROOM_DEFAULT_SEATS: String(Math.min(10_000, Math.ceil(CONNS / ROOMS) + 10)),
    ...(RAISE_RATE_LIMIT ? { LIVE_RATE_PER_S: '100000', LIVE_RATE_BURST: '100000' } : {}),
    ...EXTRA_ENV,
  };
  const started = await startProcess(ourEntry, env, [], { onStdoutLine: serverLog.onLine });
  const { child, port } = started;
  procLogs = (started as { logs?: { format(): string } }).logs;
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

// ---------------------------------------------------------------- one step

/** Outcome of one request: 'ok', a server error code ('908', '903', '907', …), 'timeout' (no reply within --timeout), 'closed', 'other'. */
function classify(err: unknown): string {
  if (err instanceof ServerError) return String(err.code);
  const m = err instanceof Error ? err.message : String(err);
  if (m.endsWith('timed out')) return 'timeout';
  if (m.startsWith('connection closed')) return 'closed';
  return 'other';
}

const REFUSALS = new Set(['908', '903']);

interface StepStats {
  sentWarm: number;
  sentMeasured: number;
  skippedClosed: number;
  pending: number;
  okInWindow: number;
  outcomes: Map<string, number>;
  ok: Histogram;
  refusals: Histogram;
  errors: Histogram;
  byOp: Map<OpKind, { sent: number; ok: number; hist: Histogram }>;
  bystander: { sent: number; sentAll: number; pending: number; ok: Histogram; outcomes: Map<string, number> };
  win0: number;
  win1: number;
}

function newStats(): StepStats {
  return {
    sentWarm: 0,
    sentMeasured: 0,
    skippedClosed: 0,
    pending: 0,
    okInWindow: 0,
    outcomes: new Map(),
    ok: new Histogram(),
    refusals: new Histogram(),
    errors: new Histogram(),
    byOp: new Map(MIX.map((m) => [m.kind, { sent: 0, ok: 0, hist: new Histogram() }])),
    bystander: { sent: 0, sentAll: 0, pending: 0, ok: new Histogram(), outcomes: new Map() },
    win0: Infinity,
    win1: Infinity,
  };
}

const inc = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

interface StepResult {
  target: string;
  /** Whether the server has /metrics (ours); the bare baseline has not. */
  srvHasMetrics: boolean;
  phase: 'ramp' | 'step';
  multiplier: number | null;
  targetRate: number;
  windowSec: number;
  offeredPerSec: number;
  goodputPerSec: number;
  sent: number;
  /** Outcomes of the requests sent in the measured window, counted. */
  outcomes: Record<string, number>;
  /** The same as shares of `sent` (%). */
  shares: { ok: number; shed908: number; rateLimited903: number; timeout907: number; clientTimeout: number; other: number };
  okP50: number;
  okP99: number;
  okMax: number;
  refusalP50: number;
  refusalP99: number;
  errorP99: number;
  byOp: Record<string, { sent: number; ok: number; p50: number; p99: number }>;
  bystander: { sent: number; ok: number; p50: number; p99: number; max: number; failed: Record<string, number> };
  serverRssEndMiB: number;
  serverRssPeakMiB: number;
  /** CPU time over the window in % of one core (the machine has cpus().length cores). */
  serverCpuPct: number;
  clientCpuPct: number;
  /** Everything else the machine ran meanwhile (other people's work): the server and client compete with it. */
  othersCpuPct: number;
  clientLoopDelayP99: number;
  clientLoopDelayMax: number;
  pacerLateMaxMs: number;
  /** Where unanswered requests were at the end of the window. */
  queues: {
    /** Requests sent since the step began (warm-up, window and bystander). */
    sentInStep: number;
    pendingAtEnd: number;
    /** Frames the server read / sent since the step began (from /metrics; null when it did not answer within 1 s). */
    serverRead: number | null;
    serverAnswered: number | null;
    clientWsBufferedKiB: number;
    kernel: SocketQueues;
  };
  drainSec: number;
  undrained: number;
  recoverSec: number | null;
  closedConns: number;
}

interface Ctx {
  srv: Running;
  conns: Conn[];
  bystander: LiveClient;
  hosts: LiveClient[];
}

function assertAlive(srv: Running): void {
  const exit = srv.exited();
  if (exit) throw new Error(exit);
}

/** The server's CPU time (ms); if it cannot be read, why (the process ended). */
async function serverCpuMs(srv: Running): Promise<number> {
  try {
    return cpuMsOf(srv.pid);
  } catch (err) {
    await sleep(200); // let the child's exit event arrive
    assertAlive(srv);
    throw new Error(`cannot read the CPU time of ${srv.name} (pid ${srv.pid}): ${(err as Error).message}`);
  }
}

const wsOf = (c: LiveClient) => (c as unknown as { ws: { bufferedAmount: number } }).ws;
const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);

async function metricTotals(url: string | undefined): Promise<{ in: number; out: number } | undefined> {
  if (!url) return undefined;
  const m = await scrapeMetrics(url, 1000);
  if (!m) return undefined;
  return { in: m.get('live_messages_in_total') ?? 0, out: m.get('live_messages_out_total') ?? 0 };
}

async function runStep(ctx: Ctx, rate: number, seconds: number, warmup: number, phase: 'ramp' | 'step', multiplier: number | null): Promise<StepResult> {
  const { srv, conns, bystander } = ctx;
  const s = newStats();
  let measuring = false;
  const N = conns.length;
  const rss = new RssSampler(srv.pid, 200).start();

  const send = (k: number) => {
    const i = k % N;
    const conn = conns[i]!;
    // Shift the op each round so that a connection does not always send the same one.
    const kind = MIX_SEQ[(k + Math.floor(k / N)) % MIX_SEQ.length]!;
    if (conn.client.closed) return void s.skippedClosed++;
    const m = measuring;
    if (m) s.sentMeasured++;
    else s.sentWarm++;
    const op = s.byOp.get(kind)!;
    if (m) op.sent++;
    s.pending++;
    const t = performance.now();
    const settle = (outcome: string) => {
      const now = performance.now();
      s.pending--;
      if (outcome === 'ok' && now >= s.win0 && now < s.win1) s.okInWindow++;
      if (!m) return;
      inc(s.outcomes, outcome);
      const lat = now - t;
      if (outcome === 'ok') {
        s.ok.add(lat);
        op.ok++;
        op.hist.add(lat);
      } else if (REFUSALS.has(outcome)) s.refusals.add(lat);
      else s.errors.add(lat);
    };
    OP_KINDS[kind].send(conn).then(
      () => settle('ok'),
      (err: unknown) => settle(classify(err)),
    );
  };

  const by = s.bystander;
  const poke = () => {
    if (bystander.closed) return;
    const m = measuring;
    if (m) by.sent++;
    by.sentAll++;
    by.pending++;
    const t = performance.now();
    bystander.request('session.whoami', {}).then(
      () => {
        by.pending--;
        if (m) by.ok.add(performance.now() - t);
      },
      (err: unknown) => {
        by.pending--;
        if (m) inc(by.outcomes, classify(err));
      },
    );
  };

  const before = await metricTotals(srv.metricsUrl);
  const loop = new OpenLoop(rate, send).start();
  const byTimer = setInterval(poke, BYSTANDER_MS);
  await sleep(warmup * 1000);

  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpu0 = await serverCpuMs(srv);
  const bench0 = process.cpuUsage();
  const machine0 = machineTicks();
  const lateBefore = loop.lateMax;
  measuring = true;
  s.win0 = performance.now();
  await sleep(seconds * 1000);
  s.win1 = performance.now();
  measuring = false;
  loop.stop();
  clearInterval(byTimer);
  const windowMs = s.win1 - s.win0;
  const bench = process.cpuUsage(bench0);
  const cpu1 = await serverCpuMs(srv);
  const machinePct = machineBusyPct(machine0, machineTicks(), cpus().length);
  eld.disable();
  const rssEnd = rss.sample();
  const kernel = socketQueues(srv.port);
  const buffered = conns.reduce((a, c) => a + (c.client.closed ? 0 : wsOf(c.client).bufferedAmount), 0);
  const pendingAtEnd = s.pending;
  const sentInStep = s.sentWarm + s.sentMeasured + by.sentAll;
  const after = await metricTotals(srv.metricsUrl);
  assertAlive(srv);

  // Drain: every request of this step answered or timed out in the client.
  const drainUntil = performance.now() + TIMEOUT_MS + 2000;
  while ((s.pending > 0 || by.pending > 0) && performance.now() < drainUntil) {
    await sleep(50);
    assertAlive(srv);
  }
  const drainSec = (performance.now() - s.win1) / 1000;
  // Recovery: the bystander is answered within 50 ms three times in a row.
  let recoverSec: number | null = null;
  const recoverUntil = performance.now() + RECOVER_S * 1000;
  let fast = 0;
  while (performance.now() < recoverUntil && !bystander.closed) {
    const t = performance.now();
    const ok = await bystander.request('session.whoami', {}).then(
      () => true,
      () => false,
    );
    fast = ok && performance.now() - t < 50 ? fast + 1 : 0;
    if (fast >= 3) {
      recoverSec = (performance.now() - s.win1) / 1000;
      break;
    }
    await sleep(50);
    assertAlive(srv);
  }
  rss.sample();
  rss.stop();

  const sent = s.sentMeasured;
  const share = (n: number) => (sent ? round((100 * n) / sent, 2) : 0);
  const o = (k: string) => s.outcomes.get(k) ?? 0;
  const serverCpuPct = Math.round((100 * (cpu1 - cpu0)) / windowMs);
  const clientCpuPct = Math.round((100 * (bench.user + bench.system)) / 1000 / windowMs);
  const known = o('ok') + o('908') + o('903') + o('907') + o('timeout');
  return {
    target: srv.name,
    srvHasMetrics: srv.metricsUrl !== undefined,
    phase,
    multiplier,
    targetRate: rate,
    windowSec: round(windowMs / 1000),
    offeredPerSec: Math.round((sent * 1000) / windowMs),
    goodputPerSec: Math.round((s.okInWindow * 1000) / windowMs),
    sent,
    outcomes: Object.fromEntries([...s.outcomes].sort((a, b) => b[1] - a[1])),
    shares: {
      ok: share(o('ok')),
      shed908: share(o('908')),
      rateLimited903: share(o('903')),
      timeout907: share(o('907')),
      clientTimeout: share(o('timeout')),
      other: share(sent - known),
    },
    okP50: round(s.ok.percentile(50)),
    okP99: round(s.ok.percentile(99)),
    okMax: round(s.ok.max),
    refusalP50: round(s.refusals.percentile(50)),
    refusalP99: round(s.refusals.percentile(99)),
    errorP99: round(s.errors.percentile(99)),
    byOp: Object.fromEntries(
      [...s.byOp].map(([kind, v]) => [OP_KINDS[kind].op, { sent: v.sent, ok: v.ok, p50: round(v.hist.percentile(50)), p99: round(v.hist.percentile(99)) }]),
    ),
    bystander: {
      sent: by.sent,
      ok: by.ok.count,
      p50: round(by.ok.percentile(50)),
      p99: round(by.ok.percentile(99)),
      max: round(by.ok.max),
      failed: Object.fromEntries(by.outcomes),
    },
    serverRssEndMiB: mib(rssEnd),
    serverRssPeakMiB: mib(rss.peak),
    serverCpuPct,
    clientCpuPct,
    othersCpuPct: Math.max(0, machinePct - serverCpuPct - clientCpuPct),
    // The histogram counts the 10 ms sampling interval itself: only what exceeds it is delay.
    clientLoopDelayP99: round(Math.max(0, eld.percentile(99) / 1e6 - 10)),
    clientLoopDelayMax: round(Math.max(0, eld.max / 1e6 - 10)),
    pacerLateMaxMs: round(Math.max(lateBefore, loop.lateMax)),
    queues: {
      sentInStep,
      pendingAtEnd,
      serverRead: before && after ? after.in - before.in : null,
      serverAnswered: before && after ? after.out - before.out : null,
      clientWsBufferedKiB: round(buffered / 1024, 1),
      kernel,
    },
    drainSec: round(drainSec),
    undrained: s.pending,
    recoverSec: recoverSec === null ? null : round(recoverSec),
    closedConns: conns.filter((c) => c.client.closed).length,
  };
}

// ---------------------------------------------------------------- setup, ramp, steps

async function connectAll(srv: Running): Promise<Ctx> {
  const url = `ws://127.0.0.1:${srv.port}/ws`;
  const opts = (userId: number, role: 'host' | 'viewer') => ({ token: mint(userId, role), requestTimeoutMs: TIMEOUT_MS });
  const seats = Math.min(10_000, Math.ceil(CONNS / ROOMS) + 10);
  const hosts = await pool(ROOMS, 50, async (r) => {
    const c = await LiveClient.connect(url, opts(HOST_BASE + r, 'host'));
    const view = (await c.request('room.open', { title: `overload room ${r}`, seatLimit: seats })) as { roomId?: number };
    // The bare server answers anything with an empty ok: there is no room id, any will do.
    return { client: c, roomId: view.roomId ?? r + 1 };
  });
  const conns = await pool(CONNS, 100, async (i): Promise<Conn> => {
    const roomId = hosts[i % ROOMS]!.roomId;
    const client = await LiveClient.connect(url, opts(LOAD_BASE + i, 'viewer'));
    await client.request('room.enter', { roomId });
    return { client, roomId, presenceIds: presenceIdsFor(i) };
  });
  const bystander = await LiveClient.connect(url, opts(BYSTANDER_ID, 'viewer'));
  return { srv, conns, bystander, hosts: hosts.map((h) => h.client) };
}

function closeAll(ctx: Ctx): void {
  for (const c of ctx.conns) void c.client.drop().catch(() => {});
  void ctx.bystander.drop().catch(() => {});
  for (const h of ctx.hosts) void h.drop().catch(() => {});
}

function rampVerdict(r: StepResult): { pass: boolean; clientLimited: boolean; why: string } {
  const why: string[] = [];
  const clientLimited = r.offeredPerSec < 0.97 * r.targetRate;
  if (clientLimited) why.push(`client sent only ${r.offeredPerSec}/s`);
  if (r.goodputPerSec < 0.97 * r.offeredPerSec) why.push(`goodput ${r.goodputPerSec}/s < 97 % of offered`);
  if (r.shares.ok < 99) why.push(`ok ${r.shares.ok} %`);
  if (r.okP99 > P99_MS) why.push(`ok p99 ${r.okP99} ms > ${P99_MS} ms`);
  return { pass: why.length === 0, clientLimited, why: why.join('; ') || 'pass' };
}

function oneLine(r: StepResult): string {
  const other = Object.entries(r.outcomes)
    .filter(([k]) => k !== 'ok')
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
  return (
    `offered ${r.offeredPerSec}/s, goodput ${r.goodputPerSec}/s, ok ${r.shares.ok} %${other ? ` (${other})` : ''}, ` +
    `ok p50/p99 ${r.okP50}/${r.okP99} ms, bystander p99 ${r.bystander.p99} ms, RSS ${r.serverRssEndMiB}/${r.serverRssPeakMiB} MiB, ` +
    `server CPU ${r.serverCpuPct} %, client CPU ${r.clientCpuPct} %, others ${r.othersCpuPct} %, loop p99 ${r.clientLoopDelayP99} ms, pending at end ${r.queues.pendingAtEnd}, ` +
    `recovered ${r.recoverSec === null ? 'no' : `${r.recoverSec} s`}`
  );
}

interface TargetRun {
  target: string;
  idleRssMiB: number;
  ramp: StepResult[];
  steps: StepResult[];
}

async function runTarget(which: 'ours' | 'bare', dbDir: string, capacity: { value: number | undefined; clientLimited: boolean }): Promise<TargetRun> {
  const srv = which === 'ours' ? await startOurs(dbDir) : await startBare();
  let ctx: Ctx | undefined;
  try {
    console.error(`${srv.name}: pid ${srv.pid}, port ${srv.port}; connecting ${ROOMS} hosts, ${CONNS} viewers and a bystander`);
    ctx = await connectAll(srv);
    // Warm the JIT (client and server) at a low rate, not recorded.
    await runStep(ctx, Math.min(RAMP_START, capacity.value ?? RAMP_START) / 2, 2, 0, 'ramp', null);
    const idleRssMiB = mib(new RssSampler(srv.pid).sample());
    const ramp: StepResult[] = [];
    if (capacity.value === undefined) {
      let rate = RAMP_START;
      let retried = false;
      let best = 0;
      while (rate <= RAMP_MAX) {
        console.error(`${srv.name}: ramp ${rate} req/s for ${RAMP_SECONDS} s`);
        const r = await runStep(ctx, rate, RAMP_SECONDS, WARMUP, 'ramp', null);
        ramp.push(r);
        const v = rampVerdict(r);
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
    const steps: StepResult[] = [];
    for (const mult of STEPS) {
      const rate = Math.round(mult * C);
      const perConn = rate / CONNS;
      if (!RAISE_RATE_LIMIT && perConn > 18 && which === 'ours') {
        console.error(`  note: ${round(perConn, 1)} req/s per connection is near or over LIVE_RATE_PER_S (default 20): expect 903`);
      }
      console.error(`${srv.name}: ${mult}×C = ${rate} req/s for ${WARMUP} + ${SECONDS} s`);
      const r = await runStep(ctx, rate, SECONDS, WARMUP, 'step', mult);
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

const pct = (x: number) => (x ? `${x} %` : '0');

function table(run: TargetRun): void {
  console.log(`\n${run.target} (idle RSS after connecting and warm-up: ${run.idleRssMiB} MiB)`);
  console.table(
    run.steps.map((r) => ({
      step: `${r.multiplier}×C`,
      'offered/s': r.offeredPerSec,
      'goodput/s': r.goodputPerSec,
      ok: pct(r.shares.ok),
      'shed 908': pct(r.shares.shed908),
      'limited 903': pct(r.shares.rateLimited903),
      'srv t/o 907': pct(r.shares.timeout907),
      'client t/o': pct(r.shares.clientTimeout),
      other: pct(r.shares.other),
      'ok p50/p99 ms': `${r.okP50} / ${r.okP99}`,
      'refusal p99 ms': r.refusalP99 || '-',
      'bystander p50/p99/max ms': `${r.bystander.p50} / ${r.bystander.p99} / ${r.bystander.max}${Object.keys(r.bystander.failed).length ? ` (${Object.entries(r.bystander.failed).map(([k, n]) => `${n}×${k}`).join(' ')})` : ''}`,
      'RSS end/peak MiB': `${r.serverRssEndMiB} / ${r.serverRssPeakMiB}`,
      'server CPU': `${r.serverCpuPct} %`,
      'client CPU': `${r.clientCpuPct} %`,
      'others CPU': `${r.othersCpuPct} %`,
      'client loop p99/max ms': `${r.clientLoopDelayP99} / ${r.clientLoopDelayMax}`,
      'recover s': r.recoverSec ?? `>${RECOVER_S}`,
    })),
  );
  console.log(`${run.target}: where the unanswered requests were at the end of each window`);
  console.table(
    run.steps.map((r) => ({
      step: `${r.multiplier}×C`,
      'sent (step)': r.queues.sentInStep,
      'server read': r.queues.serverRead ?? (r.srvHasMetrics ? 'no answer' : 'n/a'),
      'server answered': r.queues.serverAnswered ?? '-',
      'unanswered at end': r.queues.pendingAtEnd,
      'client ws buffer KiB': r.queues.clientWsBufferedKiB,
      'kernel → server KiB': round(r.queues.kernel.serverRecvQ / 1024, 1),
      'kernel → client KiB': round(r.queues.kernel.clientRecvQ / 1024, 1),
      'drain s': r.drainSec,
      'ok p99 by op ms': Object.entries(r.byOp)
        .map(([op, v]) => `${op.split('.')[1]} ${v.p99}`)
        .join(', '),
    })),
  );
}

async function main(): Promise<void> {
  const started = new Date();
  const dbDir = mkdtempSync(join(tmpdir(), 'live-bench-overload-'));
  const capacity = { value: CAPACITY, clientLimited: false };
  const runs: TargetRun[] = [];
  console.error(
    `overload bench: ${CONNS} connections in ${ROOMS} rooms, mix ${MIX_LABEL}; per-connection rate limit ${RAISE_RATE_LIMIT ? 'raised to 100000/s' : 'server default'}; ` +
      `client timeout ${TIMEOUT_MS} ms; ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  );
  try {
    // Ours first: it finds C (unless given); the baseline gets the same absolute rates.
    const order = (['ours', 'bare'] as const).filter((t) => TARGETS.includes(t));
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
      `steps ${STEPS.join(', ')} × C, ${WARMUP} s warm-up + ${SECONDS} s measured each; bystander: session.whoami every ${BYSTANDER_MS} ms on its own connection; ` +
      `per-connection rate limit ${RAISE_RATE_LIMIT ? 'raised (LIVE_RATE_PER_S=LIVE_RATE_BURST=100000)' : 'server default'}` +
      `${Object.keys(EXTRA_ENV).length ? `; env ${Object.entries(EXTRA_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`,
  );
  const ramp = runs.find((r) => r.ramp.length)?.ramp ?? [];
  if (ramp.length) {
    console.log('\ncapacity ramp (live-room-server)');
    console.table(
      ramp.map((r) => ({
        'target/s': r.targetRate,
        'offered/s': r.offeredPerSec,
        'goodput/s': r.goodputPerSec,
        ok: pct(r.shares.ok),
        'ok p50/p99 ms': `${r.okP50} / ${r.okP99}`,
        'server CPU': `${r.serverCpuPct} %`,
        'client CPU': `${r.clientCpuPct} %`,
        'others CPU': `${r.othersCpuPct} %`,
        verdict: rampVerdict(r).why,
      })),
    );
  }
  for (const run of runs) table(run);
  const ours = runs.find((r) => r.target === 'live-room-server');
  const bare = runs.find((r) => r.target === 'bare uWebSockets.js');
  const ratios: Array<Record<string, unknown>> = [];
  if (ours && bare) {
    for (let i = 0; i < ours.steps.length; i++) {
      const a = ours.steps[i]!;
      const b = bare.steps[i]!;
      ratios.push({
        step: `${a.multiplier}×C`,
        'offered/s': a.offeredPerSec,
        'goodput ours/s': a.goodputPerSec,
        'goodput bare/s': b.goodputPerSec,
        'goodput ours/bare': b.goodputPerSec ? `${round(a.goodputPerSec / b.goodputPerSec)}×` : 'n/a',
        'ok p99 ours/bare ms': `${a.okP99} / ${b.okP99}`,
        'client CPU ours/bare': `${a.clientCpuPct} % / ${b.clientCpuPct} %`,
      });
    }
    console.log('\nours / bare (same offered load)');
    console.table(ratios);
  }
  console.log('');
  serverLog.print((s) => console.log(s), false);

  const date = started.toISOString().slice(0, 10);
  let file = values.out ? resolve(values.out) : join(ROOT, 'bench/results', `overload-${date}.json`);
  if (!values.out && existsSync(file)) file = join(ROOT, 'bench/results', `overload-${date}-${started.toISOString().slice(11, 16).replace(':', '')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: started.toISOString(),
        host: { cpus: cpus().length, loadavgAtStart: loadavg() },
        server: ourEntry ?? null,
        conns: CONNS,
        rooms: ROOMS,
        mix: Object.fromEntries(MIX.map((m) => [OP_KINDS[m.kind].op, m.weight])),
        rateLimit: RAISE_RATE_LIMIT ? 'raised: LIVE_RATE_PER_S=LIVE_RATE_BURST=100000' : 'server default',
        env: EXTRA_ENV,
        timeoutMs: TIMEOUT_MS,
        bystanderMs: BYSTANDER_MS,
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
