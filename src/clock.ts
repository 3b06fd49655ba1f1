/**
 * Time as a dependency. Actors and session timers take a Clock so tests can
 * drive countdowns, grace periods and passivation with FakeClock instead of
 * sleeping.
 */
import TinyQueue from 'tinyqueue';

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Callbacks run per turn of the event loop before sockets and I/O get a turn. */
export const FIRE_PER_TURN = 500;

/** What the real clock needs of the runtime: time, one timer, and "after I/O" (injected in tests). */
export interface TimerHost {
  now(): number;
  arm(fn: () => void, ms: number): unknown;
  disarm(timer: unknown): void;
  /** Runs `fn` after pending I/O has been served (setImmediate). */
  soon(fn: () => void): void;
}

const nodeHost: TimerHost = {
  now: () => Date.now(),
  arm: (fn, ms) => globalThis.setTimeout(fn, ms).unref(),
  disarm: (timer) => globalThis.clearTimeout(timer as NodeJS.Timeout),
  soon: (fn) => void setImmediate(fn),
};

/** Also the handle given out: clearing marks it, and the queue drops it when it comes up. */
interface QueuedTimer extends TimerHandle {
  due: number;
  fn: () => void;
  /** Cleared, or fired: either way nothing to do any more. */
  done: boolean;
  /** Cleared while queued (counted in `cancelled`). */
  cancelled: boolean;
}

const byDue = (a: QueuedTimer, b: QueuedTimer) => a.due - b.due || a.id - b.id;

/**
 * The real clock. Its timers live in one priority queue behind a single host
 * timer armed at the earliest due time: arming 100k durable deadlines at
 * start is 100k heap pushes rather than 100k Node timers (each a list of its
 * own, as their durations differ), and a burst due at once fires in slices of
 * FIRE_PER_TURN with I/O served between them. Ties fire in creation order.
 * Cancelled timers are dropped lazily (the queue is rebuilt when they are the
 * majority). A callback that throws propagates like any timer callback; the
 * queue stays armed.
 */
export function systemClock(host: TimerHost = nodeHost): Clock {
  let nextId = 1;
  let queue = new TinyQueue<QueuedTimer>([], byDue);
  let cancelled = 0;
  let native: unknown;
  /** When the host timer (or the pending `soon`) runs; Infinity when none is. */
  let nativeAt = Infinity;
  let draining = false;

  const rearm = (): void => {
    if (draining) return;
    const top = queue.peek();
    const at = top ? top.due : Infinity;
    if (at >= nativeAt) return;
    if (native !== undefined) host.disarm(native);
    native = undefined;
    nativeAt = at;
    // A host timer is capped at 2^31-1 ms (~24.8 days); a far deadline such as a booking hops.
    if (at !== Infinity) native = host.arm(fire, Math.min(Math.max(0, at - host.now()), MAX_TIMER_MS));
  };

  const fire = (): void => {
    if (native !== undefined) host.disarm(native);
    native = undefined;
    nativeAt = Infinity;
    draining = true;
    let ran = 0;
    try {
      const now = host.now();
      for (let top = queue.peek(); top && top.due <= now && ran < FIRE_PER_TURN; top = queue.peek()) {
        queue.pop();
        if (top.cancelled) {
          cancelled--;
          continue;
        }
        top.done = true;
        ran++;
        top.fn();
      }
    } finally {
      draining = false;
      const top = queue.peek();
      if (top && top.due <= host.now()) {
        // More are due: the rest after the event loop has served I/O.
        nativeAt = top.due;
        host.soon(fire);
      } else rearm();
    }
  };

  return {
    now: () => host.now(),
    setTimeout(fn, ms) {
      const timer: QueuedTimer = { id: nextId++, due: host.now() + Math.max(0, ms), fn, done: false, cancelled: false };
      queue.push(timer);
      if (timer.due < nativeAt) rearm();
      return timer;
    },
    clearTimeout(handle) {
      const timer = handle as QueuedTimer | undefined;
      if (!timer || timer.done || !('fn' in timer)) return;
      timer.done = true;
      timer.cancelled = true;
      if (++cancelled > 1024 && cancelled > queue.length / 2) {
        queue = new TinyQueue(queue.data.filter((t) => !t.cancelled), byDue);
        cancelled = 0;
      }
    },
  };
}

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A manual clock: time moves only when a test calls advance(). */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in deadline order (ties in creation order). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = target;
  }
}
