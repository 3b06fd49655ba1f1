/**
 * What bench/gifts.ts prints: the run's figures, the baselines beside it,
 * the ratios, the audit and the goals. Returns the summary kept in the JSON.
 */
import { cpus } from 'node:os';
import { machineBusyPct, round } from './load.js';
import { histPercentile, metricSum, type Totals, type WindowReport } from './gifts-stats.js';

export interface BaselineResult {
  mode: string;
  giftsPerTx: number;
  rowsPerGift: number;
  seconds: number;
  gifts: number;
  transactions: number;
  giftsPerSec: number;
  txPerSec: number;
  txMsP50: number;
  txMsP99: number;
  writeKiBPerGift: number;
  writeMiBPerSec: number;
  cpuPct: number;
}

type Ticks = { total: number; idle: number };

export interface RunResult {
  date: string;
  argv: string[];
  /** Machine CPU busy in the 2 s before the run, % of one core (200 = both cores). */
  busyBefore: number;
  ours: {
    rooms: number;
    sendersPerRoom: number;
    watchersPerRoom: number;
    depth: number;
    clients: number;
    keys: boolean;
    sockets: number;
    windowMs: number;
    scrapeWindowMs: number;
    windows: Array<Omit<WindowReport, 'hist'>>;
    hist: { p50: number; p99: number; max: number; count: number };
    totals: Totals[];
    metrics0: Record<string, number>;
    metrics1: Record<string, number>;
    serverCpuMs: number;
    serverWriteBytes: number;
    mainCpuMs: number;
    ticks0: Ticks;
    ticks1: Ticks;
    rssMiB: number;
    audit: { ok: boolean; accounts: number; transfers: number; entries: number; minted: number; circulating: number; users: number; house: number; violations: string[] };
    stored: { transfers: number; credits: number };
  };
  cap: BaselineResult;
  ceiling: BaselineResult;
  serverLog: { warn: number; error: number; lines: string[] };
}

/** Gift ledger rows inserted per gift: the transfer and its three entries (sender, host, house). */
const ROWS_PER_GIFT = 4;

export function report(r: RunResult): Record<string, unknown> {
  const o = r.ours;
  const sec = o.windowMs / 1000;
  const perSec = (n: number) => Math.round(n / sec);
  const m0 = new Map(Object.entries(o.metrics0));
  const m1 = new Map(Object.entries(o.metrics1));
  const delta = (name: string) => metricSum(m1, name) - metricSum(m0, name);
  const scrapeSec = o.scrapeWindowMs / 1000;

  const acks = o.windows.reduce((a, w) => a + w.acks, 0);
  const ackedPerSec = Math.round(o.windows.reduce((a, w) => a + (w.acks * 1000) / w.ms, 0));
  const pushes: Record<string, number> = {};
  for (const w of o.windows) for (const [op, n] of Object.entries(w.pushes)) pushes[op] = (pushes[op] ?? 0) + n;
  const pushesPerSec = perSec(Object.values(pushes).reduce((a, b) => a + b, 0));
  const errors: Record<string, number> = {};
  for (const w of o.windows) for (const [code, n] of Object.entries(w.errors)) errors[code] = (errors[code] ?? 0) + n;

  const commits = delta('live_journal_commit_seconds_count');
  const commitsPerSec = round(commits / scrapeSec, 1);
  const commitMsMean = commits ? round((delta('live_journal_commit_seconds_sum') * 1000) / commits, 2) : 0;
  const commitMsP99 = histPercentile(m0, m1, 'live_journal_commit_seconds', 99) * 1000;
  const itemsPerCommit = commits ? round(delta('live_journal_batch_items_sum') / commits, 1) : 0;
  const giftsPerCommit = commitsPerSec ? round(ackedPerSec / commitsPerSec, 1) : 0;
  const clientCpuPct = o.windows.map((w) => Math.round((100 * w.cpuMs) / w.ms));
  const serverCpuPct = Math.round((100 * o.serverCpuMs) / o.windowMs);
  const machinePct = machineBusyPct(o.ticks0, o.ticks1, cpus().length);
  const lagP99 = round((m1.get('live_nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000, 1);
  const lagMax = round((m1.get('live_nodejs_eventloop_lag_max_seconds') ?? 0) * 1000, 1);
  const serverOut = perSec(delta('live_messages_out_total'));
  const writeKiBPerGift = acks ? round(o.serverWriteBytes / 1024 / acks, 2) : 0;
  const writeMiBPerSec = round(o.serverWriteBytes / 1024 / 1024 / sec, 1);
  const senders = o.rooms * o.sendersPerRoom;

  console.log(
    `\ngifts bench, ${r.date}: ${o.rooms} rooms × (1 host + ${o.sendersPerRoom} senders + ${o.watchersPerRoom} watchers) = ${o.sockets} sockets; ` +
      `${senders} senders × ${o.depth} gift.send in flight (${senders * o.depth} at most); combo streaks${o.keys ? ', idempotency key on every send' : ''}; ` +
      `${o.clients} bench client processes; ${round(sec, 1)} s measured; synchronous=FULL, WAL checkpoint every ${process.env.LIVE_DB_WAL_CHECKPOINT_PAGES ?? '10000'} pages; ${cpus().length} cores shared by server and bench (busy before the run: ${r.busyBefore} %)\n`,
  );
  console.table([
    {
      'acked gifts/s': ackedPerSec,
      'ack p50 ms': o.hist.p50,
      'ack p99 ms': o.hist.p99,
      'ack max ms': round(o.hist.max, 1),
      'pushes delivered/s': pushesPerSec,
      'commits/s': commitsPerSec,
      'gifts/commit': giftsPerCommit,
      'ledger rows/commit': round(giftsPerCommit * ROWS_PER_GIFT, 1),
      'commit ms mean / p99≤': `${commitMsMean} / ${commitMsP99}`,
    },
  ]);
  console.log('pushes delivered/s by kind:', Object.fromEntries(Object.entries(pushes).map(([op, n]) => [op, perSec(n)])), `(server frames out/s: ${serverOut})`);
  console.table([
    {
      'server CPU %': serverCpuPct,
      'bench clients CPU %': clientCpuPct.join(' + '),
      'bench main CPU %': Math.round((100 * o.mainCpuMs) / o.windowMs),
      'machine busy % (of 200)': machinePct,
      'rest % (other processes, irq)': machinePct - serverCpuPct - clientCpuPct.reduce((a, b) => a + b, 0) - Math.round((100 * o.mainCpuMs) / o.windowMs),
      'server loop lag p99 / max ms': `${lagP99} / ${lagMax}`,
      'client loop delay p99 ms': o.windows.map((w) => round(w.loopP99Ms, 1)).join(' / '),
      'server disk MiB/s': writeMiBPerSec,
      'server KiB written/gift': writeKiBPerGift,
      'journal items/commit': itemsPerCommit,
      'server RSS MiB': round(o.rssMiB, 1),
    },
  ]);
  if (Object.keys(errors).length) console.log('error replies in the window, by code:', errors);

  console.log('\nbaselines (raw better-sqlite3, same disk, WAL with the same checkpoint setting, synchronous=FULL; a gift = 1 transfer + 3 entry rows inserted, 3 accounts updated):');
  const base = (name: string, b: BaselineResult) => ({
    '': name,
    'gifts/s': b.giftsPerSec,
    'commits/s': b.txPerSec,
    'gifts/commit': b.giftsPerTx,
    'ledger rows/commit': b.giftsPerTx * ROWS_PER_GIFT,
    'commit ms p50 / p99': `${b.txMsP50} / ${b.txMsP99}`,
    'CPU %': b.cpuPct,
    'KiB written/gift': b.writeKiBPerGift,
  });
  console.table([
    { '': 'ours (server, acked)', 'gifts/s': ackedPerSec, 'commits/s': commitsPerSec, 'gifts/commit': giftsPerCommit, 'ledger rows/commit': round(giftsPerCommit * ROWS_PER_GIFT, 1), 'commit ms p50 / p99': `mean ${commitMsMean} / ≤${commitMsP99}`, 'CPU %': serverCpuPct, 'KiB written/gift': writeKiBPerGift },
    base('cap: 1 transaction per gift', r.cap),
    base(`ceiling: ${r.ceiling.giftsPerTx} gifts per transaction`, r.ceiling),
  ]);
  const vsCap = round(ackedPerSec / r.cap.giftsPerSec, 2);
  const vsCeiling = round(ackedPerSec / r.ceiling.giftsPerSec, 2);
  console.log(`ours / cap: ${vsCap}×   ours / ceiling: ${vsCeiling}×   (ceiling / cap: ${round(r.ceiling.giftsPerSec / r.cap.giftsPerSec, 2)}×)`);

  const acked = o.totals.reduce((a, t) => a + t.acks, 0);
  const credits = o.totals.reduce((a, t) => a + t.credits, 0);
  const unanswered = o.totals.reduce((a, t) => a + t.unanswered, 0);
  const closed = o.totals.reduce((a, t) => a + t.closed, 0);
  const matches = acked === o.stored.transfers && credits === o.stored.credits;
  console.log(
    `\naudit: books ${o.audit.ok ? 'balance' : 'DO NOT balance'} (${o.audit.transfers} transfers, ${o.audit.entries} entries, ${o.audit.accounts} accounts; ` +
      `minted ${o.audit.minted} = circulating ${o.audit.circulating}; house ${o.audit.house}${o.audit.violations.length ? `; violations: ${o.audit.violations.slice(0, 5).join('; ')}` : ''})`,
  );
  console.log(
    `acked gifts over the whole run = gift transfers in the ledger: ${acked} vs ${o.stored.transfers}, credits ${credits} vs ${o.stored.credits}: ${matches ? 'equal' : 'DIFFERENT'}` +
      `${unanswered ? `; ${unanswered} sends unanswered` : ''}${closed ? `; ${closed} sockets closed by the server` : ''}`,
  );
  if (r.serverLog.warn || r.serverLog.error) console.log(`server logged ${r.serverLog.warn} warn and ${r.serverLog.error} error lines, last: ${r.serverLog.lines.slice(-3).join(' | ')}`);

  const goalRate = ackedPerSec >= 10_000;
  const goalP99 = o.hist.p99 < 50;
  console.log(
    `\ngoals: ≥ 10,000 acked durable gifts/s: ${goalRate ? 'met' : 'not met'} (${ackedPerSec}); p99 < 50 ms: ${goalP99 ? 'met' : 'not met'} (${o.hist.p99} ms); ` +
      `several times the one-transaction-per-gift cap (≥ 3×): ${vsCap >= 3 ? 'met' : 'not met'} (${vsCap}×); books balance and acked = stored: ${o.audit.ok && matches ? 'yes' : 'NO'}`,
  );
  return {
    ackedPerSec, acksInWindow: acks, p50: o.hist.p50, p99: o.hist.p99, max: round(o.hist.max, 1), pushesPerSec, pushesByKind: pushes, serverFramesOutPerSec: serverOut,
    commitsPerSec, giftsPerCommit, rowsPerCommit: round(giftsPerCommit * ROWS_PER_GIFT, 1), commitMsMean, commitMsP99, itemsPerCommit,
    serverCpuPct, clientCpuPct, machinePct, lagP99, lagMax, writeMiBPerSec, writeKiBPerGift, errors,
    capPerSec: r.cap.giftsPerSec, ceilingPerSec: r.ceiling.giftsPerSec, vsCap, vsCeiling, auditOk: o.audit.ok, acked, storedGiftTransfers: o.stored.transfers, matches,
    goals: { rate: goalRate, p99: goalP99, severalTimesCap: vsCap >= 3 },
  };
}
