import { ProtocolError } from '../protocol/errors.js';

interface Lane {
  running: boolean;
  queue: Array<() => void>;
}

/**
 * One lane per user: a user's requests, and the server's own changes to that
 * user's memberships (leaving the room when a session expires), run one at a
 * time in arrival order. A request that reads "which room am I in", awaits an
 * actor and then acts can therefore never interleave with another of the same
 * user's: two `room.enter`s sent in one TCP write enter one room after the
 * other. Lanes of different users run concurrently.
 *
 * An idle lane runs its task at once, in the caller's turn (chat lines that
 * arrive together still leave together). At most `maxQueued` tasks wait per
 * user; more are refused with BUSY (908) instead of piling up.
 */
export class Lanes {
  private readonly lanes = new Map<number, Lane>();

  private readonly full: ProtocolError;

  constructor(private readonly maxQueued: number) {
    // One instance for every refusal: under a flood, an Error (and its stack trace) per refusal costs more than the refusal.
    this.full = new ProtocolError('BUSY', `more than ${maxQueued} of your requests are waiting`);
  }

  /** Users with a task running or waiting. */
  get size(): number {
    return this.lanes.size;
  }

  /** Whether the user has nothing running or waiting. */
  idle(userId: number): boolean {
    return !this.lanes.has(userId);
  }

  /** Runs `task` after the user's earlier tasks. `shed: false` for work the server must not drop. */
  run<T>(userId: number, task: () => Promise<T>, opts: { shed?: boolean } = {}): Promise<T> {
    let lane = this.lanes.get(userId);
    if (!lane) this.lanes.set(userId, (lane = { running: false, queue: [] }));
    if (opts.shed !== false && lane.queue.length >= this.maxQueued) {
      return Promise.reject(this.full);
    }
    const own = lane;
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        own.running = true;
        let result: Promise<T>;
        try {
          result = task();
        } catch (err) {
          result = Promise.reject(err);
        }
        result.then(resolve, reject).finally(() => this.next(userId, own));
      };
      if (own.running) own.queue.push(start);
      else start();
    });
  }

  private next(userId: number, lane: Lane): void {
    const start = lane.queue.shift();
    if (start) return start();
    lane.running = false;
    if (this.lanes.get(userId) === lane) this.lanes.delete(userId);
  }
}
