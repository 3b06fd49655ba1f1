import t from 'tap';
import { deskActor, type DeskMsg, type DeskState } from '../../src/actors/desk.js';
import { deskRules, runDesk, testProfile } from '../helpers/desk.js';
import type { Effect } from '../../src/actors/effects.js';
import { decode, encode } from '../../src/protocol/codec.js';

const rules = deskRules();
const profile = testProfile;
const def = deskActor(rules);
const run = (msgs: Array<[DeskMsg, number]>, from?: DeskState) => runDesk(rules, msgs, from);
const replies = (effects: Effect[]) => effects.filter((e) => e.type === 'reply').map((e) => (e.type === 'reply' ? e.reply : null));
const invite = (inviteId: number, viewerId: number, from: 'viewer' | 'host' = 'viewer'): DeskMsg => ({ t: 'invite', inviteId, viewerId, viewer: profile, host: profile, from });

t.test('invitations: a cap per host, one per pair, expiry exactly at its time and only once', (t) => {
  const { state, effects } = run([[invite(1, 1), 1000], [invite(2, 1, 'host'), 1001], [invite(3, 2), 1002], [invite(4, 3), 1003]]);
  t.match(replies(effects), [{ ok: true }, { ok: false, error: 'INVITE_EXISTS' }, { ok: true }, { ok: false, error: 'TOO_MANY_INVITES' }]);
  t.same(def.deadlines!(state).map((d) => [d.id, d.at]), [['invite:1', 31_000], ['invite:3', 31_002]]);
  t.equal(run([[{ t: 'expire', inviteId: 1 }, 30_999]], state).state, state, 'an early delivery changes nothing');
  const expired = run([[{ t: 'expire', inviteId: 1 }, 31_000]], state);
  t.same(expired.state.invites.map((i) => i.id), [3]);
  t.same(expired.writes, [{ t: 'invite.end', inviteId: 1, status: 'expired', at: 31_000 }]);
  t.equal(run([[{ t: 'expire', inviteId: 1 }, 40_000]], expired.state).state, expired.state, 'a repeated delivery changes nothing');
  t.match(replies(run([[{ t: 'answer', inviteId: 3, by: 100, accept: true, showId: 9 }, 31_002]], state).effects), [{ ok: false, error: 'INVITE_NOT_FOUND' }],
    'an answer at the expiry time is too late, even before the timer ran');
  t.end();
});

t.test('the show: deadlines follow the state; a late delivery starts it at its scheduled time; rehydration keeps it', (t) => {
  let { state } = run([[invite(1, 1), 0], [{ t: 'answer', inviteId: 1, by: 100, accept: true, showId: 5 }, 1000]]);
  t.same(def.deadlines!(state).map((d) => [d.id, d.at]), [['host-enter', 61_000]]);
  state = run([[{ t: 'enter', showId: 5, userId: 100 }, 2000]], state).state;
  t.same(def.deadlines!(state).map((d) => [d.id, d.at]), [['start', 12_000]]);
  // The server was down at 12 s; the deadline is delivered at 50 s.
  const late = run([[{ t: 'show-due' }, 50_000]], state);
  t.match(late.state.show, { status: 'live', startedAt: 12_000, viewerEnterBy: 72_000 });
  t.same(late.writes, [{ t: 'show.start', showId: 5, at: 12_000 }]);
  const restored = def.fromSnapshot ? def.fromSnapshot(decode(encode(late.state))) : (decode(encode(late.state)) as DeskState);
  t.same(restored, late.state, 'a snapshot survives MessagePack');
  const ended = run([[{ t: 'show-due' }, 72_000]], restored);
  t.equal(ended.state.show, null);
  t.match(ended.writes, [{ t: 'show.end', showId: 5, reason: 'viewer_no_show', durationSec: 60 }]);
  t.same(def.deadlines!(ended.state), [], 'nothing left to fire');
  t.end();
});
