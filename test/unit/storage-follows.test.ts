import t from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { FOLLOW_SQL, SqliteFollowStore } from '../../src/storage/follows.js';
import type { CommitWork } from '../../src/storage/journal-engine.js';

function store() {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  const commits = { submit: (w: CommitWork) => db.transaction(() => w.apply())() === undefined && w.done() };
  return { db, store: new SqliteFollowStore(db, commits) };
}

t.test('follow, unfollow, counts, pages both ways', async (t) => {
  const { store: s } = store();
  t.equal(await s.follow(1, 100, 10), true);
  t.equal(await s.follow(1, 100, 11), false, 'again: no change');
  t.equal(await s.follow(2, 100, 12), true);
  t.equal(await s.follow(1, 101, 13), true);
  t.same(s.counts(100), { following: 0, followers: 2 });
  t.same(s.counts(1), { following: 2, followers: 0 });
  t.ok(s.isFollowing(1, 100));
  t.notOk(s.isFollowing(100, 1), 'one way only');
  t.same(s.following(1, 10), { users: [{ userId: 101, since: 13 }, { userId: 100, since: 10 }], next: null });
  const p1 = s.followers(100, 1);
  t.same(p1, { users: [{ userId: 2, since: 12 }], next: '12:2' });
  t.same(s.followers(100, 1, p1.next!), { users: [{ userId: 1, since: 10 }], next: '10:1' });
  t.same(s.followers(100, 1, '10:1'), { users: [], next: null });
  t.same(s.allFollowing(1).sort(), [100, 101]);
  t.equal(await s.unfollow(1, 100), true);
  t.equal(await s.unfollow(1, 100), false);
  t.same(s.counts(100), { following: 0, followers: 1 });
});

t.test('every read is an index search, never a scan of the table', async (t) => {
  const { db } = store();
  const insert = db.prepare('INSERT INTO follows (follower_id, host_id, at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 20_000; i++) insert.run(1 + (i % 2000), 10_000 + (i % 37), i);
  })();
  db.exec('ANALYZE');
  // The store's own statements, with sample arguments (one per `?`).
  const args: Record<string, unknown[]> = {
    exists: [5, 10_001],
    following: [5, 99_999, 99_999, 50],
    followers: [10_001, 99_999, 99_999, 50],
    countFollowing: [5],
    countFollowers: [10_001],
    allFollowing: [5],
  };
  const queries = Object.fromEntries(Object.keys(args).map((k) => [k, FOLLOW_SQL[k as keyof typeof FOLLOW_SQL]]));
  for (const [name, sql] of Object.entries(queries)) {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args[name]!) as Array<{ detail: string }>).map((r) => r.detail);
    t.comment(`${name}: ${plan.join(' | ')}`);
    t.ok(plan.some((d) => /SEARCH follows USING (COVERING )?INDEX|SEARCH follows USING PRIMARY KEY/.test(d)), `${name} searches an index`);
    t.notOk(plan.some((d) => /^SCAN follows/.test(d) || /TEMP B-TREE/.test(d)), `${name}: no scan, no sort`);
  }
});
