/**
 * Time as a dependency. Actors and session timers take a Clock so tests can
 * drive countdowns, grace periods and passivation with FakeClock instead of
 * sleeping.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export function systemClock(): Clock {
  let nextId = 1;
  const live = new Map<number, NodeJS.Timeout>();
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = nextId++;
      const due = Date.now() + ms;
      // Node caps a timer at 2^31-1 ms (~24.8 days, and fires at once beyond
      // it); far deadlines such as bookings hop until they are in range.
      const arm = () => {
        const left = due - Date.now();
        const t = globalThis.setTimeout(() => {
          if (due - Date.now() > MAX_TIMER_MS) return arm();
          live.delete(id);
          fn();
        }, Math.min(Math.max(0, left), MAX_TIMER_MS));
        t.unref?.();
        live.set(id, t);
      };
      arm();
      return { id };
    },
    clearTimeout(handle) {
      if (!handle) return;
      const t = live.get(handle.id);
      if (t) globalThis.clearTimeout(t);
      live.delete(handle.id);
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
