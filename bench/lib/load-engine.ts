/**
 * The request/reply hot path of bench/overload.ts, made cheap so the bench
 * client is not what collapses under overload. Requests in flight live in a
 * ring of typed arrays indexed by request id (ids are global, so unique per
 * connection too): send time, kind, connection. A reply finds its slot from
 * `re`; one sweep every 100 ms walks the ring from the oldest request and
 * times out those older than `timeoutMs` (requests go out in id order, so
 * the walk stops at the first young one). No promise, timer, Map entry or
 * Error per request; a refusal costs what an ok costs.
 */
import { Histogram } from './load.js';
import { LoadConn, reply } from './load-conn.js';

/** Outcome codes: a server error code (908, 903, 907 …) or one of these. */
export const OK = 0;
export const TIMEOUT = -1;
export const CLOSED = -2;
export const OTHER = -3;
export const outcomeName = (o: number): string => (o === OK ? 'ok' : o === TIMEOUT ? 'timeout' : o === CLOSED ? 'closed' : o === OTHER ? 'other' : String(o));

export interface StepStats {
  sentWarm: number;
  sentMeasured: number;
  skippedClosed: number;
  pending: number;
  okInWindow: number;
  /** Replies that came after their request had timed out (or was abandoned). */
  late: number;
  /** Outcomes of requests sent in the window (see outcomeName). */
  outcomes: Map<number, number>;
  ok: Histogram;
  refusals: Histogram;
  errors: Histogram;
  /** Per request kind (index into the kinds given to the engine). */
  byOp: Array<{ sent: number; ok: number; hist: Histogram }>;
  win0: number;
  win1: number;
}

const RING = 1 << 20; // in flight at most: 1M (≈ 100k req/s for 10 s)
const MASK = RING - 1;
const MEASURED = 0x80;

export class LoadEngine {
  readonly conns: LoadConn[] = [];
  /** templates[i][kind]: the request bytes of connection i for each kind. */
  readonly templates: Buffer[][] = [];
  stats: StepStats;
  /** Whether requests sent now count in the window. */
  measuring = false;
  private readonly sentAt = new Float64Array(RING);
  private readonly idOf = new Uint32Array(RING);
  private readonly connOf = new Uint32Array(RING);
  /** 0: free; else (kind + 1) | MEASURED when sent in the window. */
  private readonly meta = new Uint8Array(RING);
  private nextId = 1;
  /** The oldest id that may still be in flight. */
  private tail = 1;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly waiters = new Map<number, (ok: boolean, code: number) => void>();
  /** Upgrades refused with 503 (908) and tried again while connecting. */
  retries = 0;

  constructor(
    private readonly kinds: number,
    /** The request kind of the k-th request sent by the pacer. */
    private readonly kindOf: (k: number) => number,
    private readonly timeoutMs: number,
  ) {
    this.stats = this.newStats();
  }

  private newStats(): StepStats {
    return {
      sentWarm: 0,
      sentMeasured: 0,
      skippedClosed: 0,
      pending: 0,
      okInWindow: 0,
      late: 0,
      outcomes: new Map(),
      ok: new Histogram(),
      refusals: new Histogram(),
      errors: new Histogram(),
      byOp: Array.from({ length: this.kinds }, () => ({ sent: 0, ok: 0, hist: new Histogram() })),
      win0: Infinity,
      win1: Infinity,
    };
  }

  /**
   * Opens connection i (0-based; request k goes to connection k mod N) with
   * its request templates (one per kind). An upgrade refused for load (HTTP
   * 503, code 908: too many logins waiting, or the server shedding) is tried
   * again a little later, as an app would; `retries` counts those.
   */
  async connect(i: number, url: string, token: string, templates: Buffer[]): Promise<LoadConn> {
    this.templates[i] = templates;
    for (let attempt = 1; ; attempt++) {
      try {
        const conn = await LoadConn.connect(url, { token, timeoutMs: this.timeoutMs, onReply: this.onReply, onClose: () => this.onClose(i) });
        this.conns[i] = conn;
        return conn;
      } catch (err) {
        if ((err as { status?: number }).status !== 503 || attempt >= 20) throw err;
        this.retries++;
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
      }
    }
  }

  /** One request outside the load (setup: room.enter), awaited; resolves with ok and the error code. */
  call(i: number, bytes: Buffer): Promise<{ ok: boolean; code: number }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.waiters.delete(id), reject(new Error(`setup request timed out (connection ${i})`))), this.timeoutMs);
      this.waiters.set(id, (ok, code) => (clearTimeout(timer), resolve({ ok, code })));
      this.conns[i]!.send(bytes, id);
    });
  }

  /** Starts a step: new counters; requests of an earlier step still in flight are forgotten (counted there as undrained). */
  beginStep(): StepStats {
    this.abandon();
    this.measuring = false;
    this.stats = this.newStats();
    this.sweeper ??= setInterval(this.sweep, 100);
    return this.stats;
  }

  /** Forgets the requests still in flight (their replies will be ignored); returns how many there were. */
  abandon(): number {
    let n = 0;
    for (let id = this.tail; id < this.nextId; id++) {
      const slot = id & MASK;
      if (this.meta[slot] !== 0 && this.idOf[slot] === id) (this.meta[slot] = 0), n++;
    }
    this.tail = this.nextId;
    this.stats.pending = 0;
    return n;
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** The pacer's callback (OpenLoop): request k goes to connection k mod N. */
  readonly send = (k: number): void => {
    const s = this.stats;
    const i = k % this.conns.length;
    const conn = this.conns[i]!;
    if (conn.closed) return void s.skippedClosed++;
    const kind = this.kindOf(k);
    const id = this.nextId++;
    const slot = id & MASK;
    const now = performance.now();
    if (this.meta[slot] !== 0) this.settle(slot, TIMEOUT, now); // more than RING in flight: the oldest gives up
    this.meta[slot] = (kind + 1) | (this.measuring ? MEASURED : 0);
    this.idOf[slot] = id;
    this.connOf[slot] = i;
    this.sentAt[slot] = now;
    if (this.measuring) s.sentMeasured++, s.byOp[kind]!.sent++;
    else s.sentWarm++;
    s.pending++;
    conn.send(this.templates[i]![kind]!, id);
  };

  private readonly onReply = (): void => {
    const re = reply.re;
    if (this.waiters.size) {
      const w = this.waiters.get(re);
      if (w) return void (this.waiters.delete(re), w(reply.ok, reply.code));
    }
    const slot = re & MASK;
    if (this.meta[slot] === 0 || this.idOf[slot] !== re) return void this.stats.late++;
    this.settle(slot, reply.ok ? OK : reply.code || OTHER, performance.now());
  };

  private settle(slot: number, outcome: number, now: number): void {
    const s = this.stats;
    const m = this.meta[slot]!;
    this.meta[slot] = 0;
    s.pending--;
    if (outcome === OK && now >= s.win0 && now < s.win1) s.okInWindow++;
    if (!(m & MEASURED)) return;
    s.outcomes.set(outcome, (s.outcomes.get(outcome) ?? 0) + 1);
    const lat = now - this.sentAt[slot]!;
    if (outcome === OK) {
      s.ok.add(lat);
      const op = s.byOp[(m & 0x7f) - 1]!;
      op.ok++;
      op.hist.add(lat);
    } else if (outcome === 908 || outcome === 903) s.refusals.add(lat);
    else s.errors.add(lat);
  }

  /** Every 100 ms: time out the requests older than timeoutMs, oldest first. */
  private readonly sweep = (): void => {
    const now = performance.now();
    const limit = now - this.timeoutMs;
    for (; this.tail < this.nextId; this.tail++) {
      const slot = this.tail & MASK;
      if (this.meta[slot] === 0 || this.idOf[slot] !== this.tail) continue;
      if (this.sentAt[slot]! > limit) break;
      this.settle(slot, TIMEOUT, now);
    }
  };

  /** A connection closed: its requests in flight fail as 'closed'. */
  private onClose(i: number): void {
    const now = performance.now();
    for (let id = this.tail; id < this.nextId; id++) {
      const slot = id & MASK;
      if (this.meta[slot] !== 0 && this.idOf[slot] === id && this.connOf[slot] === i) this.settle(slot, CLOSED, now);
    }
  }

  /** Bytes queued in the client's sockets (ws bufferedAmount), all connections. */
  buffered(): number {
    let n = 0;
    for (const c of this.conns) if (c && !c.closed) n += c.bufferedAmount;
    return n;
  }

  get closedConns(): number {
    return this.conns.filter((c) => c?.closed).length;
  }

  dropAll(): void {
    this.stop();
    for (const c of this.conns) c?.drop();
  }
}
