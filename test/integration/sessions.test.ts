import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { startTestServer, waitFor } from '../helpers/server.js';

t.test('a second login kicks the first with code 42 and closes it', async (t) => {
  const ts = await startTestServer(t);
  const first = await ts.connect(42);
  const kicked = first.next('session.kicked');
  const closed = first.whenClosed();
  const second = await ts.connect(42);
  t.same(await kicked, { code: 42, msg: 'logged in elsewhere' });
  t.match(await closed, { code: 4042 });
  t.not(second.sessionId, first.sessionId);
  const me = await second.request('session.whoami', {});
  t.equal(me.latestSessionId, second.sessionId, 'the newest session is the latest');
  t.equal(me.logins, 2);
  t.equal(ts.server.sessions.size, 1, 'one live session per user');
});

t.test('presence: query, subscribe, online/offline pushes', async (t) => {
  const ts = await startTestServer(t);
  const watcher = await ts.connect(1);
  t.same(await watcher.request('presence.query', { userIds: [2, 3] }), {
    statuses: [
      { userId: 2, status: 'offline' },
      { userId: 3, status: 'offline' },
    ],
  });
  t.same(await watcher.request('presence.subscribe', { userIds: [2] }), { statuses: [{ userId: 2, status: 'offline' }] });
  const online = watcher.next('presence.changed');
  const host = await ts.connect(2, 'host');
  t.same(await online, { userId: 2, status: 'online' });

  // A dropped connection stays online while it may still resume.
  await ts.drop(host);
  t.same(await watcher.request('presence.query', { userIds: [2] }), { statuses: [{ userId: 2, status: 'online' }] });
  const offline = watcher.next('presence.changed');
  ts.clock.advance(ts.config.resumeGraceMs + 1);
  t.same(await offline, { userId: 2, status: 'offline' });

  await watcher.request('presence.unsubscribe', { userIds: [2] });
  let extra = 0;
  watcher.on('presence.changed', () => extra++);
  await ts.connect(2, 'host');
  await watcher.request('session.ping', {});
  t.equal(extra, 0, 'no pushes after unsubscribe');
});

t.test('resume within the grace period replays missed pushes in order', async (t) => {
  const ts = await startTestServer(t);
  const a = await ts.connect(1);
  await a.request('presence.subscribe', { userIds: [2, 3] });
  const before = a.lastSeq;
  await ts.drop(a);
  await ts.connect(2);
  await ts.connect(3);
  await waitFor(() => ts.server.sessions.ofUser(1)?.seq === before + 2, 'both presence pushes to be buffered');
  const seen: Array<{ d: unknown; seq: number | undefined }> = [];
  const resumed = LiveClient.create(ts.url, { token: await ts.token(1), resume: { sessionId: a.sessionId, lastSeq: before } });
  resumed.on('presence.changed', (d, seq) => seen.push({ d, seq }));
  await resumed.start();
  t.teardown(() => void resumed.close());
  t.match(resumed.welcome, { sessionId: a.sessionId, resumed: true, replayed: 2, lastSeq: before + 2 });
  await resumed.request('session.ping', {});
  t.same(seen, [
    { d: { userId: 2, status: 'online' }, seq: before + 1 },
    { d: { userId: 3, status: 'online' }, seq: before + 2 },
  ]);
  t.equal(ts.server.sessions.size, 3);
});

t.test('resume after the grace period answers "resync needed" (47)', async (t) => {
  const ts = await startTestServer(t);
  const a = await ts.connect(1);
  await ts.drop(a);
  ts.clock.advance(ts.config.resumeGraceMs + 1);
  const again = await ts.connect(1, 'viewer', { resume: { sessionId: a.sessionId, lastSeq: 0 } });
  t.match(again.welcome, { resumed: false, resync: { code: 47 } });
  t.not(again.sessionId, a.sessionId, 'a fresh session was started');
  t.equal((await again.request('session.whoami', {})).logins, 2);
});

t.test('resume beyond the push buffer, or of another user, also needs a resync', async (t) => {
  const ts = await startTestServer(t, { resumeBuffer: 2 });
  const a = await ts.connect(1);
  await a.request('presence.subscribe', { userIds: [2, 3, 4] });
  await ts.drop(a);
  for (const id of [2, 3, 4]) await ts.connect(id);
  await waitFor(() => ts.server.sessions.ofUser(1)?.seq === 3, 'three presence pushes');
  const stranger = await ts.connect(9, 'viewer', { resume: { sessionId: a.sessionId, lastSeq: 0 } });
  t.match(stranger.welcome, { resumed: false, resync: { code: 47 } }, "another user's session id is not theirs to resume");
  const late = await ts.connect(1, 'viewer', { resume: { sessionId: a.sessionId, lastSeq: 0 } });
  t.match(late.welcome, { resumed: false, resync: { code: 47 } }, 'three missed pushes, two buffered');
});

t.test('a resume from a new socket takes over a half-open old one', async (t) => {
  const ts = await startTestServer(t);
  const a = await ts.connect(1);
  const closed = a.whenClosed();
  const b = await ts.connect(1, 'viewer', { resume: { sessionId: a.sessionId, lastSeq: a.lastSeq } });
  t.match(b.welcome, { resumed: true, sessionId: a.sessionId });
  t.match(await closed, { code: 4048 });
  t.same((await b.request('session.whoami', {})).logins, 1, 'a resume is not a new login');
});

t.test('graceful shutdown closes sockets with 1012 "server restarting"', async (t) => {
  const ts = await startTestServer(t);
  const a = await ts.connect(1);
  const closed = a.whenClosed();
  await ts.server.close();
  t.same(await closed, { code: 1012, reason: 'server restarting' });
});
