import { connect } from 'node:net';
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

/** Sends raw HTTP and returns the status line and the body (to see reason phrases exactly). */
function rawHttp(port: number, request: string): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    // No half-close: uWS takes the client's FIN as an aborted request.
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (c) => {
      data += c;
      const end = data.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? NaN);
      if (end < 0 || Buffer.byteLength(data.slice(end + 4)) < length) return;
      socket.destroy();
      resolve({ statusLine: data.split('\r\n')[0]!, body: data.slice(end + 4) });
    });
    socket.on('error', reject);
  });
}

t.test('admin API HTTP details: reason phrases, 413 for big bodies, 415 for non-JSON bodies, 500 on storage failure', async (t) => {
  const ts = await startTestServer(t, { adminToken: ADMIN });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'ops' });
  const call = (path: string, body: string, type = 'application/json') =>
    rawHttp(
      ts.server.port,
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );

  const big = await call(`/admin/rooms/${roomId}/notice`, JSON.stringify({ kind: 'toast', text: 'x'.repeat(20_000) }));
  t.equal(big.statusLine, 'HTTP/1.1 413 Payload Too Large');
  t.match(JSON.parse(big.body), { code: 700 });

  const form = await call(`/admin/rooms/${roomId}/notice`, 'kind=toast&text=hi', 'application/x-www-form-urlencoded');
  t.equal(form.statusLine, 'HTTP/1.1 415 Unsupported Media Type');
  t.match(JSON.parse(form.body), { code: 700, msg: /application\/json/ });
  const text = await call(`/admin/rooms/${roomId}/notice`, JSON.stringify({ kind: 'toast', text: 'hi' }), 'text/plain');
  t.equal(text.statusLine, 'HTTP/1.1 415 Unsupported Media Type', 'JSON in a text/plain body is refused too');
  const charset = await call(`/admin/rooms/${roomId}/notice`, JSON.stringify({ kind: 'toast', text: 'hi' }), 'application/json; charset=utf-8');
  t.equal(charset.statusLine, 'HTTP/1.1 200 OK', 'parameters of application/json are fine');

  const surrogate = await call(`/admin/rooms/${roomId}/notice`, '{"kind":"toast","text":"a\\ud800b"}');
  t.equal(surrogate.statusLine, 'HTTP/1.1 400 Bad Request', 'a lone surrogate in JSON is refused');
  t.match(JSON.parse(surrogate.body), { code: 700, msg: /surrogates/ });

  ts.server.internals.db.pragma('query_only = 1');
  const failed = await call(`/admin/rooms/${roomId}/close`, '');
  t.equal(failed.statusLine, 'HTTP/1.1 500 Internal Server Error');
  t.match(JSON.parse(failed.body), { code: 900 });
  ts.server.internals.db.pragma('query_only = 0');
});

t.test('admin API is off without a token', async (t) => {
  const ts = await startTestServer(t);
  const res = await fetch(`${ts.http}/admin/rooms/1/close`, { method: 'POST', headers: { authorization: 'Bearer anything' } });
  t.equal(res.status, 404);
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
