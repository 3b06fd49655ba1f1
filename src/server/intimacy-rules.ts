/** Intimacy rules (F9), pure: what a pair's points are worth now, and which level they make. */

export const DAY_MS = 86_400_000;

/**
 * Points after decay: for each full day (24 h on the server's clock) since
 * the pair last grew, points lose `decayPct` percent, rounded down each day.
 * Computed from the stored time, so no timer is needed per pair.
 */
export function decayed(points: number, since: number, now: number, decayPct: number): number {
  const days = Math.max(0, Math.floor((now - since) / DAY_MS));
  let p = points;
  for (let d = 0; d < days && p > 0 && decayPct > 0; d++) p = Math.floor((p * (100 - decayPct)) / 100);
  return p;
}

/** The level of `points`: how many thresholds (ascending) it has reached (0 below the first). */
export function levelOf(points: number, thresholds: readonly number[]): number {
  let level = 0;
  while (level < thresholds.length && points >= thresholds[level]!) level++;
  return level;
}

/** Points the next level needs (null at the top level). */
export function nextLevelAt(points: number, thresholds: readonly number[]): number | null {
  return thresholds[levelOf(points, thresholds)] ?? null;
}
