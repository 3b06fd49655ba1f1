import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server instance (own registry: tests run several servers per process). */
export class Metrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'live_ws_connections', help: 'open WebSocket connections', registers: [this.registry] });
  /** Read at scrape time; set by the server once its parts exist. */
  sources: { sessions(): number; actors(): Record<string, number>; outbox?(): { pending: number; dead: number } } = { sessions: () => 0, actors: () => ({}) };
  readonly sessions: Gauge = new Gauge({
    name: 'live_sessions',
    help: 'sessions, connected or waiting to be resumed',
    registers: [this.registry],
    collect: (): void => this.sessions.set(this.sources.sessions()),
  });
  readonly actorsAlive: Gauge<'kind'> = new Gauge({
    name: 'live_actors_alive',
    help: 'actors in memory',
    labelNames: ['kind'],
    registers: [this.registry],
    collect: (): void => {
      for (const [kind, n] of Object.entries(this.sources.actors())) this.actorsAlive.set({ kind }, n);
    },
  });
  readonly messagesIn = new Counter({ name: 'live_messages_in_total', help: 'frames received', registers: [this.registry] });
  readonly messagesOut = new Counter({ name: 'live_messages_out_total', help: 'frames sent (replies and pushes)', registers: [this.registry] });
  readonly shed = new Counter({ name: 'live_shed_total', help: 'requests and logins refused with BUSY (908) at the door', labelNames: ['what'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'live_errors_total', help: 'error replies and refusals by code', labelNames: ['code'], registers: [this.registry] });
  readonly journalWrite = new Histogram({
    name: 'live_journal_commit_seconds',
    help: 'time to commit one group of journal writes',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly journalBatch = new Histogram({
    name: 'live_journal_batch_items',
    help: 'writes per group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  readonly pushes = new Counter({
    name: 'live_push_outcomes_total',
    help: 'push outbox attempts by outcome: delivered, retried (failed, another attempt scheduled), dead',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly pushBacklog: Gauge<'status'> = new Gauge({
    name: 'live_push_backlog',
    help: 'push outbox items pending (not yet delivered) and dead',
    labelNames: ['status'],
    registers: [this.registry],
    collect: (): void => {
      const counts = this.sources.outbox?.();
      if (!counts) return;
      this.pushBacklog.set({ status: 'pending' }, counts.pending);
      this.pushBacklog.set({ status: 'dead' }, counts.dead);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'live_' });
  }

  error(code: number): void {
    this.errors.inc({ code: String(code) });
  }
}
