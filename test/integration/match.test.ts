import t from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { startTestServer } from '../helpers/server.js';

const rules = { matchAcceptMs: 15_000, resumeGraceMs: 30_000 };

/** The two pushes of a pair, in the order asked. */
async function both<T>(ps: Array<Promise<T>>): Promise<[T, T]> {
  const [a, b] = await Promise.all(ps);
  return [a!, b!];
}

t.test('pairs waiting users of opposite roles first come first matched; both accept', async (t) => {
  const ts = await startTestServer(t, rules);
  const [v1, v2, h1, h2] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(100, 'host'), ts.connect(101, 'host')]);

  t.same(await v1.request('match.start', {}), { waiting: true });
  t.same(await v2.request('match.start', {}), { waiting: true });
  t.same(await v1.request('match.start', {}), { waiting: true }, 'starting again changes nothing');
  const found1 = [v1.next('match.found'), h1.next('match.found')];
  await h1.request('match.start', {});
  const [f1, fh1] = await both(found1);
  t.match(f1, { peer: { userId: 100, profile: { nickname: 'user100' } } }, 'the first viewer waiting gets the host');
  t.match(fh1, { matchId: f1.matchId, peer: { userId: 1 }, expiresAt: f1.expiresAt });
  t.equal(f1.expiresAt, ts.clock.now() + 15_000, 'LIVE_MATCH_ACCEPT_MS to accept');
  await t.rejects(v1.request('match.start', {}), { code: 786 }, 'answer the match first');

  const found2 = [v2.next('match.found'), h2.next('match.found')];
  await h2.request('match.start', {});
  const [f2] = await both(found2);
  t.match(f2, { peer: { userId: 101 } }, 'the second viewer gets the next host');

  await t.rejects(v2.request('match.accept', { matchId: f1.matchId }), { code: 785 }, 'not a party of that match');
  const accepted = h1.next('match.accepted');
  t.same(await v1.request('match.accept', { matchId: f1.matchId }), { connected: false });
  t.same(await accepted, { matchId: f1.matchId, userId: 1 });
  t.same(await v1.request('match.accept', { matchId: f1.matchId }), { connected: false }, 'accepting twice changes nothing');
  const connected = [v1.next('match.connected'), h1.next('match.connected')];
  t.same(await h1.request('match.accept', { matchId: f1.matchId }), { connected: true });
  const [c1, ch] = await both(connected);
  t.same(c1, { matchId: f1.matchId, peer: f1.peer });
  t.same(ch, { matchId: f1.matchId, peer: fh1.peer });
  await t.rejects(v1.request('match.accept', { matchId: f1.matchId }), { code: 785 }, 'a connected match is over');
  // Connected users are not waiting: a new viewer waits alone rather than matching them.
  const v3 = await ts.connect(3);
  await v3.request('match.start', {});
  const h3 = await ts.connect(102, 'host');
  const found3 = v3.next('match.found');
  await h3.request('match.start', {});
  t.match(await found3, { peer: { userId: 102 } });
});

t.test('a decline sends the other side back to the front; the decliner stops waiting', async (t) => {
  const ts = await startTestServer(t, rules);
  const [v1, v2, h1] = await Promise.all([ts.connect(1), ts.connect(2), ts.connect(100, 'host')]);
  await v1.request('match.start', {});
  await v2.request('match.start', {});
  const found = h1.next('match.found');
  await h1.request('match.start', {});
  const f = await found;
  t.match(f, { peer: { userId: 1 } });

  const ended = [v1.next('match.ended'), h1.next('match.ended')];
  // The host goes back to waiting, at the front: viewer 2, who waited, is matched with it at once.
  const again = [h1.next('match.found'), v2.next('match.found')];
  t.same(await v1.request('match.decline', { matchId: f.matchId }), {});
  const [e1, eh] = await both(ended);
  t.same(e1, { matchId: f.matchId, reason: 'declined', waiting: false });
  t.same(eh, { matchId: f.matchId, reason: 'declined', waiting: true });
  const [fh2] = await both(again);
  t.match(fh2, { peer: { userId: 2 } });
  t.not(fh2.matchId, f.matchId);
  await t.rejects(v1.request('match.accept', { matchId: f.matchId }), { code: 785 });

  // match.stop with a match to answer declines it.
  const stopped = v2.next('match.ended');
  t.same(await h1.request('match.stop', {}), {});
  t.same(await stopped, { matchId: fh2.matchId, reason: 'declined', waiting: true });
  // Viewer 2 waits again; the host who stopped does not: a new host gets viewer 2.
  const h2 = await ts.connect(101, 'host');
  const found2 = h2.next('match.found');
  await h2.request('match.start', {});
  t.match(await found2, { peer: { userId: 2 } });
});

t.test('when the window passes, a side that accepted waits again and a silent one stops', async (t) => {
  const ts = await startTestServer(t, rules);
  const [v1, h1] = await Promise.all([ts.connect(1), ts.connect(100, 'host')]);
  await v1.request('match.start', {});
  const found = v1.next('match.found');
  await h1.request('match.start', {});
  const f = await found;
  await h1.request('match.accept', { matchId: f.matchId });
  ts.clock.advance(14_999);
  const h2 = await ts.connect(101, 'host');
  await h2.request('match.start', {}); // waits: viewer 1 is in a pair
  const ended = [v1.next('match.ended'), h1.next('match.ended')];
  ts.clock.advance(1);
  const [e1, eh] = await both(ended);
  t.same(e1, { matchId: f.matchId, reason: 'expired', waiting: false }, 'the viewer did not answer');
  t.same(eh, { matchId: f.matchId, reason: 'expired', waiting: true }, 'the host had accepted');
  await t.rejects(v1.request('match.accept', { matchId: f.matchId }), { code: 785 }, 'too late');

  // The host is back at the front, before host 101 who waited meanwhile.
  const v2 = await ts.connect(2);
  const found2 = v2.next('match.found');
  await v2.request('match.start', {});
  t.match(await found2, { peer: { userId: 100 } });
});

t.test('busy users cannot wait; a session that ends stops waiting', async (t) => {
  const ts = await startTestServer(t, rules);
  const [v1, h1] = await Promise.all([ts.connect(1), ts.connect(100, 'host')]);
  // A private show makes both busy.
  const inv = await v1.request('invite.send', { userId: 100 });
  await h1.request('invite.accept', { inviteId: inv.inviteId });
  await t.rejects(v1.request('match.start', {}), { code: 739 });
  await t.rejects(h1.request('match.start', {}), { code: 739 });

  const v2: LiveClient = await ts.connect(2);
  await v2.request('match.start', {});
  await ts.drop(v2);
  ts.clock.advance(30_000); // the resume grace passes: the session ends for good
  const v3 = await ts.connect(3);
  await v3.request('match.start', {});
  const h2 = await ts.connect(101, 'host');
  const found = h2.next('match.found');
  await h2.request('match.start', {});
  t.match(await found, { peer: { userId: 3 } }, 'the viewer who left was not waiting any more');
});

t.test('waiting ends (reason busy) when the user goes into a co-host call', async (t) => {
  const ts = await startTestServer(t, rules);
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'r' });
  const v1 = await ts.connect(1);
  await v1.request('room.enter', { roomId });
  await v1.request('match.start', {});
  await v1.request('call.request', {});
  const busy = v1.next('match.ended');
  await host.request('call.accept', { userId: 1 });
  t.same(await busy, { matchId: null, reason: 'busy', waiting: false });
  const h2 = await ts.connect(101, 'host');
  await h2.request('match.start', {});
  const v2 = await ts.connect(2);
  const found = v2.next('match.found');
  await v2.request('match.start', {});
  t.match(await found, { peer: { userId: 101 } }, 'host 101 was still waiting: viewer 1 was not matched with it');
});
