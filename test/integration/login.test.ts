import t from 'tap';
import { LiveClient, ServerError } from '../../src/client/index.js';
import { startTestServer } from '../helpers/server.js';

t.test('login with a valid token: welcome first, then whoami', async (t) => {
  const ts = await startTestServer(t);
  const c = await ts.connect(42, 'host');
  t.match(c.welcome, { userId: 42, role: 'host', resumed: false, replayed: 0, lastSeq: 0, resumeGraceMs: ts.config.resumeGraceMs });
  t.type(c.welcome.sessionId, 'string');
  t.notOk('resync' in c.welcome, 'a fresh login is not a failed resume');
  const me = await c.request('session.whoami', {});
  t.same(me, {
    userId: 42,
    role: 'host',
    profile: { nickname: 'user42', avatar: 'https://cdn.example/a/42.png', gender: '', level: 1 },
    sessionId: c.sessionId,
    latestSessionId: c.sessionId,
    logins: 1,
  });
  const pong = await c.request('session.ping', {});
  t.equal(pong.now, ts.clock.now(), 'ping answers with the server clock');
});

t.test('the token may come in the query string', async (t) => {
  const ts = await startTestServer(t);
  const c = await ts.connect(7, 'viewer', { tokenInQuery: true });
  t.equal(c.welcome.userId, 7);
  const line = JSON.stringify(ts.logs);
  t.notMatch(line, await ts.token(7), 'the token never reaches the logs');
});

t.test('bad, expired and missing tokens are refused before the upgrade', async (t) => {
  const ts = await startTestServer(t);
  const refused = async (token: string) => {
    const err = await LiveClient.connect(ts.url, { token }).then(
      () => null,
      (e: unknown) => e,
    );
    t.type(err, ServerError);
    return (err as ServerError).code;
  };
  t.equal(await refused('not-a-jwt'), 720, 'garbage token → 720');
  const good = await ts.token(5);
  t.equal(await refused(good.slice(0, -3) + 'abc'), 720, 'bad signature → 720');
  const expired = await ts.token(5, 'viewer', { ttlSec: 60, issuedAt: Math.floor(Date.now() / 1000) - 3600 });
  t.equal(await refused(expired), 24, 'expired → 24');
  t.equal(await refused(''), 720, 'no token → 720');
  t.equal(ts.server.sessions.size, 0, 'no session was created');
  t.ok(ts.logs.some((l) => l.msg === 'upgrade refused' && l.code === 24));
});

t.test('Origin allowlist: browsers from other origins are refused, native apps pass', async (t) => {
  const ts = await startTestServer(t, { allowedOrigins: ['https://app.example'] });
  const token = await ts.token(9);
  const { default: WebSocket } = await import('ws');
  const status = (origin?: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(ts.url, { headers: { authorization: `Bearer ${token}` }, ...(origin ? { origin } : {}) });
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => (ws.terminate(), resolve(101)));
    });
  t.equal(await status('https://evil.example'), 403);
  t.equal(await status('https://app.example'), 101);
  t.equal(await status(), 101, 'no Origin header (native app) passes');
});
