import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import { committed, type CommitQueue } from '../storage/commit-queue.js';
import type { OutboxStore } from '../storage/outbox.js';

/** How often delivered items are looked for, and how many one commit deletes. */
export const PRUNE_EVERY_MS = 3_600_000;
export const PRUNE_BATCH = 1000;

/**
 * Delivered push-outbox items are kept `keepMs` (for the gateway's support
 * questions), then deleted: every PRUNE_EVERY_MS, in commits of PRUNE_BATCH
 * with a turn of the event loop between them, so a backlog of deletions does
 * not hold anything up. Dead items are kept (GET /admin/outbox).
 */
export class OutboxPruner {
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly deps: { store: Pick<OutboxStore, 'pruneDelivered'>; commits: CommitQueue; clock: Clock; logger: Logger; keepMs: number }) {}

  start(): void {
    this.timer = this.deps.clock.setTimeout(() => void this.run(), PRUNE_EVERY_MS);
  }

  close(): void {
    this.closed = true;
    this.deps.clock.clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    const { store, commits, clock, logger, keepMs } = this.deps;
    const before = clock.now() - keepMs;
    let deleted = 0;
    try {
      for (;;) {
        if (this.closed) return;
        const n = await committed(commits, () => store.pruneDelivered(before, PRUNE_BATCH));
        deleted += n;
        if (n < PRUNE_BATCH) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (deleted > 0) logger.info({ deleted, before }, 'delivered outbox items deleted');
    } catch (err) {
      logger.error({ err }, 'deleting delivered outbox items failed; again at the next round');
    }
    if (!this.closed) this.start();
  }
}
