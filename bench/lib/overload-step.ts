/**
 * One open-loop step of bench/overload.ts: the load at a fixed rate through
 * the LoadEngine (warm-up, then the measured window), the bystander process
 * poking alongside, then the drain and the recovery, and everything the
 * bench reports about the step (StepResult).
 */
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LiveClient } from '../../src/client/index.js';
import { machineBusyPct, machineTicks, OpenLoop, round, RssSampler, scrapeMetrics, sleep, socketQueues, type SocketQueues } from './load.js';
import { outcomeName, type LoadEngine } from './load-engine.js';
import type { Bystander, BystanderStep } from './overload-bystander.js';
import { cpuMsOf } from './proc.js';

export interface Running {
  name: string;
  pid: number;
  port: number;
  /** Undefined while the process runs; how it ended otherwise. */
  exited(): string | undefined;
  metricsUrl: string | undefined;
  stop(): Promise<void>;
}

export interface Ctx {
  srv: Running;
  engine: LoadEngine;
  bystander: Bystander;
  hosts: LiveClient[];
}

export interface StepConfig {
  timeoutMs: number;
  recoverS: number;
  /** The op name of each request kind of the engine. */
  opNames: string[];
}

export interface StepResult {
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
  /** Measured by the bystander process (its own event loop, its own connection). */
  bystander: { sent: number; ok: number; p50: number; p99: number; max: number; failed: Record<string, number> };
  serverRssEndMiB: number;
  serverRssPeakMiB: number;
  /** CPU time over the window in % of one core (the machine has cpus().length cores). */
  serverCpuPct: number;
  /** The load client (this process); the bystander process apart. */
  clientCpuPct: number;
  /** The load client's CPU per request sent in the window (µs, its reply included). */
  clientCpuUsPerReq: number;
  bystanderCpuPct: number;
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
  /** Replies that came after the client had given up on them (timed out). */
  lateReplies: number;
  recoverSec: number | null;
  closedConns: number;
}

export function assertAlive(srv: Running): void {
  const exit = srv.exited();
  if (exit) throw new Error(exit);
}

/** The CPU time of a process (ms); if it cannot be read, why (the process ended). */
async function cpuOf(pid: number, srv: Running, name: string): Promise<number> {
  try {
    return cpuMsOf(pid);
  } catch (err) {
    await sleep(200); // let the child's exit event arrive
    assertAlive(srv);
    throw new Error(`cannot read the CPU time of ${name} (pid ${pid}): ${(err as Error).message}`);
  }
}

export const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);

async function metricTotals(url: string | undefined): Promise<{ in: number; out: number } | undefined> {
  if (!url) return undefined;
  const m = await scrapeMetrics(url, 1000);
  if (!m) return undefined;
  return { in: m.get('live_messages_in_total') ?? 0, out: m.get('live_messages_out_total') ?? 0 };
}

export async function runStep(ctx: Ctx, cfg: StepConfig, rate: number, seconds: number, warmup: number, phase: 'ramp' | 'step', multiplier: number | null): Promise<StepResult> {
  const { srv, engine, bystander } = ctx;
  const s = engine.beginStep();
  const rss = new RssSampler(srv.pid, 200).start();

  const before = await metricTotals(srv.metricsUrl);
  const loop = new OpenLoop(rate, engine.send).start();
  const byReport = bystander.step(warmup * 1000, seconds * 1000, cfg.timeoutMs);
  let by: BystanderStep | undefined;
  byReport.then((r) => (by = r)).catch(() => {});
  await sleep(warmup * 1000);

  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpu0 = await cpuOf(srv.pid, srv, srv.name);
  const by0 = await cpuOf(bystander.pid, srv, 'the bystander');
  const bench0 = process.cpuUsage();
  const machine0 = machineTicks();
  const lateBefore = loop.lateMax;
  engine.measuring = true;
  s.win0 = performance.now();
  await sleep(seconds * 1000);
  s.win1 = performance.now();
  engine.measuring = false;
  loop.stop();
  const windowMs = s.win1 - s.win0;
  const bench = process.cpuUsage(bench0);
  const cpu1 = await cpuOf(srv.pid, srv, srv.name);
  const by1 = await cpuOf(bystander.pid, srv, 'the bystander');
  const machinePct = machineBusyPct(machine0, machineTicks(), cpus().length);
  eld.disable();
  const rssEnd = rss.sample();
  const kernel = socketQueues(srv.port);
  const buffered = engine.buffered();
  const pendingAtEnd = s.pending;
  const sentLoad = s.sentWarm + s.sentMeasured;
  const after = await metricTotals(srv.metricsUrl);
  assertAlive(srv);

  // Drain: every request of this step (the bystander's too) answered or timed out in the client.
  const drainUntil = performance.now() + cfg.timeoutMs + 2000;
  while ((s.pending > 0 || !by) && performance.now() < drainUntil) {
    await sleep(50);
    assertAlive(srv);
  }
  const drainSec = (performance.now() - s.win1) / 1000;
  const { ev: _, ...byStats } = (await byReport) as BystanderStep & { ev?: string };
  const undrained = s.pending;
  engine.abandon();
  // Recovery: the bystander is answered within 50 ms three times in a row.
  const tRecover = performance.now();
  const recoverMs = await bystander.recover(cfg.recoverS * 1000);
  const recoverSec = recoverMs === null ? null : (tRecover - s.win1 + recoverMs) / 1000;
  assertAlive(srv);
  rss.sample();
  rss.stop();

  const sent = s.sentMeasured;
  const share = (n: number) => (sent ? round((100 * n) / sent, 2) : 0);
  const outcomes = new Map([...s.outcomes].map(([k, n]) => [outcomeName(k), n]));
  const o = (k: string) => outcomes.get(k) ?? 0;
  const serverCpuPct = Math.round((100 * (cpu1 - cpu0)) / windowMs);
  const clientCpuMs = (bench.user + bench.system) / 1000;
  const clientCpuPct = Math.round((100 * clientCpuMs) / windowMs);
  const bystanderCpuPct = Math.round((100 * (by1 - by0)) / windowMs);
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
    outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
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
    byOp: Object.fromEntries(s.byOp.map((v, kind) => [cfg.opNames[kind]!, { sent: v.sent, ok: v.ok, p50: round(v.hist.percentile(50)), p99: round(v.hist.percentile(99)) }])),
    bystander: { sent: byStats.sent, ok: byStats.ok, p50: byStats.p50, p99: byStats.p99, max: byStats.max, failed: byStats.failed },
    serverRssEndMiB: mib(rssEnd),
    serverRssPeakMiB: mib(rss.peak),
    serverCpuPct,
    clientCpuPct,
    clientCpuUsPerReq: sent ? round((clientCpuMs * 1000) / sent, 1) : 0,
    bystanderCpuPct,
    othersCpuPct: Math.max(0, machinePct - serverCpuPct - clientCpuPct - bystanderCpuPct),
    // The histogram counts the 10 ms sampling interval itself: only what exceeds it is delay.
    clientLoopDelayP99: round(Math.max(0, eld.percentile(99) / 1e6 - 10)),
    clientLoopDelayMax: round(Math.max(0, eld.max / 1e6 - 10)),
    pacerLateMaxMs: round(Math.max(lateBefore, loop.lateMax)),
    queues: {
      sentInStep: sentLoad + byStats.sentAll,
      pendingAtEnd,
      serverRead: before && after ? after.in - before.in : null,
      serverAnswered: before && after ? after.out - before.out : null,
      clientWsBufferedKiB: round(buffered / 1024, 1),
      kernel,
    },
    drainSec: round(drainSec),
    undrained,
    lateReplies: s.late,
    recoverSec: recoverSec === null ? null : round(recoverSec),
    closedConns: engine.closedConns,
  };
}
