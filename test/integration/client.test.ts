import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { encode } from '../../src/protocol/codec.js';
import { verifyToken } from '../../src/server/auth.js';
import { startTestServer, TEST_SECRET } from '../helpers/server.js';

t.test('the client resumes by itself after a dropped connection and gets what it missed', async (t) => {
  const ts = await startTestServer(t, { maxFrameBytes: 1024 });
  const c = await ts.connect(1, 'viewer', { autoResume: true });
  await c.request('presence.subscribe', { userIds: [2] });
  const firstSession = c.sessionId;
  const changes: unknown[] = [];
  c.on('presence.changed', (d) => changes.push(d));
  const resumed = c.next('session.welcome');

  // An oversize frame makes the server drop the connection, as a network loss would.
  c.sendBytes(encode({ op: 'session.ping', id: 99, d: { pad: 'x'.repeat(2048) } }));
  await c.whenClosed();
  await ts.connect(2, 'host'); // a push for user 1 while it is away (or just back)

  t.match(await resumed, { resumed: true, sessionId: firstSession });
  t.same((await c.request('session.whoami', {})).sessionId, firstSession, 'same session after the resume');
  t.same(changes, [{ userId: 2, status: 'online' }], 'the missed push arrived exactly once');
  const opened = ts.logs.filter((l) => l.msg === 'session opened' && l.userId === 1);
  t.equal(opened.length, 1, 'one session opened; the reconnect was a resume');
  t.ok(ts.logs.some((l) => l.msg === 'session resumed' && l.userId === 1 && l.sessionId === firstSession));
});

t.test('request logs carry user, session and request ids', async (t) => {
  const ts = await startTestServer(t);
  const c = await ts.connect(5);
  await c.requestRaw('session.whoami', {}, 77);
  await c.requestRaw('nope.nope', {}, 78).catch(() => {});
  t.match(ts.logs.find((l) => l.msg === 'request handled'), { userId: 5, sessionId: c.sessionId, reqId: 77, op: 'session.whoami' });
  t.match(ts.logs.find((l) => l.reqId === 78), { msg: 'request refused', code: 901, userId: 5, sessionId: c.sessionId }, 'refusals are logged with their code');
});

t.test('npm run token mints a token the server accepts', (t) => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--user', '42', '--role', 'host', '--nick', 'Ann'], {
    cwd: root,
    env: { ...process.env, LIVE_TOKEN_SECRET: TEST_SECRET },
    encoding: 'utf8',
  }).trim();
  t.match(verifyToken(TEST_SECRET, out, Date.now()), { userId: 42, role: 'host', profile: { nickname: 'Ann' } });
  t.end();
});
