/**
 * What happens to an outbox item after an attempt: the pure part of the
 * push deliverer (tested without HTTP).
 */
export interface RetryPolicy {
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxAttempts: number;
}

/** How one attempt ended. */
export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

export type NextStep =
  | { to: 'delivered' }
  | { to: 'retry'; at: number }
  | { to: 'dead' };

/**
 * Delay before attempt `attempts + 1`, after `attempts` failed ones (≥ 1):
 * base × 2^(attempts − 1), capped at max, then scaled to 50–100 % by
 * `random()` ∈ [0, 1) ("equal jitter": retries of many items spread out,
 * yet none comes back sooner than half the step).
 */
export function backoffMs(attempts: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(attempts - 1, 52));
  return Math.max(1, Math.round(step / 2 + (step / 2) * random()));
}

/**
 * 4xx answers other than 408 (timeout) and 429 (too many requests) say the
 * gateway will never take this item: retrying cannot help.
 */
export function isPermanent(status: number | null): boolean {
  return status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * 2xx: delivered. A permanent refusal, or the last allowed attempt failing:
 * dead. Anything else (other statuses, timeouts, connection errors): retried
 * after the backoff.
 */
export function nextStep(result: AttemptResult, attempts: number, now: number, policy: RetryPolicy, random: () => number): NextStep {
  if (result.ok) return { to: 'delivered' };
  if (isPermanent(result.status) || attempts >= policy.maxAttempts) return { to: 'dead' };
  return { to: 'retry', at: now + backoffMs(attempts, policy, random) };
}

/** 2xx is success; every other status is a failure (redirects are not followed). */
export function resultOfStatus(status: number): AttemptResult {
  return status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` };
}
