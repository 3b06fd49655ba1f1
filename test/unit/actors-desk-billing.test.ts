import t from 'tap';
import { deskActor, type DeskMsg, type DeskState } from '../../src/actors/desk.js';
import { deskRules, runDesk, testProfile } from '../helpers/desk.js';
import type { Effect } from '../../src/actors/effects.js';
import { decode, encode } from '../../src/protocol/codec.js';

const rules = deskRules({ maxInvitesPerHost: 5, pricePerMin: 60 });
const profile = testProfile;
const def = deskActor(rules);
const run = (msgs: Array<[DeskMsg, number]>, from?: DeskState) => runDesk(rules, msgs, from);
const charges = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'emit' && e.event.kind === 'charge' ? [e.event.charge] : []));
const pushes = (effects: Effect[], op: string) => effects.filter((e) => e.type === 'push' && e.op === op);
const ok = (key: string, earned = 0): DeskMsg => ({ t: 'charged', key, ok: true, earned });

/** A show (id 5) accepted at 1000 ms, hold asked for. */
function accepted() {
  return run([
    [{ t: 'invite', inviteId: 1, viewerId: 1, viewer: profile, host: profile, from: 'viewer' }, 0],
    [{ t: 'answer', inviteId: 1, by: 100, accept: true, showId: 5 }, 1000],
  ]);
}

/** Show 5 held, both in, started at 12 s, minute 1 paid. */
function minuteOnePaid(): DeskState {
  return run(
    [
      [ok('hold:show:5'), 1100],
      [{ t: 'enter', showId: 5, userId: 100 }, 2000],
      [{ t: 'enter', showId: 5, userId: 1 }, 2000],
      [{ t: 'show-due' }, 12_000],
      [ok('bill:show:5:1', 42), 12_001],
    ],
    accepted().state,
  ).state;
}

t.test('accepting asks for the hold; it stays in the outbox, asked again every few seconds, until answered', (t) => {
  const { state, effects } = accepted();
  t.match(charges(effects), [{ key: 'hold:show:5', what: 'hold', place: 'show', placeId: 5, viewerId: 1, hostId: 100, price: 60, fromHold: false }]);
  t.match(state.show, { price: 60, held: 'pending', billed: 0 });
  t.same(def.deadlines!(state).find((d) => d.id === 'charge-retry')?.at, 6000);
  const early = run([[{ t: 'charge-retry' }, 5999]], state);
  t.same(charges(early.effects), [], 'not before its time');
  const retried = run([[{ t: 'charge-retry' }, 6000]], state);
  t.match(charges(retried.effects), [{ key: 'hold:show:5', requestedAt: 6000 }], 'asked again, same key');
  const held = run([[ok('hold:show:5'), 6100]], retried.state);
  t.same(held.state.charges, []);
  t.equal(held.state.show?.held, 'yes');
  t.notOk(def.deadlines!(held.state).some((d) => d.id === 'charge-retry'));
  t.equal(run([[ok('hold:show:5'), 6200]], held.state).state, held.state, 'a second answer (the retry) changes nothing');
  t.end();
});

t.test('minutes: the first at the start once held, the next at each boundary after the previous is confirmed', (t) => {
  let { state } = accepted();
  state = run([[ok('hold:show:5'), 1100], [{ t: 'enter', showId: 5, userId: 100 }, 2000], [{ t: 'enter', showId: 5, userId: 1 }, 2000]], state).state;
  const started = run([[{ t: 'show-due' }, 12_000]], state);
  t.match(charges(started.effects), [{ key: 'bill:show:5:1', minute: 1 }]);
  t.equal(started.state.show?.billing, 1);
  t.notOk(def.deadlines!(started.state).some((d) => d.id === 'bill'), 'no next minute while one is being charged');
  const paid = run([[ok('bill:show:5:1', 42), 12_050]], started.state);
  t.match(paid.state.show, { billed: 1, billing: null, spent: 60, earned: 42 });
  t.same(def.deadlines!(paid.state).find((d) => d.id === 'bill')?.at, 72_000);
  // Delivered late (the server was down): one minute at a time, each after the previous is confirmed.
  const late = run([[{ t: 'show-due' }, 200_000]], paid.state);
  t.match(charges(late.effects), [{ key: 'bill:show:5:2' }]);
  const second = run([[ok('bill:show:5:2', 42), 200_010]], late.state);
  t.match(charges(second.effects), [{ key: 'bill:show:5:3' }], 'the minute after is overdue too');
  const restored = def.fromSnapshot!(decode(encode(second.state)));
  t.same(restored, second.state, 'billing state survives a snapshot');
  t.end();
});

t.test('a refused hold ends the show as no_credit and kicks the viewer; nothing to release', (t) => {
  const { state } = accepted();
  const refused = run([[{ t: 'charged', key: 'hold:show:5', ok: false, reason: 'no_credit' }, 1500]], state);
  t.equal(refused.state.show, null);
  t.equal(pushes(refused.effects, 'show.kicked').length, 1);
  t.match(pushes(refused.effects, 'show.ended'), [{ d: { reason: 'no_credit', minutesBilled: 0 } }, { d: { reason: 'no_credit' } }]);
  t.same(charges(refused.effects), [], 'no release of a hold that was never taken');
  t.end();
});

t.test('ending before the first minute releases the hold; a release answered after the show is gone is just dropped', (t) => {
  let { state } = accepted();
  state = run([[ok('hold:show:5'), 1100]], state).state;
  const closed = run([[{ t: 'close', showId: 5, by: 1, countdownMs: 0 }, 3000]], state);
  t.match(charges(closed.effects), [{ key: 'release:show:5', what: 'release', price: 60 }]);
  t.equal(closed.state.show, null);
  t.equal(closed.state.charges.length, 1, 'kept until the ledger confirms');
  const done = run([[ok('release:show:5'), 3100]], closed.state);
  t.same(done.state.charges, []);
  t.same(def.deadlines!(done.state), []);
  t.end();
});

t.test('a minute refused ends the show; minutes already paid stay in the settlement', (t) => {
  const state = run([[{ t: 'show-due' }, 72_000]], minuteOnePaid()).state;
  const refused = run([[{ t: 'charged', key: 'bill:show:5:2', ok: false, reason: 'no_credit' }, 72_010]], state);
  t.equal(refused.state.show, null);
  t.match(pushes(refused.effects, 'show.ended')[0], { d: { reason: 'no_credit', minutesBilled: 1, spent: 60, earned: 42, durationSec: 60 } });
  t.same(charges(refused.effects), [], 'a minute was paid from the hold: nothing to release');
  t.end();
});

t.test('a hold that commits after its show ended (a retry after a restart) is given back', (t) => {
  const { state } = accepted();
  // The viewer closes before the hold committed: its release is asked for, and refused (nothing held yet).
  const closed = run([[{ t: 'close', showId: 5, by: 1, countdownMs: 0 }, 1500]], state);
  t.match(charges(closed.effects), [{ key: 'release:show:5' }]);
  const refused = run([[{ t: 'charged', key: 'release:show:5', ok: false, reason: 'no_credit' }, 1600]], closed.state);
  t.same(refused.state.charges.map((c) => c.key), ['hold:show:5'], 'the hold is still out');
  const late = run([[ok('hold:show:5'), 7000]], refused.state);
  t.match(charges(late.effects), [{ key: 'release:show:5', what: 'release', fromHold: true, price: 60 }], 'released now');
  t.same(late.state.charges.map((c) => c.key), ['release:show:5']);
  t.end();
});

t.test('a show whose end passed while the server was down ends at that time, with the minutes started before it charged', (t) => {
  // 65 s: the host closes with a 10 s countdown (ends at 75 s); minute 2 starts at 72 s.
  const state = run([[{ t: 'close', showId: 5, by: 100, countdownMs: 10_000 }, 65_000]], minuteOnePaid()).state;
  // The server was down from 66 s to 200 s: everything due is delivered at once.
  const late = run([[{ t: 'show-due' }, 200_000]], state);
  t.equal(late.state.show, null);
  t.match(pushes(late.effects, 'show.ended')[0], { d: { reason: 'countdown', endedAt: 75_000, durationSec: 63 } });
  t.match(charges(late.effects), [{ key: 'bill:show:5:2', minute: 2 }], 'minute 2 started before the end: charged, once');
  t.end();
});

t.test('a viewer who never comes pays the first minute from the hold when the show starts, and no later minute', (t) => {
  const started = run(
    [
      [ok('hold:show:5'), 1100],
      [{ t: 'enter', showId: 5, userId: 100 }, 2000],
      [{ t: 'show-due' }, 12_000],
    ],
    accepted().state,
  );
  t.match(charges(started.effects), [{ key: 'bill:show:5:1', fromHold: true }], 'minute 1 at the start, viewer in or not');
  const paid = run([[ok('bill:show:5:1', 42), 12_001]], started.state);
  t.equal(paid.state.show?.billed, 1);
  const later = run([[{ t: 'show-due' }, 12_000 + 3 * 60_000]], paid.state);
  t.same(charges(later.effects), [], 'minutes 2 and on wait for the viewer');
  const entered = run([[{ t: 'enter', showId: 5, userId: 1 }, 12_000 + 3 * 60_000 + 5]], paid.state);
  t.match(charges(entered.effects), [{ key: 'bill:show:5:2', fromHold: false }], 'once in, the minutes started meanwhile are charged, one after another');
  const next = run([[ok('bill:show:5:2', 42), 12_000 + 3 * 60_000 + 6]], entered.state);
  t.match(charges(next.effects), [{ key: 'bill:show:5:3' }]);
  t.end();
});
