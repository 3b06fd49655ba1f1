/**
 * Shared pieces of bench/gifts.ts and its client processes
 * (bench/lib/gifts-client.ts): the IPC messages, a latency histogram that
 * merges across processes, and readings of the server (Prometheus metrics,
 * /proc) taken at both ends of the measured window.
 */
import { readFileSync } from 'node:fs';

// ---------------------------------------------------------------- IPC

export interface RoomPlan {
  hostId: number;
  senderIds: number[];
  watcherIds: number[];
}

export interface ClientInit {
  cmd: 'init';
  url: string;
  secret: string;
  rooms: RoomPlan[];
  /** gift.send requests each sender keeps in flight. */
  depth: number;
  gifts: Array<{ giftId: number; price: number }>;
  /** Sends per combo streak, drawn uniformly from [min, max]. */
  streakMin: number;
  streakMax: number;
  /** Share of sends made as single sends (no comboId), in percent. */
  singlePct: number;
  count: number;
  keys: boolean;
  concurrency: number;
  timeoutMs: number;
}
export type ToClient = ClientInit | { cmd: 'go' } | { cmd: 'mark' } | { cmd: 'stop' } | { cmd: 'quit' };

export interface WindowReport {
  ms: number;
  /** gift.send answered ok in the window, and their credits. */
  acks: number;
  credits: number;
  /** Ack latency (send → ok reply) of the acks in the window. */
  hist: SparseHist;
  maxMs: number;
  /** Pushes received in the window, by op. */
  pushes: Record<string, number>;
  /** Error replies in the window, by code. */
  errors: Record<string, number>;
  cpuMs: number;
  loopP99Ms: number;
  inflight: number;
}

export interface Totals {
  acks: number;
  credits: number;
  errors: Record<string, number>;
  /** Requests still unanswered after the drain. */
  unanswered: number;
  closed: number;
}

export type FromClient =
  | { ev: 'ready'; rooms: number; senders: number; sockets: number; connectMs: number; cpuMs: number }
  | ({ ev: 'window' } & WindowReport)
  | ({ ev: 'drained' } & Totals)
  | { ev: 'fail'; error: string };

// ---------------------------------------------------------------- histogram

export type SparseHist = Array<[bucket: number, count: number]>;

/** Latency histogram: 10 µs buckets below 100 ms, 1 ms buckets up to 60 s, the rest in the last one. Mergeable. */
export class LatHist {
  readonly buckets = new Uint32Array(10_000 + 60_000);
  count = 0;
  max = 0;

  add(ms: number): void {
    this.count++;
    if (ms > this.max) this.max = ms;
    const i = ms < 100 ? Math.max(0, (ms * 100) | 0) : Math.min(this.buckets.length - 1, 10_000 + ((ms - 100) | 0));
    this.buckets[i]!++;
  }

  toSparse(): SparseHist {
    const out: SparseHist = [];
    this.buckets.forEach((n, i) => n && out.push([i, n]));
    return out;
  }

  addSparse(s: SparseHist, max = 0): void {
    for (const [i, n] of s) (this.buckets[i]! += n), (this.count += n);
    if (max > this.max) this.max = max;
  }

  /** Upper edge of the bucket holding the p-th percentile, ms (0 when empty). */
  percentile(p: number): number {
    if (!this.count) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      if ((seen += this.buckets[i]!) >= rank) return i < 10_000 ? (i + 1) / 100 : 100 + (i - 10_000) + 1;
    }
    return this.max;
  }
}

// ---------------------------------------------------------------- server readings

/** Sum of the Prometheus samples whose name (labels included) starts with `prefix`. */
export function metricSum(m: Map<string, number>, prefix: string): number {
  let sum = 0;
  for (const [k, v] of m) if (k === prefix || k.startsWith(`${prefix}{`)) sum += v;
  return sum;
}

/** Cumulative `le` buckets of a Prometheus histogram: [[le, count] …] sorted by le. */
export function histBuckets(m: Map<string, number>, name: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [k, v] of m) {
    const le = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(k)?.[1];
    if (le !== undefined) out.push([le === '+Inf' ? Infinity : Number(le), v]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The bucket bound under which p % of the observations between two scrapes fall (a Prometheus-style estimate: the bucket's upper edge). */
export function histPercentile(a: Map<string, number>, b: Map<string, number>, name: string, p: number): number {
  const before = new Map(histBuckets(a, name));
  const delta = histBuckets(b, name).map(([le, n]) => [le, n - (before.get(le) ?? 0)] as const);
  const total = delta.at(-1)?.[1] ?? 0;
  if (!total) return 0;
  return delta.find(([, n]) => n >= (p / 100) * total)?.[0] ?? Infinity;
}

/** Bytes a process caused to be written to storage (Linux /proc/<pid>/io write_bytes), 0 if unreadable. */
export function writeBytesOf(pid: number): number {
  try {
    return Number(/^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
