/**
 * What bench/overload.ts prints: the ramp's verdicts, one table per target
 * (outcomes, latencies, bystander, memory, CPU), where the unanswered
 * requests were, and ours / bare at the same offered load.
 */
import { round } from './load.js';
import type { StepResult } from './overload-step.js';

export interface TargetRun {
  target: string;
  idleRssMiB: number;
  ramp: StepResult[];
  steps: StepResult[];
}

const pct = (x: number) => (x ? `${x} %` : '0');

export function rampVerdict(r: StepResult, p99Ms: number): { pass: boolean; clientLimited: boolean; why: string } {
  const why: string[] = [];
  const clientLimited = r.offeredPerSec < 0.97 * r.targetRate;
  if (clientLimited) why.push(`client sent only ${r.offeredPerSec}/s`);
  if (r.goodputPerSec < 0.97 * r.offeredPerSec) why.push(`goodput ${r.goodputPerSec}/s < 97 % of offered`);
  if (r.shares.ok < 99) why.push(`ok ${r.shares.ok} %`);
  if (r.okP99 > p99Ms) why.push(`ok p99 ${r.okP99} ms > ${p99Ms} ms`);
  return { pass: why.length === 0, clientLimited, why: why.join('; ') || 'pass' };
}

/** One step on one line (progress on stderr). */
export function oneLine(r: StepResult): string {
  const other = Object.entries(r.outcomes)
    .filter(([k]) => k !== 'ok')
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
  return (
    `offered ${r.offeredPerSec}/s, goodput ${r.goodputPerSec}/s, ok ${r.shares.ok} %${other ? ` (${other})` : ''}, ` +
    `ok p50/p99 ${r.okP50}/${r.okP99} ms, bystander p50/p99 ${r.bystander.p50}/${r.bystander.p99} ms, RSS ${r.serverRssEndMiB}/${r.serverRssPeakMiB} MiB, ` +
    `server CPU ${r.serverCpuPct} %, client CPU ${r.clientCpuPct} % (${r.clientCpuUsPerReq} µs/req), others ${r.othersCpuPct} %, loop p99 ${r.clientLoopDelayP99} ms, ` +
    `pending at end ${r.queues.pendingAtEnd}, recovered ${r.recoverSec === null ? 'no' : `${r.recoverSec} s`}`
  );
}

export function printRamp(ramp: StepResult[], p99Ms: number): void {
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
      verdict: rampVerdict(r, p99Ms).why,
    })),
  );
}

export function printTarget(run: TargetRun, recoverS: number): void {
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
      'client µs/req': r.clientCpuUsPerReq,
      'others CPU': `${r.othersCpuPct} %`,
      'client loop p99/max ms': `${r.clientLoopDelayP99} / ${r.clientLoopDelayMax}`,
      'recover s': r.recoverSec ?? `>${recoverS}`,
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

/** ours / bare step by step (same absolute rates); printed, and returned for the JSON. */
export function printRatios(ours: TargetRun, bare: TargetRun): Array<Record<string, unknown>> {
  const ratios: Array<Record<string, unknown>> = [];
  for (let i = 0; i < Math.min(ours.steps.length, bare.steps.length); i++) {
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
      'client µs/req ours/bare': `${a.clientCpuUsPerReq} / ${b.clientCpuUsPerReq}`,
    });
  }
  console.log('\nours / bare (same offered load)');
  console.table(ratios);
  return ratios;
}
