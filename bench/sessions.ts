/**
 * npm run bench:sessions [-- --clients 10000 --concurrency 256]
 *
 * N clients connect, log in and heartbeat against (a) the live room server
 * and (b) a bare uWebSockets.js server (bench/baselines/bare-uws.ts) using the
 * same client code, in the same run. Prints connections/s, login and
 * heartbeat latency, server RSS per connection, and our/bare ratios.
 * Not a test: numbers depend on the machine; results go to bench/results/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LiveClient } from '../src/client/index.js';
import { mint, TEST_SECRET } from '../test/helpers/server.js';
import { buildServer, cpuMsOf, percentile, ROOT, rssOf, startProcess, stopProcess } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '256' },
    // Writes a V8 CPU profile of our server to bench/results/prof/ (open in Chrome DevTools).
    profile: { type: 'boolean', default: false },
  },
});
const N = Number(values.clients);
const CONCURRENCY = Number(values.concurrency);

interface Result {
  target: string;
  clients: number;
  connectPerSec: number;
  loginP50: number;
  loginP99: number;
  pingP50: number;
  pingP99: number;
  rssPerConnKiB: number;
  serverCpuMs: number;
}

async function run(target: string, entry: string, env: Record<string, string>, tokens: string[], nodeArgs: string[] = []): Promise<Result> {
  const { child, port } = await startProcess(entry, env, nodeArgs);
  const url = `ws://127.0.0.1:${port}/ws`;
  const pid = child.pid!;
  // Warm up the JIT and the database, then measure from a settled baseline.
  const warm = await Promise.all(tokens.slice(0, 50).map((token) => LiveClient.connect(url, { token })));
  await Promise.all(warm.map((c) => c.request('session.ping', {}).then(() => c.close())));
  global.gc?.();
  const rssBefore = rssOf(pid);
  const cpuBefore = cpuMsOf(pid);

  console.error(`${target}: connecting ${N} clients`);
  const clients: LiveClient[] = new Array(N);
  const login: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const t0 = performance.now();
        clients[i] = await LiveClient.connect(url, { token: tokens[i]!, requestTimeoutMs: 60_000 });
        login.push(performance.now() - t0);
      }
    }),
  );
  const connectSecs = (performance.now() - started) / 1000;

  console.error(`${target}: ${N} connected in ${connectSecs.toFixed(1)} s; heartbeat`);
  const ping: number[] = [];
  next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const c = clients[next++]!;
        const t0 = performance.now();
        await c.request('session.ping', {});
        ping.push(performance.now() - t0);
      }
    }),
  );
  const rssAfter = rssOf(pid);
  const cpu = cpuMsOf(pid) - cpuBefore;
  console.error(`${target}: stopping`);
  for (const c of clients) void c.drop();
  await stopProcess(child);
  login.sort((a, b) => a - b);
  ping.sort((a, b) => a - b);
  return {
    target,
    clients: N,
    connectPerSec: Math.round(N / connectSecs),
    loginP50: round(percentile(login, 50)),
    loginP99: round(percentile(login, 99)),
    pingP50: round(percentile(ping, 50)),
    pingP99: round(percentile(ping, 99)),
    rssPerConnKiB: round((rssAfter - rssBefore) / N / 1024),
    serverCpuMs: cpu,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'live-bench-'));
  const tokens = await Promise.all(Array.from({ length: N }, (_, i) => mint(i + 1, i % 10 === 0 ? 'host' : 'viewer')));
  const ours = await run('live-room-server', buildServer(), {
    LIVE_HOST: '127.0.0.1',
    LIVE_PORT: '0',
    LIVE_DB_PATH: join(dir, 'live.db'),
    LIVE_TOKEN_SECRET: TEST_SECRET,
    LIVE_LOG_LEVEL: 'warn',
  }, tokens, values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/prof')}`] : []);
  const bare = await run('bare uWebSockets.js', 'bench/baselines/bare-uws.ts', {}, tokens);
  rmSync(dir, { recursive: true, force: true });

  const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${round(a / b)}×`);
  const rows = [ours, bare];
  console.log(`\nsessions bench: ${N} clients, ${CONCURRENCY} connecting at a time, client and servers on one ${process.platform} host\n`);
  console.table(rows.map((r) => ({
    target: r.target,
    'conn/s': r.connectPerSec,
    'login p50 ms': r.loginP50,
    'login p99 ms': r.loginP99,
    'ping p50 ms': r.pingP50,
    'ping p99 ms': r.pingP99,
    'RSS/conn KiB': r.rssPerConnKiB,
    'server CPU ms': r.serverCpuMs,
  })));
  console.log(
    `ours / bare: conn/s ${ratio(ours.connectPerSec, bare.connectPerSec)}, login p99 ${ratio(ours.loginP99, bare.loginP99)}, ` +
      `ping p99 ${ratio(ours.pingP99, bare.pingP99)}, RSS/conn ${ratio(ours.rssPerConnKiB, bare.rssPerConnKiB)}`,
  );
  const file = join(ROOT, 'bench/results', `sessions-${new Date().toISOString().slice(0, 10)}-${N}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), clients: N, concurrency: CONCURRENCY, results: rows }, null, 2) + '\n');
  console.log(`written ${file}`);
  process.exit(0);
}

void main();
