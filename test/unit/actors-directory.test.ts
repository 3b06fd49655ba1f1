import t, { type Test } from 'tap';
import { pino } from 'pino';
import { Directory } from '../../src/actors/directory.js';
import { ActorRuntime } from '../../src/actors/runtime.js';
import { userActor, type UserMsg, type UserState } from '../../src/actors/user.js';
import { FakeClock } from '../../src/clock.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';

const profile = { nickname: 'n', avatar: '', gender: '' as const, level: 0 };

function setup(t: Test, idleMs = 60_000) {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  const engine = new SqliteJournalEngine(db);
  const runtime = new ActorRuntime(engine);
  const clock = new FakeClock();
  const users = new Directory<UserState, UserMsg>({
    runtime,
    def: userActor,
    clock,
    ports: { push: () => {}, publish: () => {}, emit: () => {} },
    logger: pino({ level: 'silent' }),
    snapshots: engine,
    idleMs,
    snapshotEvery: 1000,
    askTimeoutMs: 2000,
  });
  t.teardown(async () => {
    await users.close();
    runtime.shutdown();
    db.close();
  });
  return { db, engine, runtime, clock, users };
}

t.test('actors spawn on demand, passivate when idle, and come back from a snapshot', async (t) => {
  const { engine, clock, users } = setup(t);
  await users.ask(7, { t: 'login', sessionId: 's1', role: 'viewer', profile });
  await users.ask(7, { t: 'login', sessionId: 's2', role: 'viewer', profile });
  await users.ask(8, { t: 'get' });
  t.equal(users.size, 2);
  t.equal(engine.lastSequence('user:7'), 2, 'two state changes journaled');
  t.equal(engine.lastSequence('user:8'), 0, 'a read changes nothing and journals nothing');

  clock.advance(60_000);
  await users.passivateIdle();
  t.equal(users.size, 0, 'idle actors are gone from memory');
  t.match(await engine.latestSnapshot('user:7'), { sequenceNumber: 2, data: { latestSessionId: 's2', logins: 2 } }, 'snapshotted on passivation');
  t.equal(await engine.latestSnapshot('user:8'), undefined, 'nothing to snapshot for an untouched actor');

  const back = await users.ask<UserState>(7, { t: 'get' });
  t.match(back, { latestSessionId: 's2', logins: 2, lastLoginAt: clock.now() - 60_000 });
  t.equal(users.size, 1);
});

t.test('a busy actor is not passivated', async (t) => {
  const { clock, users } = setup(t, 1000);
  const pending = users.ask(1, { t: 'login', sessionId: 'a', role: 'host', profile });
  clock.advance(5000);
  await users.passivateIdle();
  t.equal(users.size, 1, 'still in memory while a message is in flight');
  await pending;
});

t.test('a failed journal write refuses the message and keeps the old state', async (t) => {
  const { engine, users } = setup(t);
  await users.ask(3, { t: 'login', sessionId: 'ok', role: 'viewer', profile });
  engine.close();
  await t.rejects(users.ask(3, { t: 'login', sessionId: 'lost', role: 'viewer', profile }), new ProtocolError('INTERNAL'));
  t.match(await users.ask<UserState>(3, { t: 'get' }), { latestSessionId: 'ok', logins: 1 }, 'not acknowledged, not applied');
});

t.test('after close, new messages are refused as unavailable', async (t) => {
  const { users } = setup(t);
  await users.close();
  await t.rejects(users.ask(1, { t: 'get' }), { code: 906 });
});

