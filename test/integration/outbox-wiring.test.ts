import t from 'tap';
import { startTestServer, waitFor } from '../helpers/server.js';

/** The push gateway's copies (outbox rows) of pushes users should see even when offline. */
const rows = (db: { prepare(sql: string): { all(): unknown[] } }) =>
  db.prepare('SELECT user_id AS userId, kind, payload FROM outbox ORDER BY id').all() as Array<{ userId: number; kind: string; payload: string }>;

t.test('a private message: the receiver\'s copy is in the outbox, written with the message', async (t) => {
  const ts = await startTestServer(t);
  const db = ts.server.internals.db;
  const bob = await ts.connect(2);
  await ts.drop(bob); // bob has logged in once (messages need that) and is away now
  const alice = await ts.connect(1);
  const { messageId } = await alice.request('message.send', { userId: 2, text: 'are you there?' });
  const out = rows(db);
  t.equal(out.length, 1, 'one row, committed before the reply');
  t.match(out[0], { userId: 2, kind: 'message.new' });
  t.match(JSON.parse(out[0]!.payload), { message: { messageId, senderId: 1, receiverId: 2, text: 'are you there?' }, from: { userId: 1, profile: { nickname: 'user1' } } });
  await alice.request('message.send', { userId: 2, text: 'again', key: 'k1' });
  await alice.request('message.send', { userId: 2, text: 'again', key: 'k1' });
  t.equal(rows(db).length, 2, 'a retried send writes no second row');
});

t.test('a host going live: every follower gets an outbox row, one commit per slice', async (t) => {
  const ts = await startTestServer(t);
  const db = ts.server.internals.db;
  const insert = db.prepare('INSERT INTO follows (follower_id, host_id, at) VALUES (?, 100, ?)');
  const followers = 4100;
  db.transaction(() => {
    for (let i = 1; i <= followers; i++) insert.run(1000 + i, ts.clock.now() - i);
  })();
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'many' });
  await waitFor(() => rows(db).length === followers, 'an outbox row per follower');
  const out = rows(db);
  t.equal(new Set(out.map((r) => r.userId)).size, followers, 'each follower once');
  t.ok(out.every((r) => r.kind === 'room.live_started'));
  t.match(JSON.parse(out[0]!.payload), { roomId, host: { userId: 100 }, title: 'many' });
});
