import t from 'tap';
import { FIRE_PER_TURN, systemClock, type TimerHost } from '../../src/clock.js';

/** A host whose time and event loop the test drives: one armed timer at a time is all the clock may use. */
function fakeHost() {
  let time = 1_000_000;
  let armed: { fn: () => void; at: number } | undefined;
  const soon: Array<() => void> = [];
  const log: string[] = [];
  const host: TimerHost = {
    now: () => time,
    arm(fn, ms) {
      if (armed) log.push('armed twice');
      armed = { fn, at: time + ms };
      log.push(`arm ${ms}`);
      return armed;
    },
    disarm(timer) {
      if (timer === armed) armed = undefined;
    },
    soon: (fn) => void soon.push(fn),
  };
  return {
    host,
    log,
    get armedAt() {
      return armed?.at;
    },
    get soonQueued() {
      return soon.length;
    },
    /** Moves time to `at` and runs the armed host timer only (one turn, no follow-ups). */
    fireArmed(at: number) {
      time = at;
      const fn = armed && armed.at <= at ? armed.fn : undefined;
      armed = undefined;
      fn?.();
    },
    /** Moves time to `to`, running the armed timer when due and any `soon` work, as an event loop would. */
    runUntil(to: number) {
      for (;;) {
        const next = soon.shift();
        if (next) {
          next();
          continue;
        }
        if (armed && armed.at <= to) {
          const { fn, at } = armed;
          armed = undefined;
          time = Math.max(time, at);
          fn();
          continue;
        }
        break;
      }
      time = to;
    },
  };
}

t.test('timers fire in due order, ties in creation order, behind one host timer', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('c30'), 30);
  clock.setTimeout(() => fired.push('a10'), 10);
  clock.setTimeout(() => fired.push('b10'), 10);
  clock.setTimeout(() => fired.push('d20'), 20);
  t.equal(h.armedAt, 1_000_010, 'the host timer is armed at the earliest due time');
  h.runUntil(1_000_015);
  t.same(fired, ['a10', 'b10']);
  h.runUntil(1_000_100);
  t.same(fired, ['a10', 'b10', 'd20', 'c30']);
  t.notOk(h.log.includes('armed twice'), 'never more than one host timer');
  t.equal(h.armedAt, undefined, 'nothing left armed');
});

t.test('a cleared timer never fires; clearing twice or after firing is harmless', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  const fired: number[] = [];
  const first = clock.setTimeout(() => fired.push(1), 10);
  const second = clock.setTimeout(() => fired.push(2), 20);
  clock.clearTimeout(first);
  clock.clearTimeout(first);
  h.runUntil(1_000_050);
  t.same(fired, [2]);
  clock.clearTimeout(second);
  clock.clearTimeout(undefined);
  const third = clock.setTimeout(() => fired.push(3), 5);
  h.runUntil(1_000_060);
  t.same(fired, [2, 3]);
  t.ok(third.id > second.id);
});

t.test('an earlier timer added later moves the host timer forward', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  const fired: number[] = [];
  clock.setTimeout(() => fired.push(100), 100);
  t.equal(h.armedAt, 1_000_100);
  clock.setTimeout(() => fired.push(5), 5);
  t.equal(h.armedAt, 1_000_005);
  h.runUntil(1_000_200);
  t.same(fired, [5, 100]);
});

t.test('a burst due at once fires in slices, with a turn of the event loop between them', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  const total = FIRE_PER_TURN * 2 + 7;
  const fired: number[] = [];
  for (let i = 0; i < total; i++) clock.setTimeout(() => fired.push(i), 50);
  h.fireArmed(1_000_050);
  t.equal(fired.length, FIRE_PER_TURN, 'the first slice');
  t.equal(h.soonQueued, 1, 'the rest waits for the next turn');
  h.runUntil(1_000_050);
  t.equal(fired.length, total, 'all of them fire');
  t.same(fired, [...fired].sort((a, b) => a - b), 'in creation order');
  t.equal(h.log.filter((l) => l.startsWith('arm')).length, 1, 'one host timer, then follow-up turns');
});

t.test('a deadline beyond the host timer limit hops until it is in range', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  const far = 40 * 24 * 3600 * 1000; // 40 days
  let fired = false;
  clock.setTimeout(() => (fired = true), far);
  t.equal(h.armedAt, 1_000_000 + 2 ** 31 - 1, 'capped at 2^31-1 ms');
  h.runUntil(1_000_000 + 2 ** 31);
  t.equal(fired, false, 'not fired at the cap');
  t.equal(h.armedAt, 1_000_000 + far, 're-armed for the rest');
  h.runUntil(1_000_000 + far);
  t.equal(fired, true);
});

t.test('timers set and cleared from inside a callback', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  const fired: string[] = [];
  const later = clock.setTimeout(() => fired.push('later'), 30);
  clock.setTimeout(() => {
    fired.push('first');
    clock.clearTimeout(later);
    clock.setTimeout(() => fired.push('now'), 0);
    clock.setTimeout(() => fired.push('then'), 5);
  }, 10);
  h.runUntil(1_000_100);
  t.same(fired, ['first', 'now', 'then']);
});

t.test('a throwing callback propagates and leaves the queue armed', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  const fired: number[] = [];
  clock.setTimeout(() => {
    throw new Error('boom');
  }, 10);
  clock.setTimeout(() => fired.push(2), 20);
  t.throws(() => h.runUntil(1_000_015), /boom/);
  t.equal(h.armedAt, 1_000_020, 'the next one is still armed');
  h.runUntil(1_000_030);
  t.same(fired, [2]);
});

t.test('many cancelled timers are dropped without firing (the queue is rebuilt past half)', async (t) => {
  const h = fakeHost();
  const clock = systemClock(h.host);
  let fired = 0;
  const keep = 100;
  const handles = Array.from({ length: 5000 }, (_, i) => clock.setTimeout(() => void fired++, 1000 + i));
  handles.slice(keep).forEach((handle) => clock.clearTimeout(handle));
  h.runUntil(1_000_000 + 10_000);
  t.equal(fired, keep);
});
