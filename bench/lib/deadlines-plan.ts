import { Histogram } from './load.js';

/**
 * The exactly-once check of `npm run bench:timers`: of the deadlines due within `observe` ms of the
 * plan's start, how many never fired or fired more than once; of those due later, how many fired
 * (early: the run stops right after the watched window).
 */
export function tally(fired: Uint8Array, offsets: Int32Array, observe: number): { missing: number; twice: number; early: number } {
  let missing = 0;
  let twice = 0;
  let early = 0;
  offsets.forEach((offset, i) => {
    const n = fired[i]!;
    if (offset > observe) early += n > 0 ? 1 : 0;
    else if (n === 0) missing++;
    else if (n > 1) twice++;
  });
  return { missing, twice, early };
}

/** Seconds after the burst second whose deadlines count as its aftermath (they queue behind it). */
const AFTERMATH_MS = 5000;

/**
 * Lateness by where a deadline falls: in the burst second, in the few seconds after it (behind its
 * backlog), or elsewhere (normal load); `rest` is everything outside the burst second.
 */
export class Lateness {
  private readonly burst = new Histogram();
  private readonly after = new Histogram();
  private readonly quiet = new Histogram();
  private readonly rest = new Histogram();

  constructor(private readonly burstFrom: number) {}

  add(offset: number, ms: number): void {
    if (offset >= this.burstFrom && offset < this.burstFrom + 1000) return this.burst.add(ms);
    this.rest.add(ms);
    (offset >= this.burstFrom + 1000 && offset < this.burstFrom + 1000 + AFTERMATH_MS ? this.after : this.quiet).add(ms);
  }

  report() {
    const pct = (h: Histogram) => ({ p50: h.percentile(50), p99: h.percentile(99), max: Math.round(h.max * 10) / 10, n: h.count });
    return { burst: pct(this.burst), after: pct(this.after), quiet: pct(this.quiet), rest: pct(this.rest) };
  }
}
