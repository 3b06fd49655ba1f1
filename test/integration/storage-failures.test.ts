import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import t from 'tap';
import { startServer } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { DatabaseInUseError, openDatabase } from '../../src/storage/database.js';
import { exited, spawnServer } from '../helpers/child.js';
import { startTestServer, testConfig } from '../helpers/server.js';

/** Makes every write fail as it would on a full or broken volume (the commit is refused), until undone. */
function failWrites(db: Database.Database): () => void {
  db.pragma('query_only = 1');
  return () => db.pragma('query_only = 0');
}

t.test('a failing disk: a failed room.open leaves nothing behind, and the host can open once writes work again', async (t) => {
  const ts = await startTestServer(t);
  const host = await ts.connect(100, 'host');
  const viewer = await ts.connect(1);
  const { db } = ts.server.internals;
  const restore = failWrites(db);

  await t.rejects(host.request('room.open', { title: 'no room for me' }), { code: 900 }, 'the open fails');
  t.same(db.prepare('SELECT count(*) FROM rooms').pluck().get(), 0, 'no registry row');
  t.same((await viewer.request('room.list', { page: 1, pageSize: 10 })).rooms, [], 'not listed');
  await t.rejects(host.request('room.close', {}), { code: 731 }, 'the host has no room');

  restore();
  const opened = await host.request('room.open', { title: 'now' });
  t.match(opened, { status: 'open', title: 'now' }, 'no 738 for a room that never was');
  t.match(await viewer.request('room.enter', { roomId: opened.roomId }), { roomId: opened.roomId, viewers: 1 });
  t.same(db.prepare('SELECT host_id FROM rooms WHERE closed_at IS NULL').pluck().all(), [100]);
  t.ok(ts.logs.some((l) => l.msg === 'storage error' && l.level === 50), 'the failure is logged as an error');
});

t.test('a failing disk during a login closes that socket with 1011 and changes nothing', async (t) => {
  const ts = await startTestServer(t);
  const restore = failWrites(ts.server.internals.db);
  await t.rejects(ts.connect(5), { code: 1011 });
  restore();
  const back = await ts.connect(5);
  t.match(await back.request('session.whoami', {}), { userId: 5, logins: 1 }, 'only the login that was stored counts');
});

t.test('one database, one server: a second open of the file is refused at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'live.db');
  const first = openDatabase({ path, synchronous: 'FULL' });
  const started = Date.now();
  t.throws(() => openDatabase({ path, synchronous: 'FULL' }), DatabaseInUseError);
  t.ok(Date.now() - started < 1000, 'no wait on the busy timeout');
  first.close();
  const again = openDatabase({ path, synchronous: 'FULL' });
  again.close();
  t.pass('the lock goes with the connection');
});

t.test('a second server process on the same database refuses to start with a clear message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { LIVE_DB_PATH: join(dir, 'live.db') };
  const first = await spawnServer(env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  await t.rejects(spawnServer(env), /is locked by another process: is another server running on it\? Refusing to start/);
  t.equal(first.child.exitCode, null, 'the first server keeps running');

  first.child.kill('SIGKILL');
  await exited(first.child);
  const after = await spawnServer(env);
  t.teardown(() => void after.child.kill('SIGKILL'));
  t.ok(after.port > 0, 'after kill -9 the lock is gone and a new server starts');
});

t.test('a second server on the same port refuses to start (no SO_REUSEPORT sharing)', async (t) => {
  const ts = await startTestServer(t);
  const dir = mkdtempSync(join(tmpdir(), 'live-port-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = testConfig(dir, { port: ts.server.port, logLevel: 'silent' });
  await t.rejects(startServer(config, { logger: createLogger('silent') }), /cannot listen on 127\.0\.0\.1:\d+/);
});
