/**
 * The invitation phase of `npm run bench:timers`: the real server (its own process, synchronous=FULL)
 * takes invitations as fast as `pairs` viewers can make them — each viewer invites its own host and
 * cancels, again and again, one request in flight per viewer — for `seconds`. Every invitation and
 * every cancel is a desk journal entry plus its durable side rows and its deadline index row, in the
 * group commit. Reports invitations/s, invite.send latency, commits/s and rows per commit (from the
 * server's /metrics), server and bench CPU.
 */
import { join } from 'node:path';
import { LiveClient } from '../../src/client/index.js';
import { mint, TEST_SECRET } from '../../test/helpers/server.js';
import { Histogram, pool, round, scrapeMetrics } from './load.js';
import { buildServer, cpuMsOf, startProcess, stopProcess } from './proc.js';

export interface InviteRate {
  pairs: number;
  seconds: number;
  invitesPerSec: number;
  cancelsPerSec: number;
  inviteP50: number;
  inviteP99: number;
  commitsPerSec: number;
  rowsPerCommit: number;
  commitMsMean: number;
  serverCpuPct: number;
  benchCpuPct: number;
  errors: number;
}

export async function inviteRate(dir: string, pairs: number, seconds: number): Promise<InviteRate> {
  const server = await startProcess(buildServer(), {
    LIVE_HOST: '127.0.0.1', LIVE_PORT: '0', LIVE_DB_PATH: join(dir, 'invites.db'), LIVE_TOKEN_SECRET: TEST_SECRET, LIVE_LOG_LEVEL: 'warn',
    LIVE_RATE_PER_S: '100000', LIVE_RATE_BURST: '100000', LIVE_MAX_INVITES_PER_VIEWER: '1000', LIVE_MAX_INFLIGHT: '100000',
  });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const clients: LiveClient[] = [];
  try {
    const hosts = await pool(pairs, 50, async (i) => LiveClient.connect(url, { token: mint(100_000 + i, 'host') }));
    const viewers = await pool(pairs, 50, async (i) => LiveClient.connect(url, { token: mint(200_000 + i, 'viewer') }));
    clients.push(...hosts, ...viewers);
    const metrics = `http://127.0.0.1:${server.port}/metrics`;
    const read = async () => {
      const m = await scrapeMetrics(metrics, 5000);
      return { commits: m?.get('live_journal_commit_seconds_count') ?? NaN, items: m?.get('live_journal_batch_items_sum') ?? NaN, secs: m?.get('live_journal_commit_seconds_sum') ?? NaN };
    };
    const latency = new Histogram();
    let invites = 0;
    let cancels = 0;
    let errors = 0;
    let running = true;
    const before = await read();
    const cpu0 = cpuMsOf(server.child.pid!);
    const bench0 = process.cpuUsage();
    const t0 = performance.now();
    const loops = viewers.map(async (viewer, i) => {
      while (running) {
        const sent = performance.now();
        try {
          const invite = (await viewer.request('invite.send', { userId: 100_000 + i })) as { inviteId: number };
          latency.add(performance.now() - sent);
          invites++;
          await viewer.request('invite.cancel', { inviteId: invite.inviteId });
          cancels++;
        } catch {
          errors++;
        }
      }
    });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    running = false;
    await Promise.all(loops);
    const secs = (performance.now() - t0) / 1000;
    const after = await read();
    const serverCpu = cpuMsOf(server.child.pid!) - cpu0;
    const bench = process.cpuUsage(bench0);
    const commits = after.commits - before.commits;
    return {
      pairs,
      seconds: round(secs),
      invitesPerSec: Math.round(invites / secs),
      cancelsPerSec: Math.round(cancels / secs),
      inviteP50: latency.percentile(50),
      inviteP99: latency.percentile(99),
      commitsPerSec: Math.round(commits / secs),
      rowsPerCommit: round((after.items - before.items) / commits, 1),
      commitMsMean: round(((after.secs - before.secs) / commits) * 1000),
      serverCpuPct: Math.round((serverCpu / (secs * 1000)) * 100),
      benchCpuPct: Math.round(((bench.user + bench.system) / 1000 / (secs * 1000)) * 100),
      errors,
    };
  } finally {
    for (const c of clients) c.drop().catch(() => {});
    await stopProcess(server.child);
  }
}
