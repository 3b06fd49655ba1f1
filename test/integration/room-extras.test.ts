import t from 'tap';
import { startTestServer } from '../helpers/server.js';

const ADMIN = 'admin-token-0123456789-0123456789-abcdef';

t.test('admin API: notices into a room and closing it; bad token and bad input refused', async (t) => {
  const ts = await startTestServer(t, { adminToken: ADMIN });
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const { roomId } = await host.request('room.open', { title: 'ops' });
  await viewer.request('room.enter', { roomId });
  const post = (path: string, body: unknown, token = ADMIN) =>
    fetch(`${ts.http}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const notice = viewer.next('room.notice');
  const ok = await post(`/admin/rooms/${roomId}/notice`, { kind: 'toast', text: 'Be nice' });
  t.equal(ok.status, 200);
  t.same(await notice, { roomId, kind: 'toast', text: 'Be nice' });

  t.equal((await post(`/admin/rooms/${roomId}/notice`, { kind: 'toast', text: 'x' }, 'wrong-token-0123456789-0123456789-abcdefgh')).status, 401);
  const bad = await post(`/admin/rooms/${roomId}/notice`, { kind: 'shout', text: 'x' });
  t.equal(bad.status, 400);
  t.match(await bad.json(), { code: 700 });
  t.equal((await post('/admin/rooms/999999/notice', { kind: 'system', text: 'x' })).status, 404);
  t.equal((await post('/admin/rooms/abc/close', null)).status, 404);

  const ended = viewer.next('room.ended');
  t.equal((await post(`/admin/rooms/${roomId}/close`, null)).status, 200);
  t.match(await ended, { roomId, reason: 'admin' });
  t.ok(ts.logs.some((l) => l.msg === 'admin call' && l.roomId === String(roomId)));
  t.notOk(JSON.stringify(ts.logs).includes(ADMIN), 'the admin token is never logged');
});

t.test('admin API is off without a token', async (t) => {
  const ts = await startTestServer(t);
  const res = await fetch(`${ts.http}/admin/rooms/1/close`, { method: 'POST', headers: { authorization: 'Bearer anything' } });
  t.equal(res.status, 404);
});

t.test('followers online hear that a host went live', async (t) => {
  const ts = await startTestServer(t, {}, { followers: { followersOf: (hostId) => (hostId === 100 ? [1, 2] : []) } });
  const fan = await ts.connect(1);
  const live = fan.next('room.live_started');
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'Go' });
  t.match(await live, { roomId, host: { userId: 100, profile: { nickname: 'user100' } }, title: 'Go' });
  t.match(await fan.request('presence.query', { userIds: [100] }), { statuses: [{ userId: 100, status: 'live' }] }, 'the host shows as live');
  await host.request('room.close', {});
  t.match(await fan.request('presence.query', { userIds: [100] }), { statuses: [{ status: 'online' }] }, 'and online again after closing');
});

t.test('chat: emoticons, length limit, per-user rate limit', async (t) => {
  const ts = await startTestServer(t, { chatPerSec: 2, chatBurst: 3, emoticonBaseUrl: 'https://img.example/e' });
  const host = await ts.connect(100, 'host');
  const v = await ts.connect(1);
  const { roomId } = await host.request('room.open', { title: 'chat' });
  await v.request('room.enter', { roomId });
  const { emoticons } = await v.request('chat.emoticons', {});
  t.ok(emoticons.length > 5);
  t.match(emoticons[0], { code: /^\[\w[\w-]*\]$/, url: /^https:\/\/img\.example\/e\/\w[\w-]*\.png$/ });
  await t.rejects(v.request('chat.send', { text: 'x'.repeat(201) }), { code: 700 }, 'over 200 characters');
  await t.rejects(v.request('chat.send', { text: '' }), { code: 700 }, 'empty');
  const results = await Promise.allSettled([1, 2, 3, 4].map((i) => v.request('chat.send', { text: `line ${i}` })));
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  t.match((results[3] as PromiseRejectedResult).reason, { code: 903 });
  const ids = results.slice(0, 3).map((r) => (r as PromiseFulfilledResult<{ msgId: number }>).value.msgId);
  t.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, 'message ids increase');
  ts.clock.advance(500);
  t.ok(await v.request('chat.send', { text: 'after a pause' }), 'the budget refills');
});
