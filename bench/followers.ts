/**
 * npm run bench:followers [-- --followers 100000 --online 2000]
 *
 * A host with many followers goes live (F10): does the server stall?
 * The database is filled with --followers follows of host 100 before the
 * server starts; --online of those followers are connected (spread over the
 * list) and wait for room.live_started; a bystander (not a follower) keeps one
 * session.ping in flight the whole time and records each round trip. Then the
 * host opens a room. Printed: room.open's reply time, when the last online
 * follower got the push, the bystander's ping latency in the 2 s before the
 * open and from the open until every follower's outbox item was committed,
 * the longest round trip of the bystander's pings (a stall of the server's
 * event loop shows there), and the outbox rows written (read after the
 * server stopped: must equal --followers).
 *
 * Baseline, same invocation, same server build: the same run with a host who
 * has no followers (the open and the bystander's pings with nothing to fan out).
 * Not a test. Results are appended to bench/results/followers-<date>.json.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { LiveClient } from '../src/client/index.js';
import { openDatabase } from '../src/storage/database.js';
import { mint, TEST_SECRET } from '../test/helpers/server.js';
import { pool, round, scrapeMetrics, sleep } from './lib/load.js';
import { buildServer, percentile, ROOT, startProcess, stopProcess } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    followers: { type: 'string', default: '100000' },
    online: { type: 'string', default: '2000' },
  },
});
const FOLLOWERS = Number(values.followers);
const ONLINE = Math.min(Number(values.online), FOLLOWERS);
const HOST = 100;

interface RunResult {
  followers: number;
  online: number;
  openReplyMs: number;
  lastFollowerToldMs: number | null;
  outboxCommittedMs: number | null;
  outboxRows: number;
  pingBefore: { n: number; p50: number; p99: number; max: number };
  pingDuring: { n: number; p50: number; p99: number; max: number };
}

async function run(followers: number, online: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'live-bench-followers-'));
  const dbPath = join(dir, 'live.db');
  try {
    const db = openDatabase({ path: dbPath, synchronous: 'FULL' });
    const insert = db.prepare('INSERT INTO follows (follower_id, host_id, at) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= followers; i++) insert.run(1000 + i, HOST, 1_700_000_000_000 + i);
    })();
    db.close();
    const { child, port } = await startProcess(buildServer(), {
      LIVE_HOST: '127.0.0.1',
      LIVE_PORT: '0',
      LIVE_DB_PATH: dbPath,
      LIVE_TOKEN_SECRET: TEST_SECRET,
      LIVE_LOG_LEVEL: 'warn',
      LIVE_RATE_PER_S: '100000',
      LIVE_RATE_BURST: '100000',
    });
    const url = `ws://127.0.0.1:${port}/ws`;
    let result: RunResult;
    try {
      const step = online > 0 ? Math.max(1, Math.floor(followers / online)) : 1;
      const ids = Array.from({ length: online }, (_, i) => 1001 + i * step);
      const told: number[] = [];
      let opened = 0;
      const fans = await pool(ids.length, 64, async (i) => {
        const c = await LiveClient.connect(url, { token: await mint(ids[i]!, 'viewer') });
        c.on('room.live_started', () => told.push(performance.now() - opened));
        return c;
      });
      const host = await LiveClient.connect(url, { token: await mint(HOST, 'host') });
      const bystander = await LiveClient.connect(url, { token: await mint(999_999_999, 'viewer') });
      const pings: Array<[at: number, ms: number]> = [];
      let pinging = true;
      const pinger = (async () => {
        while (pinging) {
          const t = performance.now();
          await bystander.request('session.ping', {});
          pings.push([t, performance.now() - t]);
        }
      })();
      await sleep(2000);
      opened = performance.now();
      await host.request('room.open', { title: 'going live' });
      const openReplyMs = performance.now() - opened;
      // Until every online follower was told and every follower's outbox item committed (or 60 s). The server
      // holds the database exclusively; with no webhook set its items stay pending, so its backlog gauge counts them.
      const pending = async () => (await scrapeMetrics(`http://127.0.0.1:${port}/metrics`))?.get('live_push_backlog{status="pending"}') ?? 0;
      let outboxCommittedMs: number | null = null;
      // Counting the backlog costs the server a walk over its pending items: asked every 100 ms, and only once
      // the online followers were told (the outbox slices are committed right behind the pushes).
      while (performance.now() - opened < 60_000) {
        if (told.length >= online && outboxCommittedMs === null && (await pending()) >= followers) outboxCommittedMs = performance.now() - opened;
        if (outboxCommittedMs !== null) break;
        await sleep(told.length >= online ? 100 : 10);
      }
      const end = performance.now();
      pinging = false;
      await pinger;
      const stats = (xs: number[]) => {
        xs.sort((a, b) => a - b);
        return { n: xs.length, p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)), max: round(xs[xs.length - 1] ?? 0) };
      };
      result = {
        followers,
        online,
        openReplyMs: round(openReplyMs),
        lastFollowerToldMs: told.length >= online ? round(Math.max(0, ...told)) : null,
        outboxCommittedMs: outboxCommittedMs === null ? null : round(outboxCommittedMs),
        outboxRows: 0,
        pingBefore: stats(pings.filter(([t]) => t < opened && t >= opened - 2000).map(([, ms]) => ms)),
        pingDuring: stats(pings.filter(([t]) => t >= opened && t <= end).map(([, ms]) => ms)),
      };
      await Promise.all([...fans, host, bystander].map((c) => c.close().catch(() => undefined)));
    } finally {
      await stopProcess(child);
    }
    const after = new Database(dbPath, { readonly: true });
    result.outboxRows = after.prepare("SELECT count(*) FROM outbox WHERE kind = 'room.live_started'").pluck().get() as number;
    after.close();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ours = await run(FOLLOWERS, ONLINE);
const baseline = await run(0, 0);
const at = new Date().toISOString();
console.log(`\nfollowers bench, ${at}: host with ${FOLLOWERS} followers (${ONLINE} online) opens a room; baseline: a host with none`);
console.table({
  [`${FOLLOWERS} followers`]: {
    'room.open reply ms': ours.openReplyMs,
    'last online follower told ms': ours.lastFollowerToldMs,
    'all outbox items committed ms': ours.outboxCommittedMs,
    'outbox rows': ours.outboxRows,
    'bystander ping before p50/p99/max ms': `${ours.pingBefore.p50} / ${ours.pingBefore.p99} / ${ours.pingBefore.max}`,
    'bystander ping during p50/p99/max ms': `${ours.pingDuring.p50} / ${ours.pingDuring.p99} / ${ours.pingDuring.max} (${ours.pingDuring.n})`,
  },
  'no followers (baseline)': {
    'room.open reply ms': baseline.openReplyMs,
    'last online follower told ms': '-',
    'all outbox items committed ms': '-',
    'outbox rows': baseline.outboxRows,
    'bystander ping before p50/p99/max ms': `${baseline.pingBefore.p50} / ${baseline.pingBefore.p99} / ${baseline.pingBefore.max}`,
    'bystander ping during p50/p99/max ms': `${baseline.pingDuring.p50} / ${baseline.pingDuring.p99} / ${baseline.pingDuring.max} (${baseline.pingDuring.n})`,
  },
});
console.log(`room.open reply: ${round(ours.openReplyMs / Math.max(0.01, baseline.openReplyMs))}× baseline; bystander ping max during the fan-out: ${ours.pingDuring.max} ms (baseline ${baseline.pingDuring.max} ms); outbox rows ${ours.outboxRows} of ${FOLLOWERS}`);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
appendFileSync(join(ROOT, `bench/results/followers-${at.slice(0, 10)}.json`), `${JSON.stringify({ at, ours, baseline })}\n`);
