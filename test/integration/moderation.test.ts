import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { exited, spawnServer } from '../helpers/child.js';
import { ADMIN_CALLS } from '../../src/protocol/admin-api.js';
import { ADMIN_TOKEN, adminApi } from '../helpers/admin.js';
import { mint, startTestServer, waitFor } from '../helpers/server.js';

const withAdmin = { adminToken: ADMIN_TOKEN };

t.test('account ban: the session is kicked (770, 4770), the room ends, logins are refused until it ends', async (t) => {
  const ts = await startTestServer(t, withAdmin);
  const admin = adminApi(ts);
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const { roomId } = await host.request('room.open', { title: 'soon gone' });
  await viewer.request('room.enter', { roomId });
  const kicked = host.next('session.kicked');
  const ended = viewer.next('room.ended');
  const res = await admin.call('POST', '/admin/users/100/ban', { kind: 'account', reason: 'fraud', durationSec: 600 });
  t.equal(res.status, 200);
  t.same(res.body, { userId: 100, kind: 'account', until: ts.clock.now() + 600_000, at: ts.clock.now() });
  t.same(await kicked, { code: 770, msg: 'fraud' });
  t.match(await host.whenClosed(), { code: 4770, reason: 'account banned' });
  t.match(await ended, { roomId, reason: 'admin' });

  await t.rejects(ts.connect(100, 'host'), { code: 770, message: /fraud/ }, 'a banned account cannot log in');
  const looked = await admin.get('/admin/users/100');
  t.match(looked, { userId: 100, session: null, presence: 'offline', hosting: null, bans: { account: { reason: 'fraud', until: ts.clock.now() + 600_000 }, live: null } });

  ts.clock.advance(600_000);
  const back = await ts.connect(100, 'host');
  t.ok(back.welcome.sessionId, 'the ban ended on time');
  await admin.post('/admin/users/100/ban', { kind: 'account', reason: 'again' });
  await t.rejects(ts.connect(100, 'host'), { code: 770 }, 'a ban without a duration lasts');
  t.same(await admin.post('/admin/users/100/unban', { kind: 'account' }), { lifted: true });
  t.same(await admin.post('/admin/users/100/unban', { kind: 'account' }), { lifted: false }, 'nothing left to lift');
  t.ok((await ts.connect(100, 'host')).welcome.sessionId, 'lifted');
});

t.test('live ban: the host is told (user.notice live_ban), the room closes, room.open answers 771, publishing is refused, watching is not', async (t) => {
  const ts = await startTestServer(t, withAdmin);
  const admin = adminApi(ts);
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'live' });
  const notice = host.next('user.notice');
  await admin.post('/admin/users/100/ban', { kind: 'live', reason: 'nudity', durationSec: 60 });
  t.same(await notice, { kind: 'live_ban', text: 'nudity', until: ts.clock.now() + 60_000, at: ts.clock.now() });
  await t.rejects(host.request('room.open', { title: 'again' }), { code: 771, message: /nudity/ });
  t.match(await admin.get('/admin/users/100'), { session: { connected: true }, presence: 'online', hosting: null, bans: { live: { reason: 'nudity' } } });
  t.equal((await host.request('room.list', { page: 1, pageSize: 10 })).total, 0, `room ${roomId} is closed`);

  const other = await ts.connect(200, 'host');
  const { roomId: open } = await other.request('room.open', { title: 'fine' });
  await host.request('room.enter', { roomId: open });
  const ask = (body: object) => admin.post('/admin/media/authorize', { userId: 100, sessionId: host.sessionId, ...body });
  t.same(await ask({ action: 'publish' }), { allowed: false, reason: 'live_banned' });
  t.same(await ask({ action: 'play', roomId: open }), { allowed: true, reason: null }, 'watching is allowed');
  ts.clock.advance(60_000);
  t.ok(await host.request('room.open', { title: 'after' }), 'the ban ended');
});

t.test('notices and kicking a session by its id', async (t) => {
  const ts = await startTestServer(t, withAdmin);
  const admin = adminApi(ts);
  const user = await ts.connect(1);
  const notice = user.next('user.notice');
  t.same(await admin.post('/admin/users/1/notice', { kind: 'warning', text: 'mind your language' }), { delivered: true });
  t.same(await notice, { kind: 'warning', text: 'mind your language', until: null, at: ts.clock.now() });
  t.same(await admin.post('/admin/users/2/notice', { kind: 'system', text: 'hello' }), { delivered: false }, 'no session, nothing kept');

  const sessionId = user.sessionId;
  const kicked = user.next('session.kicked');
  t.same(await admin.post('/admin/sessions/kick', { sessionId, reason: 'stream abuse' }), { kicked: true });
  t.same(await kicked, { code: 711, msg: 'stream abuse' });
  t.match(await user.whenClosed(), { code: 4711 });
  t.same(await admin.post('/admin/sessions/kick', { sessionId }), { kicked: false }, 'already gone');
  t.same(await admin.post('/admin/media/authorize', { userId: 1, sessionId, action: 'play' }), { allowed: false, reason: 'session' });
  await t.rejects(LiveClient.connect(ts.url, { token: await mint(1), resume: { sessionId, lastSeq: 0 } }).then((c) => (c.welcome.resumed ? 'resumed' : Promise.reject(Object.assign(new Error('fresh'), { code: 47 })))), { code: 47 }, 'a kicked session cannot be resumed');
});

t.test('media authorization: the current session only, the host publishes in their room, members play, parties of a show', async (t) => {
  const ts = await startTestServer(t, withAdmin);
  const admin = adminApi(ts);
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const stranger = await ts.connect(2);
  const { roomId } = await host.request('room.open', { title: 'media' });
  await viewer.request('room.enter', { roomId });
  const ask = async (c: LiveClient, body: object) =>
    await admin.post('/admin/media/authorize', { userId: c.welcome.userId, sessionId: c.sessionId, ...body });
  t.same(await ask(host, { action: 'publish', roomId }), { allowed: true, reason: null });
  t.match(await admin.get('/admin/users/100'), { presence: 'live', hosting: roomId });
  t.match(await admin.get('/admin/users/1'), { presence: 'online', roomId, hosting: null });
  t.same(await ask(viewer, { action: 'publish', roomId }), { allowed: false, reason: 'room' }, 'viewers do not publish in a public room');
  t.same(await ask(viewer, { action: 'play', roomId }), { allowed: true, reason: null });
  t.same(await ask(stranger, { action: 'play', roomId }), { allowed: false, reason: 'room' }, 'not in the room');
  t.same(await ask(viewer, { action: 'play', roomId: roomId + 1000 }), { allowed: false, reason: 'room' }, 'no such room');
  t.same(await ask(stranger, { action: 'play' }), { allowed: true, reason: null }, 'without a room: the session is checked');
  t.same(await admin.post('/admin/media/authorize', { userId: 2, sessionId: 'not-a-session', action: 'play' }), { allowed: false, reason: 'session' });
  t.same(await admin.post('/admin/media/authorize', { userId: 1, sessionId: stranger.sessionId, action: 'play' }), { allowed: false, reason: 'session' }, 'another user\'s session id');

  // A co-host publishes in the room while their call is on.
  const joined = viewer.next('call.joined');
  await viewer.request('call.request', {});
  await host.request('call.accept', { userId: 1 });
  await joined;
  t.same(await ask(viewer, { action: 'publish', roomId }), { allowed: true, reason: null }, 'the co-host publishes');
  t.same(await ask(viewer, { action: 'publish', roomId: roomId + 1000 }), { allowed: false, reason: 'room' }, 'only in that room');
  const ended = viewer.next('call.ended');
  await host.request('call.stop', {});
  await ended;
  t.same(await ask(viewer, { action: 'publish', roomId }), { allowed: false, reason: 'room' }, 'not after the call');

  await host.request('room.close', {});
  const { inviteId } = await viewer.request('invite.send', { userId: 100 });
  const { showId } = (await host.request('invite.accept', { inviteId })) as { showId: number };
  t.same(await ask(viewer, { action: 'publish', showId }), { allowed: true, reason: null });
  t.match(await admin.get('/admin/users/1'), { presence: 'busy', inShow: true });
  t.same(await ask(host, { action: 'play', showId }), { allowed: true, reason: null });
  t.same(await ask(stranger, { action: 'play', showId }), { allowed: false, reason: 'show' });
});

t.test('the moderation calls refuse a missing or wrong token and bad bodies, changing nothing', async (t) => {
  const ts = await startTestServer(t, withAdmin);
  const user = await ts.connect(1);
  const calls: Array<[string, string, object | undefined]> = [
    ['GET', '/admin/users/1', undefined],
    ['POST', '/admin/users/1/ban', { kind: 'account', reason: 'x' }],
    ['POST', '/admin/users/1/unban', { kind: 'account' }],
    ['POST', '/admin/users/1/notice', { kind: 'warning', text: 'x' }],
    ['POST', '/admin/sessions/kick', { sessionId: user.sessionId }],
    ['POST', '/admin/media/authorize', { userId: 1, sessionId: user.sessionId, action: 'play' }],
  ];
  for (const [method, path, body] of calls) {
    for (const auth of [undefined, 'Bearer wrong-token-wrong-token-wrong-token']) {
      const res = await fetch(`${ts.http}${path}`, {
        method,
        headers: { ...(auth ? { authorization: auth } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      t.equal(res.status, 401, `${method} ${path} with ${auth ? 'a wrong' : 'no'} token`);
    }
  }
  const admin = adminApi(ts);
  const bad: Array<[string, object]> = [
    ['/admin/users/1/ban', { kind: 'forever', reason: 'x' }],
    ['/admin/users/1/ban', { kind: 'account', reason: '' }],
    ['/admin/users/1/ban', { kind: 'account', reason: 'x', durationSec: 0 }],
    ['/admin/users/1/ban', { kind: 'account', reason: 'x', durationSec: 1.5 }],
    ['/admin/users/0/ban', { kind: 'account', reason: 'x' }],
    ['/admin/users/1/notice', { kind: 'live_ban', text: 'x' }],
    ['/admin/users/1/notice', { kind: 'warning', text: 'x'.repeat(501) }],
    ['/admin/sessions/kick', { sessionId: '' }],
    ['/admin/media/authorize', { userId: 1, sessionId: user.sessionId, action: 'record' }],
    ['/admin/media/authorize', { userId: '1', sessionId: user.sessionId, action: 'play' }],
  ];
  for (const [path, body] of bad) t.match(await admin.call('POST', path, body), { status: 400, body: { code: 700 } }, `${path} ${JSON.stringify(body)}`);
  t.match(await admin.get('/admin/users/1'), { session: { sessionId: user.sessionId }, bans: { account: null, live: null } }, 'nothing changed');
  await user.request('session.ping', {});
});

t.test('a ban survives kill -9', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-bans-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  const env = { LIVE_DB_PATH: join(dir, 'live.db'), LIVE_TEST_CLOCK_START: String(T0), LIVE_ADMIN_TOKEN: ADMIN_TOKEN };
  const token = (userId: number) => mint(userId, 'host', { issuedAt: T0 / 1000 });
  const first = await spawnServer(env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  const res = await fetch(`${first.url.replace('ws://', 'http://').replace('/ws', '')}/admin/users/7/ban`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'live', reason: 'spam' }),
  });
  t.equal(res.status, 200);
  first.child.kill('SIGKILL');
  await exited(first.child);
  const second = await spawnServer(env);
  t.teardown(() => void second.child.kill('SIGKILL'));
  const host = await LiveClient.connect(second.url, { token: await token(7) });
  await t.rejects(host.request('room.open', { title: 'x' }), { code: 771 });
  await host.close();
  await waitFor(() => true, 'nothing');
});

t.test('every call of the documented server-to-server API is served, and none without the token or with a wrong one', async (t) => {
  const ts = await startTestServer(t, withAdmin);
  for (const call of Object.values(ADMIN_CALLS)) {
    const path = call.path.replace(':id', '1');
    const res = await fetch(`${ts.http}${path}`, { method: call.method.toUpperCase() });
    t.equal(res.status, 401, `${call.method.toUpperCase()} ${call.path} without a token`);
    const wrong = await fetch(`${ts.http}${path}`, { method: call.method.toUpperCase(), headers: { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}x` } });
    t.equal(wrong.status, 401, `${call.method.toUpperCase()} ${call.path} with a wrong token`);
    // With the token and no body: served (whatever the answer), never 404 "no such route".
    const served = await fetch(`${ts.http}${path}`, { method: call.method.toUpperCase(), headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await served.json()) as { code?: number };
    t.ok(served.status !== 404 || typeof body.code === 'number', `${call.method.toUpperCase()} ${call.path} is served (${served.status})`);
  }
});
