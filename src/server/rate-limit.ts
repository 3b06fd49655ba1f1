/**
 * Token bucket per connection: `ratePerSec` sustained, `burst` at once.
 * `strikes` counts refusals in a row so a client that keeps flooding after
 * being told can be disconnected.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  strikes = 0;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.strikes = 0;
      return true;
    }
    this.strikes++;
    return false;
  }
}

/**
 * A token bucket per user: `perMinute` sustained, `burst` at once, on the time
 * it is given (the injected clock). Buckets that have filled up again are
 * forgotten (a full bucket and no bucket are the same), checked whenever the
 * map has doubled since the last sweep, so memory follows the users who sent lately.
 */
export class PerUserRate {
  private readonly buckets = new Map<number, { tokens: number; last: number }>();
  private sweepAt = 1024;

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
  ) {}

  take(userId: number, now: number): boolean {
    const bucket = this.buckets.get(userId);
    const tokens = bucket ? this.refilled(bucket, now) : this.burst;
    if (tokens < 1) {
      bucket!.tokens = tokens;
      bucket!.last = Math.max(bucket!.last, now);
      return false;
    }
    if (bucket) Object.assign(bucket, { tokens: tokens - 1, last: Math.max(bucket.last, now) });
    else this.buckets.set(userId, { tokens: tokens - 1, last: now });
    if (this.buckets.size >= this.sweepAt) this.sweep(now);
    return true;
  }

  /** Users with a bucket that is not full (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: { tokens: number; last: number }, now: number): number {
    return Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.last) * this.perMinute) / 60_000);
  }

  private sweep(now: number): void {
    for (const [userId, bucket] of this.buckets) if (this.refilled(bucket, now) >= this.burst) this.buckets.delete(userId);
    this.sweepAt = Math.max(1024, this.buckets.size * 2);
  }
}
