/**
 * Helpers for open-loop load benches (bench/overload.ts): a latency
 * histogram, a collector for the server's warn/error log lines, a sampler of
 * a process's memory, the kernel's socket queues of a port, a Prometheus
 * scrape with a deadline, a bounded-concurrency pool and an open-loop pacer.
 * Linux only (/proc).
 */
import { readFileSync } from 'node:fs';
import { rssOf } from './proc.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Latency histogram: 10 µs buckets below 100 ms, 1 ms buckets up to 60 s, then one overflow bucket. */
export class Histogram {
  private readonly fine = new Uint32Array(10_000);
  private readonly coarse = new Uint32Array(60_000);
  count = 0;
  max = 0;

  add(ms: number): void {
    this.count++;
    if (ms > this.max) this.max = ms;
    if (ms < 100) this.fine[ms > 0 ? (ms * 100) | 0 : 0]!++;
    else if (ms < 60_100) this.coarse[(ms - 100) | 0]!++;
  }

  /** Upper edge of the bucket holding the p-th percentile (ms); 0 when empty. */
  percentile(p: number): number {
    if (!this.count) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.fine.length; i++) if ((seen += this.fine[i]!) >= rank) return (i + 1) / 100;
    for (let i = 0; i < this.coarse.length; i++) if ((seen += this.coarse[i]!) >= rank) return 100 + i + 1;
    return this.max;
  }
}

/** Runs `fn(0..n-1)` with at most `limit` calls pending at once. */
export async function pool<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/**
 * Keeps what a server (pino JSON on stdout, started with LIVE_LOG_LEVEL=warn)
 * said at warn level and above: counts per message, the first and the last lines.
 * Pass `collector.onLine` as startProcess's `onStdoutLine`.
 */
export class LogTally {
  warn = 0;
  error = 0;
  other = 0;
  readonly byMsg = new Map<string, number>();
  readonly first: string[] = [];
  private readonly last: string[] = [];

  constructor(private readonly keep = 40) {}

  /**
   * One stdout line. Regexes, not JSON.parse: an overloaded server can log
   * 10,000 lines/s and this runs in the bench client's own event loop.
   */
  readonly onLine = (line: string): void => {
    const lv = /^\{"level":(\d+)/.exec(line) ?? (line.startsWith('{') ? /"level":(\d+)/.exec(line) : null);
    const level = lv ? Number(lv[1]) : 0;
    if (level >= 50) this.error++;
    else if (level >= 40) this.warn++;
    else if (level === 0) this.other++;
    else return;
    const msg = level ? (/"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '') : '(not JSON)';
    // Which kind of actor (user, room, presence …) a line is about, when it says.
    const actor = /"actor":"([a-z]+)/.exec(line)?.[1];
    const key = `${level >= 50 ? 'error' : level >= 40 ? 'warn' : 'raw'}: ${msg}${actor ? ` [${actor}]` : ''}`;
    this.byMsg.set(key, (this.byMsg.get(key) ?? 0) + 1);
    const text = line.length > 400 ? `${line.slice(0, 400)}…` : line;
    if (this.first.length < 10) this.first.push(text);
    this.last.push(text);
    if (this.last.length > this.keep) this.last.shift();
  };

  /** The last lines kept (at most `keep`). */
  tail(): string[] {
    return [...this.last];
  }

  summary(): Record<string, number> {
    return Object.fromEntries([...this.byMsg].sort((a, b) => b[1] - a[1]));
  }

  /** Counts per message; with `all`, also the first and last lines kept (for an aborted run). */
  print(out: (s: string) => void = (s) => console.error(s), all = true): void {
    out(`server log: ${this.error} error, ${this.warn} warn lines${this.other ? `, ${this.other} non-JSON lines` : ''}`);
    for (const [k, n] of Object.entries(this.summary())) out(`  ${String(n).padStart(8)} × ${k}`);
    const first = all ? this.first : this.first.slice(0, 2);
    if (first.length) {
      out(`  first ${first.length} lines:`);
      for (const l of first) out(`    ${l}`);
    }
    const tail = all ? this.tail() : this.tail().slice(-2);
    if (tail.length) {
      out(`  last ${tail.length} lines:`);
      for (const l of tail) out(`    ${l}`);
    }
  }
}

/** Samples a process's RSS every `everyMs`, keeping the peak since the last reset. */
export class RssSampler {
  peak = 0;
  last = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 200,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    try {
      this.last = rssOf(this.pid);
    } catch {
      /* the process is gone */
    }
    if (this.last > this.peak) this.peak = this.last;
    return this.last;
  }

  reset(): void {
    this.peak = 0;
    this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface SocketQueues {
  /** Sockets counted on the server side of the port. */
  sockets: number;
  /** Bytes received by the kernel for the server and not yet read by it (requests waiting to be read). */
  serverRecvQ: number;
  /** Bytes the server wrote that the kernel has not yet sent or had acknowledged. */
  serverSendQ: number;
  /** Bytes received by the kernel for the clients and not yet read by them (replies the bench has not read). */
  clientRecvQ: number;
  /** Bytes the clients wrote that the kernel still holds. */
  clientSendQ: number;
}

/** Kernel queues of every TCP socket on 127.0.0.1:`port` (server side) and to it (client side), from /proc/net/tcp. */
export function socketQueues(port: number): SocketQueues {
  const q: SocketQueues = { sockets: 0, serverRecvQ: 0, serverSendQ: 0, clientRecvQ: 0, clientSendQ: 0 };
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return q;
  }
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 5) continue;
    const localPort = parseInt(f[1]!.split(':')[1]!, 16);
    const remotePort = parseInt(f[2]!.split(':')[1]!, 16);
    const state = f[3];
    if (state === '0A') continue; // LISTEN
    const [tx, rx] = f[4]!.split(':').map((h) => parseInt(h, 16)) as [number, number];
    if (localPort === port) {
      q.sockets++;
      q.serverRecvQ += rx;
      q.serverSendQ += tx;
    } else if (remotePort === port) {
      q.clientRecvQ += rx;
      q.clientSendQ += tx;
    }
  }
  return q;
}

/** GETs a Prometheus text page; undefined when it does not answer within `timeoutMs` (an overloaded server may not). */
export async function scrapeMetrics(url: string, timeoutMs = 1000): Promise<Map<string, number> | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const out = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const sp = line.lastIndexOf(' ');
      const v = Number(line.slice(sp + 1));
      if (Number.isFinite(v)) out.set(line.slice(0, sp), v);
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Open-loop pacer: calls `send(k)` for k = 0, 1, 2 … so that k requests have
 * gone out `k / rate` seconds after start, whether or not anything was
 * answered. A late timer sends what is due at once (the backlog is counted in
 * `lateMax`, the longest the pacer ran behind its schedule).
 */
export class OpenLoop {
  sent = 0;
  /** Longest the pacer ran behind schedule (ms; about tickMs when on time): the bench client's own lag. */
  lateMax = 0;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;

  constructor(
    private readonly rate: number,
    private readonly send: (k: number) => void,
    private readonly tickMs = 2,
  ) {}

  start(): this {
    this.t0 = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    return this;
  }

  private tick(): void {
    const elapsed = performance.now() - this.t0;
    const due = Math.floor((elapsed * this.rate) / 1000) + 1;
    // How long ago the oldest request not yet sent was due (≈ tickMs when on time).
    const late = elapsed - (this.sent * 1000) / this.rate;
    if (this.sent < due && late > this.lateMax) this.lateMax = late;
    while (this.sent < due) this.send(this.sent++);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Jiffies of the whole machine from /proc/stat: all, and idle (idle + iowait). */
export function machineTicks(): { total: number; idle: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, idle: (f[3] ?? 0) + (f[4] ?? 0) };
  } catch {
    return { total: 0, idle: 0 };
  }
}

/** Busy CPU of the whole machine between two readings, in % of one core (2 busy cores = 200). */
export function machineBusyPct(a: { total: number; idle: number }, b: { total: number; idle: number }, cores: number): number {
  const dt = b.total - a.total;
  if (dt <= 0) return 0;
  return Math.round((100 * cores * (dt - (b.idle - a.idle))) / dt);
}
