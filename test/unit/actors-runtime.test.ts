import t, { type Test } from 'tap';
import { AskError, ActorRuntime, type ReplyTo } from '../../src/actors/runtime.js';
import { FakeClock } from '../../src/clock.js';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';

type Msg = { n: number; replyTo: ReplyTo } | { hang: true; replyTo: ReplyTo } | { crash: true };

function setup(t: Test, clock = new FakeClock()) {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  const runtime = new ActorRuntime(new SqliteJournalEngine(db), clock);
  t.teardown(() => {
    runtime.shutdown();
    db.close();
  });
  const spawn = (key: string) =>
    runtime.spawnPersistent<number, Msg>(key, (state, msg) => {
      if ('crash' in msg) throw new Error('boom');
      if ('n' in msg) runtime.reply(msg.replyTo, msg.n * 2);
      return state;
    }, { initialState: 0, onCrash: () => {} });
  return { runtime, spawn, clock };
}

t.test('actor names and reply addresses never depend on Math.random', async (t) => {
  const { runtime, spawn } = setup(t);
  const random = Math.random;
  // nact names unnamed actors and files query replies by a random 32-bit number: with a
  // constant "random" every second spawn would throw and replies would overwrite each other.
  Math.random = () => 0.5;
  t.teardown(() => void (Math.random = random));
  const refs = Array.from({ length: 50 }, (_, i) => spawn(`k:${i}`));
  t.equal(new Set(refs.map((r) => r.name)).size, 50, 'every actor has its own name');
  const answers = await Promise.all(
    Array.from({ length: 5000 }, (_, i) => runtime.ask<Msg, number>(refs[i % refs.length]!, (replyTo) => ({ n: i, replyTo }), 5000)),
  );
  t.same(answers, Array.from({ length: 5000 }, (_, i) => i * 2), 'every ask got its own reply');
  t.equal(runtime.pendingReplies, 0, 'nothing left waiting');
});

t.test('an actor that stops fails its askers at once; a silent one times out', async (t) => {
  const { runtime, spawn, clock } = setup(t);
  const ref = spawn('k:1');
  const waiting = runtime.ask<Msg, number>(ref, (replyTo) => ({ hang: true, replyTo }));
  runtime.dispatch(ref, { crash: true });
  await t.rejects(waiting, new AskError('stopped'), 'told when the actor crashed, without a timeout');
  const silent = spawn('k:2');
  const silentAsk = runtime.ask<Msg, number>(silent, (replyTo) => ({ hang: true, replyTo }), 20);
  clock.advance(20);
  await t.rejects(silentAsk, new AskError('timeout'), 'on the runtime clock');
  runtime.shutdown();
  await t.rejects(runtime.ask<Msg, number>(silent, (replyTo) => ({ n: 1, replyTo })), new AskError('stopped'), 'after shutdown asks fail at once');
  t.equal(runtime.pendingReplies, 0);
});
