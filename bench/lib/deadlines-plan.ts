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
