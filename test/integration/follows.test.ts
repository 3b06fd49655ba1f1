import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { LIVE_FANOUT_SLICE } from '../../src/server/follows.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint, startTestServer } from '../helpers/server.js';

t.test('follow a host: they are told, the counts move, going live reaches the follower, unfollow stops it', async (t) => {
  const ts = await startTestServer(t);
  const host = await ts.connect(100, 'host');
  const fan = await ts.connect(1);
  const told = host.next('follow.new');
  t.same(await fan.request('follow.add', { userId: 100 }), { following: true, created: true, followers: 1 });
  t.match(await told, { follower: { userId: 1, profile: { nickname: 'user1' } }, followers: 1, at: ts.clock.now() });

  const pushes: string[] = [];
  host.on('follow.new', () => pushes.push('follow.new'));
  t.same(await fan.request('follow.add', { userId: 100 }), { following: true, created: false, followers: 1 }, 'following again changes nothing');
  t.same(await fan.request('follow.counts', {}), { following: 1, followers: 0 });
  t.same(await fan.request('follow.counts', { userId: 100 }), { following: 0, followers: 1 });
  t.same(await fan.request('follow.list', {}), { users: [{ userId: 100, since: ts.clock.now(), liveRoomId: null }], next: null });
  t.same(await host.request('follow.followers', {}), { users: [{ userId: 1, since: ts.clock.now(), liveRoomId: null }], next: null });
  t.same(pushes, [], 'no second follow.new');

  const live = fan.next('room.live_started');
  const { roomId } = await host.request('room.open', { title: 'Go' });
  t.match(await live, { roomId, host: { userId: 100, profile: { nickname: 'user100' } }, title: 'Go' });
  t.match(await fan.request('follow.list', {}), { users: [{ userId: 100, liveRoomId: roomId }] });
  t.match(await fan.request('follow.live', {}), { rooms: [{ roomId, host: { userId: 100 }, title: 'Go', viewers: 0 }] });
  t.same(await (await ts.connect(2)).request('follow.live', {}), { rooms: [] }, 'someone who follows nobody sees no rooms');
  await host.request('room.close', {});
  t.same(await fan.request('follow.live', {}), { rooms: [] }, 'a closed room leaves the list');

  t.same(await fan.request('follow.remove', { userId: 100 }), { following: false, removed: true, followers: 0 });
  t.same(await fan.request('follow.remove', { userId: 100 }), { following: false, removed: false, followers: 0 }, 'not following is not an error');
  const later: unknown[] = [];
  fan.on('room.live_started', (d) => later.push(d));
  await host.request('room.open', { title: 'again' });
  await fan.request('session.ping', {});
  await host.request('session.ping', {});
  t.same(later, [], 'an unfollowed host going live is not told');
});

t.test('pages: newest follow first, by cursor, to the end', async (t) => {
  const ts = await startTestServer(t);
  const fan = await ts.connect(1);
  for (const userId of [10, 11, 12, 13, 14]) {
    await fan.request('follow.add', { userId });
    ts.clock.advance(1000);
  }
  const first = await fan.request('follow.list', { limit: 2 });
  t.same(first.users.map((u) => u.userId), [14, 13]);
  t.type(first.next, 'string');
  const second = await fan.request('follow.list', { limit: 2, before: first.next! });
  t.same(second.users.map((u) => u.userId), [12, 11]);
  const third = await fan.request('follow.list', { limit: 2, before: second.next! });
  t.same(third.users.map((u) => u.userId), [10]);
  t.equal(third.next, null, 'the end');
  const host = await ts.connect(14, 'host');
  t.same((await host.request('follow.followers', { limit: 1 })).users.map((u) => u.userId), [1]);
});

t.test('bad input: yourself, wrong types, bad cursors and limits, too many follows; nothing changes', async (t) => {
  const ts = await startTestServer(t, { maxFollowing: 2 });
  const fan = await ts.connect(1);
  await t.rejects(fan.request('follow.add', { userId: 1 }), { code: 700 }, 'yourself');
  await t.rejects(fan.request('follow.remove', { userId: 1 }), { code: 700 }, 'yourself');
  for (const userId of [0, -3, 2.5, '7', null]) {
    await t.rejects(fan.requestRaw('follow.add', { userId }), { code: 700 }, `userId ${JSON.stringify(userId)}`);
  }
  await t.rejects(fan.requestRaw('follow.add', {}), { code: 700 }, 'no userId');
  await t.rejects(fan.requestRaw('follow.add', { userId: 5, extra: 1 }), { code: 700 }, 'unknown field');
  for (const before of ['', 'x', '1:', '1:2:3', '12345678901234567:1']) {
    await t.rejects(fan.requestRaw('follow.list', { before }), { code: 700 }, `cursor ${JSON.stringify(before)}`);
  }
  for (const limit of [0, 101, 1.5]) await t.rejects(fan.requestRaw('follow.followers', { limit }), { code: 700 }, `limit ${limit}`);
  await fan.request('follow.add', { userId: 5 });
  await fan.request('follow.add', { userId: 6 });
  await t.rejects(fan.request('follow.add', { userId: 7 }), { code: 904 }, 'a third follow is over the limit');
  t.same(await fan.request('follow.add', { userId: 6 }), { following: true, created: false, followers: 1 }, 'one already followed still answers');
  t.same(await fan.request('follow.counts', {}), { following: 2, followers: 0 });
});

t.test(`a host with more followers than one slice (${LIVE_FANOUT_SLICE}): every online follower is told, offline ones are skipped`, async (t) => {
  const ts = await startTestServer(t);
  const followers = LIVE_FANOUT_SLICE * 2 + 500;
  const insert = ts.server.internals.db.prepare('INSERT INTO follows (follower_id, host_id, at) VALUES (?, 100, ?)');
  ts.server.internals.db.transaction(() => {
    for (let i = 1; i <= followers; i++) insert.run(1000 + i, ts.clock.now() - i);
  })();
  // The newest, one in the middle slice and the oldest follower are online.
  const online = await Promise.all([1001, 1000 + LIVE_FANOUT_SLICE + 7, 1000 + followers].map((id) => ts.connect(id)));
  const told = online.map((c) => c.next('room.live_started'));
  const host = await ts.connect(100, 'host');
  t.same(await host.request('follow.counts', {}), { following: 0, followers });
  const { roomId } = await host.request('room.open', { title: 'Crowd' });
  for (const push of await Promise.all(told)) t.match(push, { roomId, host: { userId: 100 } });
  const line = ts.logs.find((l) => l.msg === 'followers told the host went live');
  t.match(line, { hostId: 100, roomId, followers, told: 3 });
});

t.test('an acked follow survives kill -9', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-follows-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  const env = { LIVE_DB_PATH: join(dir, 'live.db'), LIVE_TEST_CLOCK_START: String(T0) };
  const token = (userId: number, role: 'host' | 'viewer' = 'viewer') => mint(userId, role, { issuedAt: T0 / 1000 });
  const first = await spawnServer(env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  const fan = await LiveClient.connect(first.url, { token: token(1) });
  await fan.request('follow.add', { userId: 100 });
  await fan.request('follow.add', { userId: 101 });
  await fan.request('follow.remove', { userId: 101 });
  first.child.kill('SIGKILL');
  await exited(first.child);

  const second = await spawnServer(env);
  t.teardown(() => void second.child.kill('SIGKILL'));
  const again = await LiveClient.connect(second.url, { token: token(1) });
  t.same((await again.request('follow.list', {})).users.map((u) => u.userId), [100]);
  const host = await LiveClient.connect(second.url, { token: token(100, 'host') });
  const live = again.next('room.live_started');
  const { roomId } = await host.request('room.open', { title: 'back' });
  t.match(await live, { roomId });
  await Promise.all([again.close(), host.close()]);
});
