import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { IntimacyStore } from '../storage/intimacy.js';
import type { Config } from './config.js';
import { decayed, levelOf, nextLevelAt } from './intimacy-rules.js';
import type { SessionRegistry } from './sessions.js';

export const WATCH_MINUTE_MS = 60_000;

interface Pair {
  points: number;
  at: number;
}

/**
 * Intimacy between a viewer and a host (F9, 7.27): it grows by
 * LIVE_INTIMACY_PER_CREDIT points per credit the viewer spends on the host
 * (gifts paid with credits, accepted talent requests) and LIVE_INTIMACY_PER_MINUTE
 * points per whole minute of a visit to the host's public room (counted when
 * the visit ends), and decays by LIVE_INTIMACY_DECAY_PCT per full day without
 * growth (intimacy-rules.ts), computed from stored times on the server's
 * clock. Growth decides in memory (single thread: no lost update) and is
 * stored through the group commit; crossing a level pushes intimacy.level_up
 * to both.
 */
export class IntimacyService {
  /** Pairs whose newest row is still committing. */
  private readonly pairs = new Map<string, Pair>();
  /** Visits in progress: viewer → the room, its host and since when. */
  private readonly visits = new Map<number, { roomId: number; hostId: number; since: number }>();

  constructor(
    private readonly deps: { config: Config; clock: Clock; logger: Logger; store: IntimacyStore; sessions: SessionRegistry },
  ) {}

  private pair(viewerId: number, hostId: number): Pair {
    const key = `${viewerId}:${hostId}`;
    let p = this.pairs.get(key);
    if (!p) {
      const row = this.deps.store.get(viewerId, hostId);
      p = row ? { points: row.points, at: row.updatedAt } : { points: 0, at: this.deps.clock.now() };
    }
    return p;
  }

  /** Points of the pair now (decay applied). */
  private now(p: Pair, now: number): number {
    return decayed(p.points, p.at, now, this.deps.config.intimacyDecayPct);
  }

  /** Adds points to a pair (after what earned them committed); pushes intimacy.level_up when a level is crossed. */
  grow(viewerId: number, hostId: number, points: number, why: 'credits' | 'watch'): void {
    if (points <= 0 || viewerId === hostId) return;
    const { clock, config, store, logger, sessions } = this.deps;
    const at = clock.now();
    const before = this.now(this.pair(viewerId, hostId), at);
    const after = before + points;
    const key = `${viewerId}:${hostId}`;
    const written = { points: after, at };
    this.pairs.set(key, written);
    // Kept in memory only while its row commits (reads meanwhile see it); then the table has it.
    store.put(viewerId, hostId, after, at).then(
      () => void (this.pairs.get(key) === written && this.pairs.delete(key)),
      (err: unknown) => logger.error({ err, viewerId, hostId }, 'intimacy not stored'),
    );
    const [from, to] = [levelOf(before, config.intimacyLevels), levelOf(after, config.intimacyLevels)];
    logger.debug({ viewerId, hostId, why, points, before, after }, 'intimacy grew');
    if (to > from) {
      const d = { viewerId, hostId, level: to, points: after, nextLevelAt: nextLevelAt(after, config.intimacyLevels) };
      sessions.push(viewerId, 'intimacy.level_up', d);
      sessions.push(hostId, 'intimacy.level_up', d);
    }
  }

  get(viewerId: number, hostId: number) {
    const { clock, config } = this.deps;
    const p = this.pair(viewerId, hostId);
    const points = this.now(p, clock.now());
    return {
      viewerId, hostId, points, level: levelOf(points, config.intimacyLevels), nextLevelAt: nextLevelAt(points, config.intimacyLevels),
      grewAt: points === 0 && p.points === 0 ? null : p.at,
    };
  }

  /** A host's viewers by intimacy now, highest first (ties: lower viewer id first). */
  top(hostId: number, limit: number) {
    const { clock, config, store } = this.deps;
    const now = clock.now();
    const rows = new Map<number, Pair>();
    for (const r of store.ofHost(hostId)) rows.set(r.viewerId, { points: r.points, at: r.updatedAt });
    for (const [key, p] of this.pairs) {
      const [viewer, host] = key.split(':').map(Number);
      if (host === hostId) rows.set(viewer!, p);
    }
    const viewers = [...rows]
      .map(([viewerId, p]) => ({ viewerId, points: this.now(p, now) }))
      .filter((v) => v.points > 0)
      .sort((a, b) => b.points - a.points || a.viewerId - b.viewerId)
      .slice(0, limit)
      .map((v) => ({ ...v, level: levelOf(v.points, config.intimacyLevels) }));
    return { hostId, viewers };
  }

  /** A viewer joined or left a public room (RoomService's membership): a finished visit counts its whole minutes. */
  watched(userId: number, roomId: number, hostId: number | undefined, joined: boolean): void {
    const visit = this.visits.get(userId);
    if (visit && (joined || visit.roomId === roomId)) {
      this.visits.delete(userId);
      this.visitEnded(userId, visit);
    }
    if (joined && hostId !== undefined && hostId !== userId) this.visits.set(userId, { roomId, hostId, since: this.deps.clock.now() });
  }

  private visitEnded(userId: number, visit: { hostId: number; since: number }): void {
    const minutes = Math.floor((this.deps.clock.now() - visit.since) / WATCH_MINUTE_MS);
    this.grow(userId, visit.hostId, minutes * this.deps.config.intimacyPerMinute, 'watch');
  }

  /** Shutdown: visits in progress end now (their minutes are counted). */
  close(): void {
    for (const [userId, visit] of this.visits) this.visitEnded(userId, visit);
    this.visits.clear();
  }
}
