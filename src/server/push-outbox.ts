import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { CommitWork } from '../storage/journal-engine.js';
import type { OutboxItem, OutboxStore } from '../storage/outbox.js';
import { nextStep, resultOfStatus, type AttemptResult, type RetryPolicy } from './push-policy.js';

export interface PushDelivererOptions extends RetryPolicy {
  /** The push gateway; '' sends nothing (items stay pending). */
  url: string;
  /** Sent as `Authorization: Bearer <secret>` when not ''. */
  secret: string;
  timeoutMs: number;
  concurrency: number;
}

export interface PushDelivererDeps {
  options: PushDelivererOptions;
  store: OutboxStore;
  /** Runs work inside the journal's group commit (SqliteJournalEngine.submit). */
  commit: (work: CommitWork) => void;
  clock: Clock;
  logger: Logger;
  /** Called once an outcome has committed. */
  counted?: (outcome: 'delivered' | 'retried' | 'dead') => void;
  random?: () => number;
  fetch?: typeof fetch;
}

/** The JSON body POSTed to the gateway. `id` stays the same across attempts: the gateway dedupes on it. */
export interface PushDelivery {
  id: number;
  userId: number;
  kind: string;
  payload: unknown;
  createdAt: number;
  attempt: number;
}

/**
 * Drains the push outbox into the gateway, at least once per item: an item
 * leaves the pending state only once the outcome of an attempt (delivered,
 * retry at, dead) has committed, so a crash in between sends it again with
 * the same id. At most `concurrency` requests are in flight, never two for
 * one user, and a user's next item is not sent before the previous one is
 * delivered or dead (the store's heads). Time is the injected clock's: the
 * next due retry and each request's timeout are clock timers.
 */
export class PushDeliverer {
  /** userId → item in flight (until its outcome committed). */
  private readonly inFlight = new Map<number, number>();
  private readonly aborts = new Set<AbortController>();
  private timer: TimerHandle | undefined;
  private kicked = false;
  private closed = false;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly deps: PushDelivererDeps) {
    this.random = deps.random ?? Math.random;
    this.fetch = deps.fetch ?? globalThis.fetch;
  }

  get enabled(): boolean {
    return this.deps.options.url !== '';
  }

  /** Picks up what is due (pending items survive restarts with their next attempt time). */
  start(): void {
    if (!this.enabled) {
      this.deps.logger.info('LIVE_PUSH_WEBHOOK_URL not set: outbox items are kept pending and not sent');
      return;
    }
    this.poll();
  }

  /** Something changed (an item written, an outcome committed): look again once the current turn is done. */
  kick(): void {
    if (this.kicked || this.closed || !this.enabled) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.poll();
    });
  }

  /** For code outside the actors: puts an item into the outbox through the group commit. */
  enqueue(userId: number, kind: string, payload: unknown): Promise<void> {
    const at = this.deps.clock.now();
    return this.committed(() => this.deps.store.append(userId, kind, payload, at)).then(() => this.kick());
  }

  /** The same item for many users (a host's followers), in one commit. */
  enqueueMany(userIds: readonly number[], kind: string, payload: unknown): Promise<void> {
    const at = this.deps.clock.now();
    return this.committed(() => {
      for (const userId of userIds) this.deps.store.append(userId, kind, payload, at);
    }).then(() => this.kick());
  }

  /** A dead item back to pending (attempts from 0). False: no dead item with that id. */
  async retry(id: number): Promise<boolean> {
    let revived = false;
    const at = this.deps.clock.now();
    await this.committed(() => (revived = this.deps.store.retryDead(id, at)));
    if (revived) {
      this.deps.logger.info({ deliveryId: id }, 'push: dead item back to pending');
      this.kick();
    }
    return revived;
  }

  /** Stops sending; requests in flight are abandoned (their items stay pending and go again after a restart). */
  close(): void {
    this.closed = true;
    this.deps.clock.clearTimeout(this.timer);
    for (const ac of this.aborts) ac.abort(new Error('server stopping'));
  }

  private poll(): void {
    if (this.closed || !this.enabled) return;
    const { store, clock, options } = this.deps;
    const now = clock.now();
    const free = options.concurrency - this.inFlight.size;
    if (free > 0) {
      // In-flight heads are due too: ask for enough to fill the free slots past them.
      for (const item of store.due(now, free + this.inFlight.size)) {
        if (this.inFlight.size >= options.concurrency) break;
        if (this.inFlight.has(item.userId)) continue;
        this.inFlight.set(item.userId, item.id);
        void this.send(item);
      }
    }
    clock.clearTimeout(this.timer);
    this.timer = undefined;
    const next = store.nextDueAfter(now);
    if (next !== null) this.timer = clock.setTimeout(() => this.poll(), next - now);
  }

  private async send(item: OutboxItem): Promise<void> {
    const { options, clock, logger } = this.deps;
    const attempt = item.attempts + 1;
    const body: PushDelivery = { id: item.id, userId: item.userId, kind: item.kind, payload: item.payload, createdAt: item.createdAt, attempt };
    const ac = new AbortController();
    this.aborts.add(ac);
    let timedOut = false;
    const timeout = clock.setTimeout(() => {
      timedOut = true;
      ac.abort(new Error('timeout'));
    }, options.timeoutMs);
    let result: AttemptResult;
    try {
      const res = await this.fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(options.secret ? { authorization: `Bearer ${options.secret}` } : {}) },
        body: JSON.stringify(body),
        signal: ac.signal,
        redirect: 'manual',
      });
      // The status is the answer; the body is not read.
      await res.body?.cancel().catch(() => {});
      result = resultOfStatus(res.status);
    } catch (err) {
      result = { ok: false, status: null, error: timedOut ? `timed out after ${options.timeoutMs} ms` : describe(err) };
    } finally {
      clock.clearTimeout(timeout);
      this.aborts.delete(ac);
    }
    if (this.closed) return;
    const now = clock.now();
    const step = nextStep(result, attempt, now, options, this.random);
    const log = { userId: item.userId, deliveryId: item.id, kind: item.kind, attempt, status: result.ok ? result.status : result.status ?? undefined };
    const error = result.ok ? '' : result.error;
    this.committed(() => {
      if (step.to === 'delivered') this.deps.store.delivered(item.id, attempt, now);
      else if (step.to === 'dead') this.deps.store.dead(item.id, attempt, error, now);
      else this.deps.store.failed(item.id, attempt, step.at, error, now);
    }).then(
      () => {
        this.inFlight.delete(item.userId);
        if (step.to === 'delivered') logger.debug(log, 'push delivered');
        else if (step.to === 'dead') logger.warn({ ...log, error }, 'push dead: not delivered, no more attempts');
        else logger.info({ ...log, error, retryAt: step.at }, 'push attempt failed, will retry');
        this.deps.counted?.(step.to === 'retry' ? 'retried' : step.to);
        this.kick();
      },
      (err: unknown) => {
        // The outcome is not stored: the item is still pending as before and goes again, after a pause
        // (a failing disk must not turn into a loop of requests).
        logger.error({ err, userId: item.userId, deliveryId: item.id }, 'push: recording the outcome failed');
        clock.setTimeout(() => {
          this.inFlight.delete(item.userId);
          this.kick();
        }, options.backoffBaseMs);
      },
    );
  }

  private committed(apply: () => void): Promise<void> {
    return new Promise((resolve, reject) => this.deps.commit({ apply, done: (err) => (err ? reject(err) : resolve()) }));
  }
}

/** A connection error as its code (ECONNREFUSED…) or message; never the URL's credentials or the secret. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
