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
