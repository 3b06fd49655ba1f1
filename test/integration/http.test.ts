import t from 'tap';
import { startTestServer } from '../helpers/server.js';

t.test('health, readiness and Prometheus metrics', async (t) => {
  const ts = await startTestServer(t);
  const health = await fetch(`${ts.http}/healthz`);
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok' });
  t.equal((await fetch(`${ts.http}/readyz`)).status, 200);

  const c = await ts.connect(1);
  await c.request('session.whoami', {});
  await c.requestRaw('no.such.op', {}).catch(() => {});
  const res = await fetch(`${ts.http}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/plain/);
  const text = await res.text();
  t.match(text, /^live_ws_connections 1$/m);
  t.match(text, /^live_sessions 1$/m);
  t.match(text, /^live_actors_alive\{kind="room"\} 0$/m);
  t.notMatch(text, /kind="user"/, 'a logged-in user costs no actor');
  t.match(text, /^live_messages_in_total 2$/m);
  t.match(text, /^live_errors_total\{code="901"\} 1$/m);
  t.match(text, /^live_journal_commit_seconds_count [1-9]/m, 'the login was committed and timed');
  t.equal((await fetch(`${ts.http}/nope`)).status, 404);
});

t.test('readiness turns off while shutting down', async (t) => {
  const ts = await startTestServer(t);
  const closing = ts.server.close();
  const res = await fetch(`${ts.http}/readyz`).catch(() => null);
  t.ok(res === null || res.status === 503, 'not ready (or not listening any more)');
  await closing;
});
