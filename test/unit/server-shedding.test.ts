import { pino } from 'pino';
import t from 'tap';
import { Directory } from '../../src/actors/directory.js';
import { presenceActor, type PresenceMsg, type PresenceState } from '../../src/actors/presence.js';
import { ActorRuntime } from '../../src/actors/runtime.js';
import { Singleton } from '../../src/actors/singleton.js';
import { userActor, type UserMsg, type UserState } from '../../src/actors/user.js';
import { FakeClock } from '../../src/clock.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { Admission } from '../../src/server/admission.js';
import { Lanes } from '../../src/server/lanes.js';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';

const ports = { push: () => {}, publish: () => {}, emit: () => {} };
const logger = pino({ level: 'silent' });

t.test('lanes: one task of a user at a time, in order; other users run alongside; idle lanes run at once', async (t) => {
  const lanes = new Lanes(2);
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a1 = lanes.run(1, async () => {
    log.push('a1 start');
    await gate;
    log.push('a1 end');
    return 'a1';
  });
  t.same(log, ['a1 start'], 'an idle lane runs the task in the same turn');
  const a2 = lanes.run(1, async () => void log.push('a2'));
  const b1 = lanes.run(2, async () => void log.push('b1'));
  const a3 = lanes.run(1, async () => void log.push('a3'));
  await t.rejects(lanes.run(1, async () => void log.push('a4')), new ProtocolError('BUSY', 'more than 2 of your requests are waiting'));
  await b1;
  t.same(log, ['a1 start', 'b1'], "another user's lane is not blocked");
  release();
  await Promise.all([a1, a2, a3]);
  t.same(log, ['a1 start', 'b1', 'a1 end', 'a2', 'a3'], 'in arrival order, never overlapping');
  t.ok(lanes.idle(1) && lanes.size === 0, 'idle lanes are forgotten');
  await lanes.run(3, async () => {
    for (let i = 0; i < 5; i++) void lanes.run(3, async () => {}, { shed: false });
  });
  t.pass('unshed tasks are never refused');
});

t.test('admission: under the limit all, up to twice the limit idle users only, then none; logins bounded', (t) => {
  const shed: string[] = [];
  const a = new Admission({ maxInflight: 2, maxPendingLogins: 1, now: () => 0, onShed: (w) => shed.push(w) });
  const tickets = [a.admitRequest(false), a.admitRequest(false)];
  t.same(tickets, [{ at: 0, bypass: false }, { at: 0, bypass: false }], 'admitted, with the time of admission');
  t.equal(a.admitRequest(false), undefined, 'a busy user is shed at the limit');
  t.same(a.admitRequest(true), { at: 0, bypass: true }, 'an idle user still gets in');
  t.ok(a.admitRequest(true));
  t.equal(a.admitRequest(true), undefined, 'nobody beyond twice the limit');
  t.notOk(a.canAcceptLogin(), 'no new logins while at the limit');
  for (let i = 0; i < 4; i++) a.requestDone({ at: 0, bypass: false });
  t.ok(a.canAcceptLogin());
  a.loginStarted();
  t.notOk(a.canAcceptLogin(), 'pending logins bounded');
  a.loginDone();
  t.same(shed, ['request', 'request', 'login', 'login']);
  t.end();
});

t.test('admission: a burst cleared within the target is admitted whole; a standing queue cuts the limit until it drains', (t) => {
  let now = 0;
  const a = new Admission({ maxInflight: 1000, maxPendingLogins: 10, targetMs: 50, intervalMs: 100, now: () => now });
  // A burst of 800, answered within 20 ms: nothing shed, the limit stays.
  const burst = Array.from({ length: 800 }, () => a.admitRequest(false));
  t.ok(burst.every((x) => x?.at === 0), 'the whole burst is admitted');
  now = 20;
  for (const x of burst) a.requestDone(x!);
  now = 150;
  t.ok(a.canAcceptLogin());
  t.equal(a.currentLimit, 1000, 'fast answers keep the limit');

  // Sustained overload: requests now spend 300 ms in the server.
  const slow = Array.from({ length: 500 }, () => a.admitRequest(false)!);
  now = 450;
  // Idle users' requests, let in past any limit, are answered at once: they must not hide the queue.
  a.requestDone(a.admitRequest(true)!);
  for (const x of slow.slice(0, 100)) a.requestDone(x);
  t.equal(a.currentLimit, 450, 'most answers took longer than the target: the limit drops below what was in flight');
  now = 460;
  let more = 0;
  while (a.admitRequest(false)) more++;
  t.equal(a.requestsInFlight, 450, `new work is admitted only up to the limit (${more} more), then shed`);
  t.same(a.admitRequest(true), { at: 460, bypass: true }, 'a user with nothing in flight still gets in');
  t.ok(a.canAcceptLogin(), 'logins are bounded by the hard limit, not the adaptive one');
  now = 560;
  a.requestDone(slow[100]!);
  t.equal(a.currentLimit, 405, 'still queueing a whole interval later: the limit shrinks again');
  a.requestDone({ at: 559, bypass: false }, false);
  t.equal(a.currentLimit, 405, 'refused (unmeasured) requests do not count as fast answers');

  // The queue drains fast again: the limit grows back, doubling per interval.
  now = 570;
  while (a.requestsInFlight > 0) a.requestDone({ at: 560, bypass: false });
  for (let i = 1; i <= 10; i++) {
    now = 570 + i * 100;
    a.requestDone(a.admitRequest(false)!);
  }
  t.equal(a.currentLimit, 1000, 'back to the full limit');
  t.equal(a.requestsInFlight, 0);
  t.end();
});

t.test('actor queues: a directory actor and a singleton refuse requests past their bound, never tells', async (t) => {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  const runtime = new ActorRuntime(new SqliteJournalEngine(db));
  const clock = new FakeClock();
  const users = new Directory<UserState, UserMsg>({
    runtime, def: userActor, clock, ports, logger, snapshots: new SqliteJournalEngine(db), idleMs: 60_000, snapshotEvery: 100, askTimeoutMs: 2000, maxQueue: 2,
  });
  const presence = new Singleton<PresenceState, PresenceMsg>(runtime, presenceActor, { clock, ports, logger, askTimeoutMs: 2000, maxQueue: 2 });
  t.teardown(async () => {
    await users.close();
    runtime.shutdown();
    db.close();
  });
  const asks = await Promise.allSettled(Array.from({ length: 5 }, () => users.ask(1, { t: 'get' })));
  t.same(asks.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
  t.match((asks[2] as PromiseRejectedResult).reason, { code: 908 });
  for (let i = 0; i < 5; i++) users.tell(1, { t: 'logout', sessionId: 'x' });
  t.match(await users.ask(1, { t: 'get' }, { shed: false }), { userId: 1 }, 'tells and unshed asks always queue');
  presence.tell({ t: 'online', userId: 9 });
  presence.tell({ t: 'online', userId: 8 });
  await t.rejects(presence.ask({ t: 'query', userIds: [9] }), { code: 908 }, 'the singleton is full while two tells wait');
  await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setImmediate(r));
  t.match(await presence.ask({ t: 'query', userIds: [9] }), { statuses: [{ userId: 9, status: 'online' }] });
});
