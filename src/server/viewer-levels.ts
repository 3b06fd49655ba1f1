import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ViewerSpendStore } from '../storage/viewer-levels.js';
import type { Config } from './config.js';
import { levelOf, nextLevelAt } from './intimacy-rules.js';
import type { SessionRegistry } from './sessions.js';

/**
 * Viewer levels (5.30): a viewer's level is how many of LIVE_VIEWER_LEVELS
 * the credits they have spent on hosts reach — gifts paid with credits,
 * paid barrage lines, paid minutes of shows and rooms (less the rebate),
 * accepted talent requests and forfeited deposits, each counted once its
 * transfer committed. Crossing a threshold pushes viewer.level_up.
 */
export class ViewerLevels {
  /** Totals whose newest row is still committing. */
  private readonly writing = new Map<number, number>();

  constructor(private readonly deps: { config: Pick<Config, 'viewerLevels'>; clock: Clock; logger: Logger; store: ViewerSpendStore; sessions: Pick<SessionRegistry, 'push'> }) {}

  private total(userId: number): number {
    return this.writing.get(userId) ?? this.deps.store.get(userId);
  }

  /** Credits a viewer spent on a host (after the transfer committed). */
  spent(userId: number, credits: number): void {
    if (credits <= 0) return;
    const { config, clock, store, logger, sessions } = this.deps;
    const before = this.total(userId);
    const after = before + credits;
    this.writing.set(userId, after);
    store.put(userId, after, clock.now()).then(
      () => void (this.writing.get(userId) === after && this.writing.delete(userId)),
      (err: unknown) => logger.error({ err, userId }, 'viewer spending not stored'),
    );
    const level = levelOf(after, config.viewerLevels);
    if (level > levelOf(before, config.viewerLevels)) {
      sessions.push(userId, 'viewer.level_up', { level, credits: after, nextLevelAt: nextLevelAt(after, config.viewerLevels) });
    }
  }

  get(userId: number) {
    const credits = this.total(userId);
    const { viewerLevels } = this.deps.config;
    return { userId, level: levelOf(credits, viewerLevels), credits, nextLevelAt: nextLevelAt(credits, viewerLevels) };
  }
}
