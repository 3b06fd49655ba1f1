/**
 * Load shedding at the door. When the server cannot keep up it says so early
 * and cheaply (BUSY, 908, answered at once) instead of queueing work it will
 * finish too late: memory stays bounded, accepted work completes, and light
 * requests of other users keep a low latency.
 *
 * - Requests in flight (admitted, not yet answered) are counted against a
 *   limit. The limit adapts to the time requests spend in the server (their
 *   sojourn): every `intervalMs`, if most requests answered in that interval
 *   took longer than `targetMs` (a standing queue, not a burst), the limit
 *   drops below the number in flight, so new work is shed
 *   until the queue drains; otherwise it grows back toward `maxInflight`. A
 *   burst that the server clears within the target is therefore admitted
 *   whole, while sustained overload is cut at once (the idea of CoDel,
 *   applied to a concurrency limit).
 * - A user with nothing in flight is admitted up to twice `maxInflight`
 *   whatever the limit: a bystander's whoami gets through while a flooder's
 *   tenth request does not.
 * - Logins waiting for their journal write are counted too: past
 *   `maxPendingLogins`, or with `maxInflight` requests in flight, the upgrade is
 *   refused (HTTP 503 with code 908) before any state is touched. A login
 *   once accepted is never failed for load.
 * Per-user queues (Lanes) and per-actor queues (Directory) bound the rest.
 */
export interface AdmissionOptions {
  /** The most requests in flight when requests are answered fast (users with nothing in flight: twice this). */
  maxInflight: number;
  maxPendingLogins: number;
  /** Sojourn above which a request counts as having queued. */
  targetMs?: number;
  intervalMs?: number;
  /** Real time in ms (the load is real even when a test drives the server's clock). */
  now?(): number;
  onShed?(what: 'request' | 'login'): void;
}

/** An admitted request: when, and whether it came in past the limit as an idle user's. */
export interface Ticket {
  at: number;
  bypass: boolean;
}

export class Admission {
  private inflight = 0;
  private logins = 0;
  private limit: number;
  /** Requests answered in this interval, and how many of them took longer than the target. */
  private answered = 0;
  private late = 0;
  private intervalEnds: number;
  private readonly targetMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: AdmissionOptions) {
    this.limit = opts.maxInflight;
    this.targetMs = opts.targetMs ?? 50;
    this.intervalMs = opts.intervalMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.intervalEnds = this.now() + this.intervalMs;
  }

  get requestsInFlight(): number {
    return this.inflight;
  }

  get loginsInFlight(): number {
    return this.logins;
  }

  /** The current limit of requests in flight (≤ maxInflight). */
  get currentLimit(): number {
    return this.limit;
  }

  /**
   * Admits a request and returns its ticket (pass it to `requestDone` when the
   * request is answered), or returns undefined: shed.
   */
  admitRequest(userIdle: boolean): Ticket | undefined {
    const now = this.now();
    this.review(now);
    if (this.inflight < this.limit) {
      this.inflight++;
      return { at: now, bypass: false };
    }
    if (userIdle && this.inflight < 2 * this.opts.maxInflight) {
      this.inflight++;
      return { at: now, bypass: true };
    }
    this.opts.onShed?.('request');
    return undefined;
  }

  /**
   * `measured: false` for requests that did no work (refused as malformed):
   * only requests admitted under the limit tell how long work queues (those let
   * in past it are idle users', answered at once, and would hide the queue).
   */
  requestDone(ticket: Ticket, measured = true): void {
    this.inflight--;
    const now = this.now();
    if (measured && !ticket.bypass) {
      this.answered++;
      if (now - ticket.at > this.targetMs) this.late++;
    }
    this.review(now);
  }

  /** Whether a new login may be accepted now (checked at upgrade, before anything is created). */
  canAcceptLogin(): boolean {
    this.review(this.now());
    // Against the hard bound, not the adaptive limit: a storm of logins and room entries queues for
    // tens of milliseconds without the server being overloaded, and a refused login costs a reconnect.
    if (this.logins < this.opts.maxPendingLogins && this.inflight < this.opts.maxInflight) return true;
    this.opts.onShed?.('login');
    return false;
  }

  loginStarted(): void {
    this.logins++;
  }

  loginDone(): void {
    this.logins--;
  }

  /** Once per interval: shrink the limit under a standing queue, grow it back otherwise. */
  private review(now: number): void {
    if (now < this.intervalEnds) return;
    // Most answers late means a standing queue (a few fast ones come from users whose own queue
    // happened to be empty); nothing answered in a whole interval while work is in flight too.
    const queued = this.answered === 0 ? this.inflight > 0 : this.late * 2 > this.answered;
    const max = this.opts.maxInflight;
    this.limit = queued ? Math.max(1, Math.min(this.limit, Math.floor(this.inflight * 0.9))) : Math.min(max, Math.max(this.limit * 2, 16));
    this.answered = 0;
    this.late = 0;
    this.intervalEnds = now + this.intervalMs;
  }
}
