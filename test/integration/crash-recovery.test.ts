import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';
import { SqliteUserStore, type UserRecord } from '../../src/storage/users.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint } from '../helpers/server.js';

/** The user's row as storage alone has it. */
function storedUser(dbPath: string, userId: number): UserRecord | undefined {
  const db = openDatabase({ path: dbPath, synchronous: 'FULL' });
  try {
    return new SqliteUserStore(db, new SqliteJournalEngine(db)).get(userId);
  } finally {
    db.close();
  }
}

t.test('kill -9, restart on the same database: user state is recovered', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { LIVE_DB_PATH: join(dir, 'live.db'), LIVE_SNAPSHOT_EVERY: '2' };

  const first = await spawnServer(env);
  let last: LiveClient | undefined;
  for (let i = 0; i < 3; i++) {
    last = await LiveClient.connect(first.url, { token: await mint(42, 'host') });
  }
  const acked = await last!.request('session.whoami', {});
  t.equal(acked.logins, 3);
  first.child.kill('SIGKILL');
  t.match(await exited(first.child), { signal: 'SIGKILL' });

  const stored = storedUser(env.LIVE_DB_PATH, 42);
  t.equal(stored?.latestSessionId, last!.sessionId, 'the acknowledged latest session id is on disk');
  t.equal(stored?.logins, 3);

  const second = await spawnServer(env);
  t.teardown(() => void second.child.kill('SIGKILL'));
  const again = await LiveClient.connect(second.url, { token: await mint(42, 'host') });
  const me = await again.request('session.whoami', {});
  t.equal(me.logins, 4, 'the stored row continued from 3 logins');
  t.equal(me.latestSessionId, again.sessionId);
  t.match(me.profile, { nickname: 'user42' });

  second.child.kill('SIGTERM');
  const closed = await again.whenClosed();
  t.equal(closed.code, 1012, 'SIGTERM closes sockets with "server restarting"');
  t.match(await exited(second.child), { code: 0 });
  t.equal(storedUser(env.LIVE_DB_PATH, 42)?.logins, 4);
});
