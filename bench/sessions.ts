/**
 * npm run bench:sessions [-- --clients 10000 --concurrency 256 --procs auto --addrs auto --repeat 1]
 *
 * N clients connect, log in (welcome received) and send one heartbeat
 * (session.ping) each against (a) the live room server (dist/, built from
 * src/) and (b) a bare uWebSockets.js server (bench/baselines/bare-uws.ts)
 * with the same client code, in the same run. Prints connections/s, login
 * and heartbeat latency, server RSS per connection, server CPU, and
 * ours/bare ratios. Not a test: numbers depend on the machine (and on who
 * else uses its cores: use --repeat and read the spread); results go to
 * bench/results/sessions-<date>T<hhmmss>-<N>.json.
 *
 * Client layout. The clients run in --procs child processes
 * (bench/lib/session-clients.ts), the --concurrency connects in flight split
 * between them; `auto` is the fewest processes whose sockets fit in one
 * process's descriptor limit (1 up to ~19,700 clients with `ulimit -n` 20000).
 * On the 2-core dev box no layout makes the server the bottleneck (2026-11-24):
 * one client process saturates its core (~100 % CPU) while the bare server
 * uses 10-25 % and ours 30-65 % of one; three processes take both cores and
 * starve the server instead. So conn/s there is a client ceiling: read the
 * "server CPU per connection" line (robust to other load), and on a bigger
 * host give the clients their own cores: --procs 2..4 with --server-cpus 0
 * --client-cpus 1-3 (taskset lists).
 * Every connection binds a source address 127.<run>.0.<k> (k = 1..--addrs,
 * clients spread round-robin; `auto` = one address per 10,000 clients), so
 * loopback's ~28k ephemeral ports per source address never run out at 50k,
 * and each run (target × repetition) uses fresh addresses, so the previous
 * run's sockets in TIME_WAIT are not in the way. --addrs 0 lets the kernel
 * pick (127.0.0.1: fine up to ~14k clients once).
 *
 * Descriptors. Each server needs one per connection (~N + 100) and each
 * client process one per client: the bench raises children's soft
 * RLIMIT_NOFILE up to the hard limit and refuses to start when the hard
 * limit is too low (for 50,000 clients: `ulimit -Hn` ≥ 51,000 for the shell
 * running the bench, which takes root / CAP_SYS_RESOURCE, or
 * LimitNOFILE= / docker --ulimit nofile=…).
 *
 * Memory. Servers run with bench/lib/server-probe.mjs preloaded: after the
 * warm-up and again with N connected, the bench asks the server for
 * process.memoryUsage() after a full GC, so the JS heap per connection
 * (live objects) and the rest (RSS − V8 heap: uWS native sockets, malloc)
 * are reported besides raw RSS per connection. --heap also writes heap
 * snapshots of our server (idle and loaded) to --heap-dir (default under the
 * OS temp dir: they are large) and prints their difference by component and
 * kind (bench/lib/heap-summary.ts), saved as
 * bench/results/sessions-heap-<date>-<N>.{txt,json}; RSS figures of such a
 * run include the snapshot writer's memory.
 *
 * Aborts. A client that fails to connect, log in or answer, a connection
 * the server closes (e.g. 1011 when a login cannot be recorded), a server
 * that exits, or a phase over --timeout seconds stops the bench with the
 * server's last warn/error log lines and stderr.
 *
 * --server-dir <dir> builds and runs the server of another checkout (e.g. a
 * `git archive` of a commit) while the clients and the bare baseline come
 * from this one; --profile writes a V8 CPU profile of our server to
 * bench/results/prof/.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { LiveClient } from '../src/client/index.js';
import { formatHeapDiff, heapDiff, readHeapSnapshot, summarize } from './lib/heap-summary.js';
import {
  buildServer,
  cpuMsOf,
  fdsOf,
  machineCpuMs,
  nofileLimits,
  percentile,
  probe,
  PROBE_ARGS,
  ROOT,
  rssOf,
  rssSplitOf,
  spawnNode,
  startProcess,
  stopProcess,
  type ServerLog,
} from './lib/proc.js';
import { benchToken, type FromClients, type PhaseReport, type ToClients } from './lib/session-clients.js';
import { sleep } from './lib/load.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '256' },
    procs: { type: 'string', default: 'auto' },
    addrs: { type: 'string', default: 'auto' },
    targets: { type: 'string', default: 'ours,bare' },
    repeat: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '300' },
    // Before each run, wait (up to --quiet-wait s) until the machine's cores are busy less than this (% of one core, everything counted).
    quiet: { type: 'string', default: '50' },
    'quiet-wait': { type: 'string', default: '60' },
    // Pairs whose connect phase saw other processes above this (% of a core) are also summarized without them.
    'max-other': { type: 'string', default: '30' },
    // CPU pinning (taskset lists), e.g. --server-cpus 0 --client-cpus 1: our clients then cannot take the server's core.
    'server-cpus': { type: 'string' },
    'client-cpus': { type: 'string' },
    'server-dir': { type: 'string' },
    heap: { type: 'boolean', default: false },
    // Where --heap writes its .heapsnapshot files (tens to hundreds of MB each): not bench/results/.
    'heap-dir': { type: 'string' },
    // Extra environment for our server, e.g. --env LIVE_DB_SYNCHRONOUS=NORMAL (repeatable).
    env: { type: 'string', multiple: true, default: [] },
    // Writes a V8 CPU profile of our server to bench/results/prof/ (open in Chrome DevTools).
    profile: { type: 'boolean', default: false },
    // After the heartbeat, stay connected this long (s), heartbeat again and measure memory once more: the
    // steady state of idle connections.
    settle: { type: 'string', default: '0' },
  },
});
const N = Number(values.clients);
const SETTLE = Number(values.settle);
if (!(SETTLE >= 0)) throw new Error(`--settle must be a number of seconds ≥ 0, got ${values.settle}`);
const CONCURRENCY = Number(values.concurrency);
const REPEAT = Number(values.repeat);
const TIMEOUT_MS = Number(values.timeout) * 1000;
const MAX_OTHER = Number(values['max-other']);
const SECRET = 'bench-secret-0123456789-0123456789-abcdef';
const WARMUP = 50;
const FD_SLACK = 256;
const limits = nofileLimits();
const PROCS = values.procs === 'auto' ? Math.max(1, Math.ceil(N / (limits.hard - FD_SLACK))) : Number(values.procs);
const ADDRS = values.addrs === 'auto' ? Math.max(1, Math.ceil(N / 10_000)) : Number(values.addrs);
const firstOctet = 1 + Math.floor(Math.random() * 200);
let runNo = 0;

class BenchAbort extends Error {}

interface Memory {
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  heap: { malloced_memory: number };
  spaces: Array<{ name: string; size: number; used: number }>;
}

interface Result {
  target: string;
  rep: number;
  clients: number;
  procs: number;
  addrs: number;
  connectPerSec: number;
  loginP50: number;
  loginP99: number;
  loginMax: number;
  pingP50: number;
  pingP99: number;
  /** RSS growth from idle (after the warm-up and a GC) to after the heartbeats (no GC), per connection: what earlier runs reported (their idle had no GC). */
  rssPerConnKiB: number;
  /** The same with a full GC before the loaded reading too. */
  rssPerConnGcKiB: number;
  /** With --settle: after the wait and a second heartbeat, RSS and live JS heap growth per connection (after a GC). */
  settled?: { afterSec: number; rssPerConnKiB: number; heapLivePerConnB: number };
  rssIdleMiB: number;
  rssLoadedMiB: number;
  rssPeakMiB: number;
  /** After a full GC in the server: live JS heap growth per connection, and RSS growth outside the V8 heap. */
  heapLivePerConnB: number;
  outsideHeapPerConnB: number;
  /** The same growth by where it is resident: brk = main-thread malloc ([heap]: uWS, SQLite), anon = V8 pages and mmaps, external = ArrayBuffers & co. */
  residentPerConnB: { brk: number; anon: number; file: number; external: number; v8malloc: number };
  /**
   * Growth of each V8 heap space from idle to loaded (after GCs), MiB: committed (`size`) and live (`used`).
   * The new space grows with the allocation rate, not with the connections: it is not per-connection memory.
   */
  heapSpacesMiB: Record<string, { size: number; used: number }>;
  serverCpuMs: number;
  /** Server and (all) client processes' CPU during the connect phase, % of one core. */
  serverCpuConnectPct: number;
  clientCpuConnectPct: number;
  clientLoopP99Ms: number;
  /**
   * CPU used during the connect phase by every other process on the machine
   * (other engineers' jobs, this bench's parent), and by softirq (loopback
   * TCP), % of one core: the noise floor of the run.
   */
  otherCpuConnectPct: number;
  softirqConnectPct: number;
  load1: number;
  /** Machine CPU busy (% of one core) in the second before the connect phase started (see --quiet). */
  busyBeforePct: number;
  serverFds: number;
  serverSide?: Record<string, number>;
  serverLog: { warn: number; error: number };
}

/** Rejects when something that must stop the bench happens; run() races every wait against it. */
class Guard {
  private rejectFn!: (e: Error) => void;
  readonly failed = new Promise<never>((_, reject) => (this.rejectFn = reject));
  constructor() {
    this.failed.catch(() => {});
  }
  fail(message: string): void {
    this.rejectFn(new BenchAbort(message));
  }
  async race<T>(what: string, p: Promise<T>, timeoutMs = TIMEOUT_MS): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BenchAbort(`${what}: not done after ${timeoutMs / 1000} s (--timeout)`)), timeoutMs);
    });
    try {
      return await Promise.race([p, this.failed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

interface ClientProc {
  child: ChildProcess;
  logs: ServerLog;
  /** Resolves with the next message of that kind. */
  next<E extends FromClients['ev']>(ev: E): Promise<Extract<FromClients, { ev: E }>>;
  send(m: ToClients): void;
}

function startClients(guard: Guard, url: string, addrs: string[]): ClientProc[] {
  const per = Math.ceil(N / PROCS);
  const procs: ClientProc[] = [];
  for (let p = 0; p < PROCS; p++) {
    const first = p * per;
    const count = Math.min(per, N - first);
    if (count <= 0) break;
    const { child, logs } = spawnNode('bench/lib/session-clients.ts', {}, [], { nofile: count + FD_SLACK, cpus: values['client-cpus'] });
    const waiting = new Map<string, (m: FromClients) => void>();
    let stopping = false;
    child.on('message', (m: FromClients) => {
      if (m.ev === 'fail') guard.fail(`client user ${m.userId} failed to ${m.phase}: ${m.error}${m.code !== undefined ? ` (code ${m.code})` : ''}`);
      else if (m.ev === 'closed') guard.fail(`the server closed user ${m.userId}'s connection: ${m.code} ${m.reason}${m.code === 1011 ? ' (1011: internal error, e.g. the login could not be recorded)' : ''}`);
      const w = waiting.get(m.ev);
      if (w) {
        waiting.delete(m.ev);
        w(m);
      }
    });
    child.once('exit', (code, signal) => {
      if (!stopping) guard.fail(`client process ${p} exited with ${signal ?? code}\n${logs.format()}`);
    });
    procs.push({
      child,
      logs,
      next: (ev) => new Promise((resolve) => waiting.set(ev, resolve as (m: FromClients) => void)),
      send: (m) => {
        if (m.cmd === 'drop') stopping = true;
        child.send(m);
      },
    });
    child.send({
      cmd: 'init',
      url,
      firstUser: first + 1,
      count,
      addrs,
      concurrency: Math.max(1, Math.ceil(CONCURRENCY / PROCS)),
      timeoutMs: 60_000,
      secret: SECRET,
    } satisfies ToClients);
  }
  return procs;
}

let current: { name: string; logs: ServerLog; stop(): Promise<void> } | undefined;

async function run(target: 'ours' | 'bare', rep: number, entry: string, env: Record<string, string>, nodeArgs: string[], heapDir?: string): Promise<Result> {
  const name = target === 'ours' ? 'live-room-server' : 'bare uWebSockets.js';
  const guard = new Guard();
  const octet = 1 + ((firstOctet + runNo++) % 254);
  const addrs = Array.from({ length: ADDRS }, (_, k) => `127.${octet}.${Math.floor(k / 250)}.${1 + (k % 250)}`);
  const { child, port, logs } = await startProcess(entry, env, [...PROBE_ARGS, ...nodeArgs], { nofile: N + WARMUP + FD_SLACK, cpus: values['server-cpus'] });
  const pid = child.pid!;
  let clients: ClientProc[] = [];
  let serverStopping = false;
  child.once('exit', (code, signal) => {
    if (!serverStopping) guard.fail(`${name} exited with ${signal ?? code} during the run`);
  });
  current = {
    name,
    logs,
    stop: async () => {
      serverStopping = true;
      for (const c of clients) c.send({ cmd: 'drop' });
      for (const c of clients) c.child.kill();
      await stopProcess(child);
    },
  };
  const url = `ws://127.0.0.1:${port}/ws`;

  console.error(`${name} [run ${rep + 1}/${REPEAT}]: ${N} clients in ${PROCS} process(es), source addresses ${ADDRS ? `${addrs[0]}…(${ADDRS})` : 'kernel-chosen'}`);
  clients = startClients(guard, url, addrs);
  await guard.race('minting tokens', Promise.all(clients.map((c) => c.next('ready'))));

  // Warm up the JIT and the database (users N+1…N+50), then measure from a settled baseline.
  const warm = await guard.race('warm-up', Promise.all(Array.from({ length: WARMUP }, (_, i) => LiveClient.connect(url, { token: benchToken(SECRET, N + 1 + i) }))));
  await guard.race('warm-up', Promise.all(warm.map((c) => c.request('session.ping', {}).then(() => c.close()))));
  // The idle baseline is taken after a full GC in the server, so the warm-up's garbage is not in it.
  const memIdle = await guard.race('memory probe', probe<Memory>(child, 'gc'));
  await new Promise((r) => setTimeout(r, 200));
  const rssBefore = rssOf(pid);
  const splitIdle = rssSplitOf(pid);
  if (heapDir) await snapshot(child, guard, join(heapDir, `${target}-idle.heapsnapshot`));
  const cpuBefore = cpuMsOf(pid);

  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, rssOf(pid));
    } catch {
      /* exited: the guard reports it */
    }
  }, 250);
  try {
    const busyBeforePct = await waitForQuiet(Number(values.quiet), Number(values['quiet-wait']) * 1000);
    console.error(`${name}: connecting ${N} clients (machine busy ${busyBeforePct} % of a core just before)`);
    const load1 = loadavg()[0]!;
    const machine0 = machineCpuMs();
    const clientCpu0 = clients.map((c) => cpuMsOf(c.child.pid!));
    const started = performance.now();
    for (const c of clients) c.send({ cmd: 'connect' });
    const connected = await guard.race('connect', Promise.all(clients.map((c) => c.next('connected'))));
    const connectMs = performance.now() - started;
    const cpuConnected = cpuMsOf(pid);
    const machine1 = machineCpuMs();
    const ownCpu = cpuConnected - cpuBefore + clients.reduce((a, c, i) => a + cpuMsOf(c.child.pid!) - clientCpu0[i]!, 0);

    console.error(`${name}: ${N} connected in ${(connectMs / 1000).toFixed(1)} s; heartbeat`);
    for (const c of clients) c.send({ cmd: 'ping' });
    const pinged = await guard.race('heartbeat', Promise.all(clients.map((c) => c.next('pinged'))));
    const rssAfter = rssOf(pid);
    const cpu = cpuMsOf(pid) - cpuBefore;
    const memLoaded = await guard.race('memory probe', probe<Memory>(child, 'gc'));
    const splitLoaded = rssSplitOf(pid);
    const serverFds = fdsOf(pid);
    const serverSide = target === 'ours' ? await scrapeMetrics(port) : undefined;
    if (serverSide && serverSide.live_ws_connections !== N) {
      guard.fail(`the server counts ${serverSide.live_ws_connections} open connections, expected ${N}`);
      await guard.failed;
    }
    if (heapDir) await snapshot(child, guard, join(heapDir, `${target}-loaded-${N}.heapsnapshot`));
    let settled: Result['settled'];
    if (SETTLE > 0) {
      console.error(`${name}: staying connected ${SETTLE} s, then a second heartbeat`);
      await sleep(SETTLE * 1000);
      for (const c of clients) c.send({ cmd: 'ping' });
      await guard.race('second heartbeat', Promise.all(clients.map((c) => c.next('pinged'))));
      const mem = await guard.race('memory probe', probe<Memory>(child, 'gc'));
      settled = {
        afterSec: SETTLE,
        rssPerConnKiB: round((mem.memory.rss - memIdle.memory.rss) / N / 1024),
        heapLivePerConnB: Math.round((mem.memory.heapUsed - memIdle.memory.heapUsed) / N),
      };
    }

    console.error(`${name}: stopping`);
    await current.stop();
    current = undefined;

    const lat = (rs: PhaseReport[]) => rs.flatMap((r) => r.lat).sort((a, b) => a - b);
    const login = lat(connected);
    const ping = lat(pinged);
    const d = (k: keyof Memory['memory']) => memLoaded.memory[k] - memIdle.memory[k];
    return {
      target: name,
      rep,
      clients: N,
      procs: clients.length,
      addrs: ADDRS,
      connectPerSec: Math.round(N / (connectMs / 1000)),
      loginP50: round(percentile(login, 50)),
      loginP99: round(percentile(login, 99)),
      loginMax: round(login[login.length - 1] ?? 0),
      pingP50: round(percentile(ping, 50)),
      pingP99: round(percentile(ping, 99)),
      rssPerConnKiB: round((rssAfter - rssBefore) / N / 1024),
      rssPerConnGcKiB: round((memLoaded.memory.rss - memIdle.memory.rss) / N / 1024),
      ...(settled ? { settled } : {}),
      rssIdleMiB: round(rssBefore / 1048576),
      rssLoadedMiB: round(rssAfter / 1048576),
      rssPeakMiB: round(rssPeak / 1048576),
      heapLivePerConnB: Math.round(d('heapUsed') / N),
      outsideHeapPerConnB: Math.round((d('rss') - d('heapTotal')) / N),
      residentPerConnB: {
        brk: Math.round((splitLoaded.brk - splitIdle.brk) / N),
        anon: Math.round((splitLoaded.anon - splitIdle.anon) / N),
        file: Math.round((splitLoaded.file - splitIdle.file) / N),
        external: Math.round(d('external') / N),
        v8malloc: Math.round((memLoaded.heap.malloced_memory - memIdle.heap.malloced_memory) / N),
      },
      heapSpacesMiB: Object.fromEntries(
        memLoaded.spaces.map((sp) => {
          const idle = memIdle.spaces.find((x) => x.name === sp.name);
          return [sp.name, { size: round((sp.size - (idle?.size ?? 0)) / 1048576), used: round((sp.used - (idle?.used ?? 0)) / 1048576) }];
        }),
      ),
      serverCpuMs: cpu,
      serverCpuConnectPct: Math.round(((cpuConnected - cpuBefore) / connectMs) * 100),
      clientCpuConnectPct: Math.round((connected.reduce((a, r) => a + r.cpuMs, 0) / connectMs) * 100),
      clientLoopP99Ms: round(Math.max(...connected.map((r) => r.loopP99Ms))),
      otherCpuConnectPct: Math.max(0, Math.round(((machine1.busy - machine0.busy - ownCpu) / connectMs) * 100)),
      softirqConnectPct: Math.round(((machine1.softirq - machine0.softirq) / connectMs) * 100),
      load1: round(load1),
      busyBeforePct,
      serverFds,
      ...(serverSide ? { serverSide } : {}),
      serverLog: { warn: logs.warn, error: logs.error },
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Waits until the machine's CPU busy time over one second is ≤ maxPct % of a core (or maxWaitMs passed); returns the last reading. */
async function waitForQuiet(maxPct: number, maxWaitMs: number): Promise<number> {
  const until = Date.now() + maxWaitMs;
  let noted = false;
  for (;;) {
    const a = machineCpuMs();
    await new Promise((r) => setTimeout(r, 1000));
    const pct = Math.round((machineCpuMs().busy - a.busy) / 10);
    if (pct <= maxPct || Date.now() > until) return pct;
    if (!noted) console.error(`  waiting for the machine to quieten (busy ${pct} % of a core > --quiet ${maxPct}), up to ${maxWaitMs / 1000} s`);
    noted = true;
  }
}

async function snapshot(child: ChildProcess, guard: Guard, path: string): Promise<void> {
  console.error(`heap snapshot → ${path}`);
  const r = await guard.race('heap snapshot', probe<{ ms: number }>(child, 'snapshot', { path }));
  console.error(`  written in ${(r.ms / 1000).toFixed(1)} s`);
}

/** Our server's own gauges (/metrics): open sockets, sessions, journal commits (since start, warm-up included). */
async function scrapeMetrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const get = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    live_ws_connections: get(/^live_ws_connections (\d+)/m),
    live_sessions: get(/^live_sessions (\d+)/m),
    // Journal commits (synchronous, on the event loop): how long the loop sat in them, in how many batches.
    journal_commit_seconds: round(get(/^live_journal_commit_seconds_sum ([\d.e+-]+)/m)),
    journal_commits: get(/^live_journal_commit_seconds_count (\d+)/m),
    journal_items: get(/^live_journal_batch_items_sum ([\d.e+-]+)/m),
  };
}

/** The commit of the measured tree and whether its src/ has uncommitted changes (read-only git; nothing when it is not a checkout). */
function gitState(dir: string): { commit?: string; srcDirty?: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, srcDirty: dirty };
  } catch {
    return {};
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const needServer = N + WARMUP + FD_SLACK;
  if (limits.hard < needServer) {
    throw new BenchAbort(
      `${N} clients need ≥ ${needServer} descriptors in each server process; the hard limit here is ${limits.hard} (\`ulimit -Hn\`), which only root with ` +
        `CAP_SYS_RESOURCE can raise (ulimit -Hn / prlimit, LimitNOFILE= in systemd, docker --ulimit nofile=N:N). At most ${limits.hard - WARMUP - FD_SLACK} clients fit.`,
    );
  }
  const targets = values.targets.split(',').map((t) => t.trim()) as Array<'ours' | 'bare'>;
  const serverDir = values['server-dir'] ? resolvePath(values['server-dir']) : undefined;
  const ourEntry = targets.includes('ours') ? buildServer(serverDir) : '';
  const date = new Date();
  const stamp = date.toISOString().slice(0, 19).replace(/:/g, '');
  const heapDir = values.heap ? resolvePath(values['heap-dir'] ?? join(tmpdir(), 'live-bench-heap', `${stamp}-${N}`)) : undefined;
  if (heapDir) mkdirSync(heapDir, { recursive: true });
  const load = loadavg();
  const results: Result[] = [];
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const target of targets) {
      if (target === 'ours') {
        const dir = mkdtempSync(join(tmpdir(), 'live-bench-'));
        try {
          results.push(
            await run(
              'ours',
              rep,
              ourEntry,
              {
                LIVE_HOST: '127.0.0.1',
                LIVE_PORT: '0',
                LIVE_DB_PATH: join(dir, 'live.db'),
                LIVE_TOKEN_SECRET: SECRET,
                LIVE_LOG_LEVEL: 'warn',
                ...Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
              },
              values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/prof')}`] : [],
              heapDir,
            ),
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      } else {
        results.push(await run('bare', rep, 'bench/baselines/bare-uws.ts', {}, []));
      }
    }
  }

  console.log(
    `\nsessions bench, ${date.toISOString()}: ${N} clients, ${CONCURRENCY} connecting at a time, ${PROCS} client process(es), ` +
      `${ADDRS || 'kernel-chosen'} source address(es)${values['server-cpus'] ? `, server on CPU ${values['server-cpus']}` : ''}${values['client-cpus'] ? `, clients on CPU ${values['client-cpus']}` : ''}; clients and servers share one ${process.platform} host (${cpus().length} cores, load ${load.map((l) => l.toFixed(2)).join(' ')} before)\n`,
  );
  console.table(
    results.map((r) => ({
      target: r.target,
      run: r.rep + 1,
      'conn/s': r.connectPerSec,
      'login p50/p99 ms': `${r.loginP50} / ${r.loginP99}`,
      'ping p50/p99 ms': `${r.pingP50} / ${r.pingP99}`,
      'RSS/conn KiB (GC)': `${r.rssPerConnKiB} (${r.rssPerConnGcKiB})`,
      'heap/conn B': r.heapLivePerConnB,
      'non-heap/conn B': r.outsideHeapPerConnB,
      'brk/anon/conn B': `${r.residentPerConnB.brk} / ${r.residentPerConnB.anon}`,
      'RSS MiB': r.rssLoadedMiB,
      'server CPU ms': r.serverCpuMs,
      'CPU % srv/cli/other': `${r.serverCpuConnectPct} / ${r.clientCpuConnectPct} / ${r.otherCpuConnectPct}`,
      'busy before %': r.busyBeforePct,
    })),
  );
  const ours = results.filter((r) => r.target === 'live-room-server');
  const bare = results.filter((r) => r.target === 'bare uWebSockets.js');
  const spread = (xs: number[]) => (xs.length > 1 ? `${round(median(xs))} (${round(Math.min(...xs))}–${round(Math.max(...xs))})` : `${round(xs[0] ?? NaN)}`);
  const ratios = ours.length && ours.length === bare.length
    ? {
        connectPerSec: ours.map((o, i) => o.connectPerSec / bare[i]!.connectPerSec),
        loginP99: ours.map((o, i) => o.loginP99 / bare[i]!.loginP99),
        pingP99: ours.map((o, i) => o.pingP99 / bare[i]!.pingP99),
        // The bare server's RSS barely moves (its idle includes tsx and a bigger young generation, so it can even shrink): compare brk (malloc) instead when it does not grow.
        rssPerConn: ours.map((o, i) => (bare[i]!.rssPerConnKiB > 0.1 ? o.rssPerConnKiB / bare[i]!.rssPerConnKiB : NaN)),
      }
    : undefined;
  // Pairs where neither run shared the cores with much else (other processes ≤ --max-other % of a core while connecting).
  const clean = ratios ? ours.map((o, i) => o.otherCpuConnectPct <= MAX_OTHER && bare[i]!.otherCpuConnectPct <= MAX_OTHER) : [];
  const cleanRatios = ratios && clean.some(Boolean) && clean.some((c) => !c)
    ? Object.fromEntries(Object.entries(ratios).map(([k, xs]) => [k, xs.filter((_, i) => clean[i])])) as typeof ratios
    : undefined;
  if (ratios) {
    console.log(
      `ours / bare${REPEAT > 1 ? ` (median and range of ${REPEAT} pairs)` : ''}: conn/s ${spread(ratios.connectPerSec)}× (goal ≥ 0.8), ` +
        `login p99 ${spread(ratios.loginP99)}× (goal < 2), ping p99 ${spread(ratios.pingP99)}×, ` +
        `RSS/conn ${ratios.rssPerConn.some(Number.isNaN) ? 'n/a (bare RSS did not grow)' : `${spread(ratios.rssPerConn)}×`}, ` +
        `brk (malloc)/conn ${spread(ours.map((o, i) => o.residentPerConnB.brk / bare[i]!.residentPerConnB.brk))}×`,
    );
    if (cleanRatios) {
      console.log(
        `  the ${clean.filter(Boolean).length} pair(s) where other processes used ≤ ${MAX_OTHER} % of a core: conn/s ${spread(cleanRatios.connectPerSec)}×, ` +
          `login p99 ${spread(cleanRatios.loginP99)}×, ping p99 ${spread(cleanRatios.pingP99)}×`,
      );
    }
    const perLogin = (rs: Result[]) => rs.map((r) => r.serverCpuMs / r.clients);
    console.log(
      `server CPU per connection (login + one heartbeat; insensitive to other load): ours ${spread(perLogin(ours))} ms, bare ${spread(perLogin(bare))} ms, ` +
        `ratio ${spread(ours.map((o, i) => o.serverCpuMs / bare[i]!.serverCpuMs))}×`,
    );
  }
  if (ours.length) {
    const rssMiB = ours.map((r) => r.rssLoadedMiB);
    console.log(
      `ours: RSS with ${N} connected ${spread(rssMiB)} MiB (goal < 1024), ${spread(ours.map((r) => r.rssPerConnKiB))} KiB per connection above idle (goal ≤ 4); ` +
        `live JS heap ${spread(ours.map((r) => r.heapLivePerConnB))} B and outside the V8 heap ${spread(ours.map((r) => r.outsideHeapPerConnB))} B per connection`,
    );
    for (const r of results) {
      if (r.settled) console.log(`${r.target} run ${r.rep + 1}, still connected ${r.settled.afterSec} s later (after a second heartbeat and a GC): RSS ${r.settled.rssPerConnKiB} KiB and live JS heap ${r.settled.heapLivePerConnB} B per connection above idle`);
    }
  }
  for (const r of results) if (r.serverLog.warn || r.serverLog.error) console.log(`${r.target} run ${r.rep + 1}: the server logged ${r.serverLog.warn} warn and ${r.serverLog.error} error lines`);

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `sessions-${stamp}-${N}.json`);
  const summary = ratios
    ? Object.fromEntries(Object.entries(ratios).map(([k, xs]) => [k, { median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) }]))
    : undefined;
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: date.toISOString(),
        clients: N,
        concurrency: CONCURRENCY,
        procs: PROCS,
        addrs: ADDRS,
        ...(values['server-cpus'] || values['client-cpus'] ? { cpus: { server: values['server-cpus'], clients: values['client-cpus'] } } : {}),
        repeat: REPEAT,
        host: { cpus: cpus().length, loadBefore: load, nofile: limits },
        server: { dir: serverDir ?? ROOT, ...gitState(serverDir ?? ROOT) },
        ...(values.env.length ? { serverEnv: values.env } : {}),
        ...(heapDir ? { heapDir, note: 'heap snapshots were taken: RSS figures include the snapshot writer' } : {}),
        results,
        ...(summary ? { ratios: summary } : {}),
        ...(cleanRatios ? { cleanPairs: clean, cleanRatios } : {}),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`written ${file}`);

  if (heapDir && targets.includes('ours')) {
    console.log('\nheap of our server, idle → loaded (bench/lib/heap-summary.ts):');
    const d = heapDiff(summarize(readHeapSnapshot(join(heapDir, 'ours-idle.heapsnapshot'))), summarize(readHeapSnapshot(join(heapDir, `ours-loaded-${N}.heapsnapshot`))), N);
    const text = formatHeapDiff(d, 40);
    console.log(text);
    const base = join(ROOT, 'bench/results', `sessions-heap-${stamp}-${N}`);
    writeFileSync(`${base}.txt`, `${text}\n`);
    writeFileSync(`${base}.json`, JSON.stringify({ ...d, components: d.components.slice(0, 60), kinds: d.kinds.slice(0, 200) }, null, 2) + '\n');
    console.log(`written ${base}.txt and .json (snapshots in ${heapDir})`);
  }
  process.exit(0);
}

main().catch(async (err) => {
  const abort = err instanceof BenchAbort;
  console.error(`\nsessions bench ABORTED${current ? ` (${current.name})` : ''}: ${abort ? err.message : (err as Error).stack ?? err}`);
  if (current) {
    // Let a dying server's last lines and exit status arrive before printing them.
    await new Promise((r) => setTimeout(r, 300));
    console.error(current.logs.format());
    await current.stop().catch(() => {});
  }
  process.exit(1);
});
