/**
 * Load shedding at the door. When the server cannot keep up it says so early
 * and cheaply (BUSY, 908, answered at once) instead of queueing work it will
 * finish too late: memory stays bounded, accepted work completes, and light
 * requests of other users keep a low latency.
 *
 * - Requests in flight (admitted, not yet answered) are counted. Under
 *   `maxInflight` every request is admitted; between it and twice it, only
 *   requests of users with nothing else in flight (a bystander's whoami gets
 *   through while a flooder's tenth request does not); beyond, none.
 * - Logins waiting for their journal write are counted too: past
 *   `maxPendingLogins` the upgrade is refused (HTTP 503 with code 908) before
 *   any state is touched. A login once accepted is never failed for load.
 * Per-user queues (Lanes) and per-actor queues (Directory) bound the rest.
 */
export class Admission {
  private inflight = 0;
  private logins = 0;

  constructor(private readonly opts: { maxInflight: number; maxPendingLogins: number; onShed?(what: 'request' | 'login'): void }) {}

  get requestsInFlight(): number {
    return this.inflight;
  }

  get loginsInFlight(): number {
    return this.logins;
  }

  /** Admits a request (call `requestDone` when it is answered) or returns false. */
  admitRequest(userIdle: boolean): boolean {
    const max = this.opts.maxInflight;
    if (this.inflight < max || (userIdle && this.inflight < 2 * max)) {
      this.inflight++;
      return true;
    }
    this.opts.onShed?.('request');
    return false;
  }

  requestDone(): void {
    this.inflight--;
  }

  /** Whether a new login may be accepted now (checked at upgrade, before anything is created). */
  canAcceptLogin(): boolean {
    if (this.logins < this.opts.maxPendingLogins && this.inflight < 2 * this.opts.maxInflight) return true;
    this.opts.onShed?.('login');
    return false;
  }

  loginStarted(): void {
    this.logins++;
  }

  loginDone(): void {
    this.logins--;
  }
}
