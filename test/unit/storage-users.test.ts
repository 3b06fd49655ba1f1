import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { pino } from 'pino';
import { Directory } from '../../src/actors/directory.js';
import { ActorRuntime } from '../../src/actors/runtime.js';
import { recoverUser, userActor, type UserMsg, type UserState } from '../../src/actors/user.js';
import { FakeClock } from '../../src/clock.js';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine, type CommitWork } from '../../src/storage/journal-engine.js';
import { SqliteUserStore, USER_SQL } from '../../src/storage/users.js';
import { startTestServer } from '../helpers/server.js';

const profile = { nickname: 'n', avatar: 'a', gender: '' as const, level: 3 };

function store() {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  let failNext = false;
  const commits = {
    submit: (w: CommitWork) => {
      if (failNext) {
        failNext = false;
        return w.done(new Error('disk full'));
      }
      db.transaction(() => w.apply())();
      w.done();
    },
  };
  return { db, users: new SqliteUserStore(db, commits), failNextCommit: () => (failNext = true) };
}

t.test('a login creates the row, later ones update it; a lookup of an unknown user creates nothing', async (t) => {
  const { db, users } = store();
  t.equal(users.get(7), undefined);
  t.equal(db.prepare('SELECT count(*) FROM users').pluck().get(), 0, 'the lookup wrote nothing');

  await users.login(7, 's1', 'viewer', profile, 1000);
  t.same(users.get(7), {
    userId: 7, role: 'viewer', profile, latestSessionId: 's1', logins: 1, firstLoginAt: 1000, lastLoginAt: 1000, lastSeenAt: null, invitesSeen: 0, bookingsSeen: 0,
  });
  await users.login(7, 's2', 'host', { ...profile, nickname: 'm' }, 2000);
  t.match(users.get(7), { role: 'host', profile: { nickname: 'm' }, latestSessionId: 's2', logins: 2, firstLoginAt: 1000, lastLoginAt: 2000 });
});

t.test('a logout of a replaced session changes nothing; of the latest, it is the last seen time', async (t) => {
  const { users } = store();
  await users.login(7, 's1', 'viewer', profile, 1000);
  await users.login(7, 's2', 'viewer', profile, 2000);
  await users.logout(7, 's1', 2500);
  t.equal(users.get(7)?.lastSeenAt, null, 'the replaced session ended after the newer login: not seen then');
  await users.logout(7, 's2', 3000);
  t.equal(users.get(7)?.lastSeenAt, 3000);
  await users.logout(8, 's9', 3000);
  t.equal(users.get(8), undefined, 'no row for a user who never logged in');
});

t.test('in the order the server makes them (the replaced session ends, then the new login), in one commit', async (t) => {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  let queue: CommitWork[] = [];
  const users = new SqliteUserStore(db, { submit: (w) => void queue.push(w) });
  const commitAll = () => {
    const batch = queue;
    queue = [];
    db.transaction(() => batch.forEach((w) => w.apply()))();
    batch.forEach((w) => w.done());
  };
  const first = users.login(7, 's1', 'viewer', profile, 1000);
  commitAll();
  await first;
  const both = Promise.all([users.logout(7, 's1', 2000), users.login(7, 's2', 'viewer', profile, 2000)]);
  commitAll();
  await both;
  t.match(users.get(7), { latestSessionId: 's2', logins: 2, lastSeenAt: 2000, lastLoginAt: 2000 });
});

t.test('seen marks only move forward, each list on its own', async (t) => {
  const { users } = store();
  await users.login(7, 's1', 'viewer', profile, 1000);
  await users.seen(7, 'invitesSeen', 5);
  await users.seen(7, 'invitesSeen', 3);
  await users.seen(7, 'bookingsSeen', 2);
  t.match(users.get(7), { invitesSeen: 5, bookingsSeen: 2 });
  t.equal(users.seenMark(7, 'invitesSeen'), 5);
  t.equal(users.seenMark(7, 'bookingsSeen'), 2);
  t.equal(users.seenMark(8, 'invitesSeen'), 0, 'an unknown user has seen nothing');
  t.ok(users.known(7));
  t.notOk(users.known(8));
});

t.test('a failed commit rejects and stores nothing', async (t) => {
  const { users, failNextCommit } = store();
  failNextCommit();
  await t.rejects(users.login(7, 's1', 'viewer', profile, 1000), /disk full/);
  t.equal(users.get(7), undefined);
});

t.test('a lookup reads the primary key, no scan', async (t) => {
  const { db } = store();
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${USER_SQL.get}`).all(1) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  t.match(plan, /SEARCH users USING INTEGER PRIMARY KEY/);
});

t.test('recovering an earlier build\'s user: deleted events skipped, marks a snapshot lacks read as 0, no login means no row', async (t) => {
  const login = (sessionId: string, at: number) => ({ data: { m: { t: 'login', sessionId, role: 'host', profile }, at } });
  const old = { userId: 7, role: 'host', profile, latestSessionId: 'a', logins: 1, firstLoginAt: 10, lastLoginAt: 10, lastSeenAt: null };
  const journal = (snapshot: unknown, events: Array<{ data: unknown; isDeleted?: boolean }>) => ({
    latestSnapshot: async () => (snapshot ? { data: snapshot, sequenceNumber: 1 } : undefined),
    events: () => events,
  });
  t.match(await recoverUser(journal(old, [login('b', 20), { ...login('c', 30), isDeleted: true }]), 'user:7'), {
    latestSessionId: 'b', logins: 2, firstLoginAt: 10, lastLoginAt: 20, invitesSeen: 0, bookingsSeen: 0,
  });
  t.equal(await recoverUser(journal(undefined, [{ data: { m: { t: 'logout', sessionId: 'x' }, at: 5 } }]), 'user:8'), undefined);
});

t.test('moving journals: in chunks, a failing one left in place, a row already there merged, a second run finds nothing', async (t) => {
  const { db, users } = store();
  const addJournal = db.prepare("INSERT INTO journal (key, seq, created_at, data) VALUES (?, 1, 0, x'00')");
  for (let id = 1; id <= 2500; id++) addJournal.run(`user:${id}`);
  addJournal.run('room:1');
  await users.login(5, 'newer', 'viewer', profile, 9000);
  const failed: string[] = [];
  const record = (userId: number) => ({
    userId, role: 'host' as const, profile, latestSessionId: `old${userId}`, logins: 3, firstLoginAt: 100, lastLoginAt: 200, lastSeenAt: 300, invitesSeen: 4, bookingsSeen: 0,
  });
  const recover = async (key: string) => {
    const id = Number(key.slice(5));
    if (id === 13) throw new Error('cannot decode');
    return id === 14 ? undefined : record(id);
  };
  const moved = await users.importActorJournals(recover, (key) => failed.push(key));
  t.same(moved, { users: 2498, failed: 1 });
  t.same(failed, ['user:13']);
  t.same(db.prepare('SELECT key FROM journal').pluck().all(), ['room:1', 'user:13'], 'the failing journal stays, other kinds are untouched');
  t.equal(users.get(14), undefined, 'no login, no row');
  t.match(users.get(2500), { latestSessionId: 'old2500', logins: 3, invitesSeen: 4, lastSeenAt: 300 });
  t.match(users.get(5), { latestSessionId: 'newer', role: 'viewer', logins: 3, firstLoginAt: 100, lastLoginAt: 9000, invitesSeen: 4, lastSeenAt: 300 }, 'merged: the newer login, the larger counts');
  t.same(await users.importActorJournals(recover, () => {}), { users: 0, failed: 1 }, 'a second run tries only the one left');
});

/** Writes users the way an earlier build did: `user:<id>` actors with a journal and snapshots. */
async function writeActorJournals(path: string): Promise<void> {
  const db = openDatabase({ path, synchronous: 'FULL' });
  const engine = new SqliteJournalEngine(db);
  const runtime = new ActorRuntime(engine);
  const clock = new FakeClock(5_000);
  const users = new Directory<UserState, UserMsg>({
    runtime, def: userActor, clock, ports: { push: () => {}, publish: () => {}, emit: () => {} }, logger: pino({ level: 'silent' }),
    snapshots: engine, idleMs: 60_000, snapshotEvery: 2, askTimeoutMs: 2000,
  });
  for (const s of ['a', 'b', 'c']) await users.ask(7, { t: 'login', sessionId: s, role: 'host', profile });
  await users.ask(7, { t: 'seen', list: 'invitesSeen', upto: 4 });
  await users.ask(8, { t: 'login', sessionId: 'x', role: 'viewer', profile });
  await users.ask(9, { t: 'get' });
  await users.close();
  await engine.flush();
  runtime.shutdown();
  db.close();
}

t.test('user journals of an earlier build become rows at start, and go', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'live.db');
  await writeActorJournals(dbPath);

  const before = openDatabase({ path: dbPath, synchronous: 'FULL' });
  const engine = new SqliteJournalEngine(before);
  t.match(await recoverUser(engine, 'user:7'), { latestSessionId: 'c', logins: 3, invitesSeen: 4, role: 'host', firstLoginAt: 5_000 });
  t.equal(await recoverUser(engine, 'user:9'), undefined, 'a user who never logged in');
  const left = (table: string) => before.prepare(`SELECT count(*) FROM ${table} WHERE key LIKE 'user:%'`).pluck().get() as number;
  t.ok(left('journal') + left('snapshots') > 0, 'the old build left journal rows and snapshots');
  before.close();

  const ts = await startTestServer(t, { dbPath });
  const { db } = ts.server.internals;
  t.equal(db.prepare("SELECT count(*) FROM journal WHERE key LIKE 'user:%'").pluck().get(), 0, 'journal rows moved');
  t.equal(db.prepare("SELECT count(*) FROM snapshots WHERE key LIKE 'user:%'").pluck().get(), 0, 'snapshots moved');
  t.same(db.prepare('SELECT user_id FROM users ORDER BY user_id').pluck().all(), [7, 8]);
  const c = await ts.connect(7);
  t.match(await c.request('session.whoami', {}), { logins: 4, latestSessionId: c.sessionId }, 'logins continue from the journal');
  t.equal(db.prepare('SELECT invites_seen FROM users WHERE user_id = 7').pluck().get(), 4, 'the seen mark came along');
});
