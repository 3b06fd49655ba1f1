/**
 * npm run bench:gifts [-- --rooms 50 --senders 10 --watchers 0 --depth 1 --clients 2 --seconds 10]
 *
 * Durable gifts: R rooms, each with 1 host and S senders (viewers who entered
 * the room and send gifts to its host) plus W watchers (viewers who only
 * receive the room's pushes). Every sender sends gifts closed-loop with
 * --depth gift.send in flight, in combo streaks (a gift, a comboId, 5–30
 * sends; --single-pct of the streaks are single sends without comboId). A
 * send is acked only after its ledger transfer committed (synchronous=FULL).
 * Gifts in flight = senders × depth. The server runs one user's requests one
 * at a time (src/server/lanes.ts) and a gift's reply waits for its commit, so
 * a sender has at most one gift in each group commit: throughput comes from
 * many senders, and a deeper pipeline per sender only queues in its lane
 * (6 s runs of 2026-11-25, 500 senders: depth 1 → 6.9k/s p99 139 ms, depth 2 → 6.2k/s
 * p99 221 ms, depth 4 → 6.4k/s p99 380 ms); hence --depth 1 by default.
 * The senders, hosts and watchers live in --clients child processes
 * (bench/lib/gifts-client.ts), a room's people in one of them.
 *
 * Printed: acked gifts/s, p50/p99 ack latency (send → ok reply), pushes
 * delivered/s by kind, commits/s, gifts and ledger rows per commit (from the
 * server's /metrics: live_journal_commit_seconds), CPU of the server, of the
 * bench clients and of the machine, the server's disk writes per gift; then
 * the audit: the books balance (GET /admin/ledger/audit) and acked gifts =
 * gift transfers in the database (read after the server stopped).
 *
 * Baselines, same invocation, same temp directory (same disk), database
 * opened as the server opens it (bench/baselines/ledger-sqlite.ts): the rows
 * of one gift (1 transfer + 3 entries inserted, 3 accounts updated)
 *   cap      one transaction per gift: what a server committing each gift alone could ack
 *   ceiling  --ceiling-batch gifts per transaction: raw batched inserts
 * and the ratios ours / cap and ours / ceiling. Order: cap, ours, ceiling, each
 * after a `sync` and a 2 s pause. LIVE_DB_WAL_CHECKPOINT_PAGES in the environment applies
 * to the server and both baselines alike. --profile writes a V8 CPU profile of the
 * server to bench/results/prof/.
 * "Ledger rows" everywhere = rows inserted, 4 per gift (1 transfer + 3 entries).
 *
 * Goal (2-core machine, bench client included): ≥ 10,000 acked durable gifts/s
 * with p99 < 50 ms, several times the cap. Not a test. Results are appended
 * to bench/results/gifts-<date>.json.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { TEST_SECRET } from '../test/helpers/server.js';
import { machineBusyPct, machineTicks, pool, scrapeMetrics, sleep } from './lib/load.js';
import { buildServer, cpuMsOf, ROOT, rssOf, spawnNode, startProcess, stopProcess, type ServerLog } from './lib/proc.js';
import { report, type BaselineResult, type RunResult } from './lib/gifts-report.js';
import { LatHist, writeBytesOf, type ClientInit, type FromClient, type RoomPlan, type ToClient, type Totals, type WindowReport } from './lib/gifts-stats.js';

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '50' },
    senders: { type: 'string', default: '10' },
    watchers: { type: 'string', default: '0' },
    depth: { type: 'string', default: '1' },
    clients: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    streak: { type: 'string', default: '5-30' },
    'single-pct': { type: 'string', default: '10' },
    count: { type: 'string', default: '1' },
    keys: { type: 'boolean', default: true },
    'no-keys': { type: 'boolean', default: false },
    'baseline-seconds': { type: 'string', default: '5' },
    'ceiling-batch': { type: 'string', default: '1000' },
    // The adaptive shedder (908 when most requests spend longer than this in the server) is off by
    // default so that every gift is handled and the latency shows; pass 50 to see the server's default.
    'shed-target-ms': { type: 'string', default: '60000' },
    concurrency: { type: 'string', default: '100' },
    'timeout-ms': { type: 'string', default: '15000' },
    // Writes a V8 CPU profile of the server to bench/results/prof/ (open in Chrome DevTools).
    profile: { type: 'boolean', default: false },
  },
});
const int = (name: keyof typeof values, min = 1) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
};
const R = int('rooms');
const S = int('senders');
const W = int('watchers', 0);
const DEPTH = int('depth');
const K = Math.min(int('clients'), R);
const SECONDS = int('seconds');
const WARMUP = int('warmup', 0);
const [STREAK_MIN, STREAK_MAX] = String(values.streak).split('-').map(Number) as [number, number];
if (!(STREAK_MIN >= 1 && STREAK_MAX >= STREAK_MIN)) throw new Error('--streak: min-max sends per streak, e.g. 5-30');
const KEYS = values.keys && !values['no-keys'];
const ADMIN = `bench-admin-${'x'.repeat(24)}-${process.pid}`;
const GIFTS = [
  { giftId: 1, price: 10 },
  { giftId: 2, price: 20 },
  { giftId: 3, price: 50 },
  { giftId: 4, price: 100 },
];

const serverLogs: ServerLog[] = [];
const children: ChildProcess[] = [];

/** The next message `ev` of a client process (rejects on its `fail` or exit). */
function next<E extends FromClient['ev']>(child: ChildProcess, ev: E): Promise<Extract<FromClient, { ev: E }>> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`a bench client exited with ${code}`));
    const onMsg = (m: FromClient) => {
      if (m.ev === 'fail') return cleanup(), reject(new Error(`bench client: ${m.error}`));
      if (m.ev === ev) cleanup(), resolve(m as Extract<FromClient, { ev: E }>);
    };
    const cleanup = () => (child.off('message', onMsg), child.off('exit', onExit));
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}
const all = <E extends FromClient['ev']>(ev: E) => Promise.all(children.map((c) => next(c, ev)));
const tell = (m: ToClient) => children.forEach((c) => c.send(m));

async function admin(http: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${http}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** Runs a baseline in its own process and returns the JSON line it printed. */
function baseline(args: string[]): Promise<BaselineResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/baselines/ledger-sqlite.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.once('exit', (code) => {
      const json = out.split('\n').reverse().find((l) => l.startsWith('{'));
      if (code === 0 && json) resolve(JSON.parse(json) as BaselineResult);
      else reject(new Error(`baseline ${args[0]} exited with ${code}\n${out.slice(-2000)}`));
    });
  });
}

async function runOurs(dir: string): Promise<RunResult['ours']> {
  const dbPath = join(dir, 'live.db');
  const { child, port, logs } = await startProcess(buildServer(), {
    LIVE_HOST: '127.0.0.1',
    LIVE_PORT: '0',
    LIVE_DB_PATH: dbPath,
    LIVE_TOKEN_SECRET: TEST_SECRET,
    LIVE_LOG_LEVEL: 'warn',
    LIVE_ADMIN_TOKEN: ADMIN,
    LIVE_RATE_PER_S: '100000',
    LIVE_RATE_BURST: '100000',
    LIVE_USER_QUEUE: String(Math.max(16, 2 * DEPTH)),
    LIVE_MAX_INFLIGHT: String(Math.max(5000, 4 * R * S * DEPTH)),
    LIVE_SHED_TARGET_MS: String(values['shed-target-ms']),
  }, values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/prof')}`] : []);
  serverLogs.push(logs);
  const pid = child.pid!;
  const http = `http://127.0.0.1:${port}`;
  try {
    for (const g of GIFTS) await admin(http, 'PUT', `/admin/gifts/${g.giftId}`, { name: `gift ${g.giftId}`, price: g.price, image: `https://cdn.example/g/${g.giftId}.webp`, icon: `https://cdn.example/g/${g.giftId}.png`, type: 2 });
    const plans: RoomPlan[] = Array.from({ length: R }, (_, r) => ({
      hostId: r + 1,
      senderIds: Array.from({ length: S }, (_, j) => 10_001 + r * S + j),
      watcherIds: Array.from({ length: W }, (_, j) => 5_000_001 + r * W + j),
    }));
    const senderIds = plans.flatMap((p) => p.senderIds);
    console.error(`topping up ${senderIds.length} senders`);
    await pool(senderIds.length, 32, (i) => admin(http, 'POST', `/admin/users/${senderIds[i]}/topup`, { orderId: `bench-${senderIds[i]}`, amount: 1_000_000_000 }));

    for (let k = 0; k < K; k++) children.push(spawnNode(join(ROOT, 'bench/lib/gifts-client.ts'), {}).child);
    const ready = all('ready');
    for (let k = 0; k < K; k++) {
      const init: ClientInit = {
        cmd: 'init', url: `ws://127.0.0.1:${port}/ws`, secret: TEST_SECRET, rooms: plans.filter((_, r) => r % K === k), depth: DEPTH, gifts: GIFTS,
        streakMin: STREAK_MIN, streakMax: STREAK_MAX, singlePct: Number(values['single-pct']), count: int('count'), keys: KEYS,
        concurrency: int('concurrency'), timeoutMs: int('timeout-ms'),
      };
      children[k]!.send(init);
    }
    const t = performance.now();
    const readies = await ready;
    console.error(`connected ${readies.reduce((a, r) => a + r.sockets, 0)} sockets in ${((performance.now() - t) / 1000).toFixed(1)} s; ${WARMUP} s warm-up, ${SECONDS} s measured`);

    tell({ cmd: 'go' });
    await sleep(WARMUP * 1000);
    // Window start: the process readings, the clients' counters, then the server's metrics.
    const server0 = cpuMsOf(pid);
    const io0 = writeBytesOf(pid);
    const ticks0 = machineTicks();
    const main0 = process.cpuUsage();
    tell({ cmd: 'mark' });
    const t0 = performance.now();
    const m0 = await scrapeMetrics(`${http}/metrics`, 5000);
    const s0 = performance.now();
    await sleep(SECONDS * 1000 - (s0 - t0));
    const windows = all('window');
    const drained = all('drained');
    tell({ cmd: 'stop' });
    const t1 = performance.now();
    const server1 = cpuMsOf(pid);
    const io1 = writeBytesOf(pid);
    const ticks1 = machineTicks();
    const main = process.cpuUsage(main0);
    const m1 = await scrapeMetrics(`${http}/metrics`, 5000);
    const s1 = performance.now();
    if (!m0 || !m1) throw new Error('the server did not answer /metrics within 5 s');
    const win: WindowReport[] = await windows;
    const totals: Totals[] = await drained;
    const rssMiB = rssOf(pid) / 1024 / 1024;

    console.error('auditing the ledger (GET /admin/ledger/audit)');
    const audit = (await admin(http, 'GET', '/admin/ledger/audit')) as RunResult['ours']['audit'];
    tell({ cmd: 'quit' });
    await stopProcess(child);
    const db = new Database(dbPath);
    const stored = db.prepare("SELECT count(*) AS transfers, coalesce(sum(amount), 0) AS credits FROM ledger_transfers WHERE kind = 'gift'").get() as { transfers: number; credits: number };
    db.close();

    const hist = new LatHist();
    for (const w of win) hist.addSparse(w.hist, w.maxMs);
    return {
      rooms: R, sendersPerRoom: S, watchersPerRoom: W, depth: DEPTH, clients: K, keys: KEYS,
      sockets: readies.reduce((a, r) => a + r.sockets, 0),
      windowMs: t1 - t0, scrapeWindowMs: s1 - s0,
      windows: win.map(({ hist: _h, ...rest }) => rest), hist: { p50: hist.percentile(50), p99: hist.percentile(99), max: hist.max, count: hist.count },
      totals, metrics0: Object.fromEntries(m0), metrics1: Object.fromEntries(m1),
      serverCpuMs: server1 - server0, serverWriteBytes: io1 - io0, mainCpuMs: (main.user + main.system) / 1000, ticks0, ticks1, rssMiB,
      audit, stored,
    };
  } catch (err) {
    tell({ cmd: 'quit' });
    await stopProcess(child);
    throw err;
  }
}

/** Lets the disk settle between phases: dirty pages written out, then a short pause. */
async function settle(): Promise<void> {
  execFileSync('sync');
  await sleep(2000);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'live-bench-gifts-'));
  const startedAt = new Date();
  let result: RunResult;
  // Other work on the machine skews every figure here: say how busy it was just before.
  const idle0 = machineTicks();
  await sleep(2000);
  const busyBefore = machineBusyPct(idle0, machineTicks(), cpus().length);
  console.error(`machine busy in the 2 s before the run: ${busyBefore} % (of ${cpus().length * 100})${busyBefore > 20 ? ' — NOT QUIET, figures will suffer' : ''}`);
  try {
    // The cap first, on a settled disk (its fsync latency is what it measures); every phase then
    // starts after the writes of the one before reached the disk (sync), so none pays for another's.
    console.error(`cap baseline in ${dir}: one transaction per gift, ${values['baseline-seconds']} s`);
    const cap = await baseline(['per-gift', join(dir, 'cap.db'), String(values['baseline-seconds'])]);
    await settle();
    console.error(`ours: ${R} rooms × (1 host + ${S} senders + ${W} watchers), ${DEPTH} in flight per sender, ${K} client processes`);
    const ours = await runOurs(dir);
    await settle();
    console.error(`ceiling baseline: ${values['ceiling-batch']} gifts per transaction, ${values['baseline-seconds']} s`);
    const ceiling = await baseline(['batched', join(dir, 'ceiling.db'), String(values['baseline-seconds']), String(values['ceiling-batch'])]);
    result = { date: startedAt.toISOString(), argv: process.argv.slice(2), busyBefore, ours, cap, ceiling, serverLog: { warn: serverLogs[0]?.warn ?? 0, error: serverLogs[0]?.error ?? 0, lines: serverLogs[0]?.lines.slice(-20) ?? [] } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = report(result);
  const file = join(ROOT, 'bench/results', `gifts-${startedAt.toISOString().slice(0, 10)}.json`);
  const prior = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { runs?: unknown[] }) : {};
  writeFileSync(file, `${JSON.stringify({ runs: [...(prior.runs ?? []), { ...result, summary }] }, null, 2)}\n`);
  console.log(`appended to ${file}`);
  process.exit(0);
}

void main().catch((err) => {
  console.error(err);
  for (const logs of serverLogs) console.error(logs.format());
  for (const c of children) c.kill();
  process.exit(1);
});
