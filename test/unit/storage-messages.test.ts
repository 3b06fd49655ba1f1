import t, { type Test } from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';
import { MESSAGE_SQL, MessageStoreError, SqliteMessageStore, type SendCommand } from '../../src/storage/messages.js';

function setup(t: Test) {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  const commits: number[] = [];
  const engine = new SqliteJournalEngine(db, { onCommit: (_s, items) => commits.push(items) });
  const store = new SqliteMessageStore(db, engine);
  t.teardown(() => {
    engine.close();
    db.close();
  });
  return { db, engine, store, commits };
}

const msg = (senderId: number, receiverId: number, text: string, key?: string, at = 1000): SendCommand => ({ senderId, receiverId, text, key, at });
const rows = (db: ReturnType<typeof setup>['db']) => db.prepare('SELECT count(*) FROM messages').pluck().get() as number;

t.test('a message: one conversation per pair, both sides listed, the receiver\'s counts, history newest first', async (t) => {
  const { db, store } = setup(t);
  const first = await store.send(msg(1, 2, 'hi'));
  t.match(first, { replayed: false, message: { messageId: 1, senderId: 1, receiverId: 2, text: 'hi', at: 1000 }, receiverUnread: { conversation: 1, total: 1 } });
  const conversationId = first.message.conversationId;
  const reply = await store.send(msg(2, 1, 'hello'));
  t.equal(reply.message.conversationId, conversationId, 'the same conversation in the other direction');
  t.same(reply.receiverUnread, { conversation: 1, total: 1 }, 'user 1 has one unread');
  const third = await store.send(msg(1, 2, 'how are you'));
  t.same(third.receiverUnread, { conversation: 2, total: 2 });
  t.equal(store.conversationBetween(2, 1), conversationId);
  t.equal(store.peerIn(1, conversationId), 2);
  t.equal(store.peerIn(3, conversationId), undefined, 'not a conversation of user 3');
  t.same(store.history(conversationId, undefined, 10).map((m) => m.text), ['how are you', 'hello', 'hi']);
  t.same(store.history(conversationId, third.message.messageId, 1).map((m) => m.text), ['hello'], 'older than the cursor');
  t.match(store.conversations(2, undefined, 10), [{ conversationId, peerId: 1, unread: 2, readUpTo: 0, lastMessage: { text: 'how are you' } }]);
  t.match(store.conversations(1, undefined, 10), [{ conversationId, peerId: 2, unread: 1 }]);
  t.same(store.unread(2), { total: 2, conversations: 1 });
  await store.send(msg(3, 2, 'me too'));
  t.same(store.unread(2), { total: 3, conversations: 2 });
  t.same(store.conversations(2, undefined, 10).map((c) => c.peerId), [3, 1], 'newest first');
  t.equal(rows(db), 4);
});

t.test('read: up to a message, counted from what was received after it; idempotent', async (t) => {
  const { store } = setup(t);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push((await store.send(msg(1, 2, `m${i}`))).message.messageId);
  await store.send(msg(2, 1, 'mine')); // a message of the reader's own is never unread to them
  const c = store.conversationBetween(1, 2)!;
  t.match(await store.read(2, c, ids[1]), { readUpTo: ids[1], unread: 3, total: 3, changed: true });
  t.match(await store.read(2, c, ids[0]), { readUpTo: ids[1], unread: 3, changed: false }, 'an earlier message changes nothing');
  t.match(await store.read(2, c, undefined), { unread: 0, total: 0, changed: true }, 'default: the last message');
  t.match(await store.read(2, c, undefined), { unread: 0, changed: false });
  t.same((await store.send(msg(1, 2, 'again'))).receiverUnread, { conversation: 1, total: 1 });
  await t.rejects(store.read(3, c, undefined), { code: 'NOT_FOUND' });
});

t.test('blocks: either direction refuses, nothing stored; decided in commit order', async (t) => {
  const { db, store, commits } = setup(t);
  t.same(await store.block(2, 1, 500), { at: 500, added: true });
  t.same(await store.block(2, 1, 600), { at: 500, added: false }, 'blocking again keeps the first time');
  await t.rejects(store.send(msg(1, 2, 'x')), { code: 'BLOCKED' });
  await t.rejects(store.send(msg(2, 1, 'x')), { code: 'BLOCKED' }, 'the blocker cannot write either');
  t.equal(rows(db), 0);
  t.equal(store.conversationBetween(1, 2), undefined, 'no conversation was created');
  t.equal(await store.unblock(2, 1), true);
  t.equal(await store.unblock(2, 1), false);
  t.match(await store.send(msg(1, 2, 'ok now')), { replayed: false });
  // In one group commit: a block queued before a send refuses it; one queued after does not.
  commits.length = 0;
  const blocked = store.block(1, 2, 700);
  const refused = store.send(msg(2, 1, 'too late'));
  await blocked;
  await t.rejects(refused, { code: 'BLOCKED' });
  await store.unblock(1, 2);
  commits.length = 0;
  const sent = store.send(msg(2, 1, 'just in time'));
  const later = store.block(1, 2, 800);
  t.match(await sent, { replayed: false });
  await later;
  t.same(commits, [2], 'both in one commit');
  t.same(store.blocks(1, 0, 10), [{ userId: 2, at: 800 }]);
  t.equal(store.blockCount(1), 1);
});

t.test('keys: a retry joins the first attempt or gets its result; other text is refused; a refused key is not remembered', async (t) => {
  const { db, store } = setup(t);
  const [a, b] = await Promise.all([store.send(msg(1, 2, 'once', 'k1')), store.send(msg(1, 2, 'once', 'k1'))]);
  t.equal(a.replayed, false);
  t.equal(b.replayed, true);
  t.same(b.message, a.message, 'in flight: the same message');
  const c = await store.send(msg(1, 2, 'once', 'k1', 9999));
  t.same(c, { message: a.message, replayed: true }, 'committed: the first message, with its time');
  t.equal(rows(db), 1);
  await t.rejects(store.send(msg(1, 2, 'other text', 'k1')), { code: 'KEY_REUSED' });
  await t.rejects(store.send(msg(1, 3, 'once', 'k1')), { code: 'KEY_REUSED' });
  t.match(await store.send(msg(3, 2, 'once', 'k1')), { replayed: false }, 'keys are per sender');
  await store.block(2, 1, 1);
  await t.rejects(store.send(msg(1, 2, 'blocked', 'k2')), { code: 'BLOCKED' });
  await store.unblock(2, 1);
  t.match(await store.send(msg(1, 2, 'blocked', 'k2')), { replayed: false }, 'the key of a refused send is free');
  t.equal(store.replay(msg(1, 2, 'nope', 'k9')), undefined, 'an unknown key has nothing to replay');
});

t.test('the outbox hook runs inside the message\'s commit: its writes commit with it, its failure fails it', async (t) => {
  const { db, store } = setup(t);
  db.exec('CREATE TABLE outbox_probe (message_id INTEGER, receiver INTEGER)');
  const insert = db.prepare('INSERT INTO outbox_probe VALUES (?, ?)');
  const seen: number[] = [];
  const sent = await store.send(msg(1, 2, 'with extra', 'x1'), (m) => {
    seen.push(m.messageId);
    t.ok(db.inTransaction, 'called inside the transaction');
    insert.run(m.messageId, m.receiverId);
  });
  t.same(db.prepare('SELECT * FROM outbox_probe').all(), [{ message_id: sent.message.messageId, receiver: 2 }]);
  await store.send(msg(1, 2, 'with extra', 'x1'), () => seen.push(-1));
  t.same(seen, [sent.message.messageId], 'not called for a replay');
  const failed = store.send(msg(1, 2, 'doomed'), () => {
    throw new Error('outbox full');
  });
  const err = await failed.catch((e: unknown) => e);
  t.ok(err instanceof MessageStoreError, 'a store error');
  t.match(err, { code: 'STORAGE', message: /outbox full/ });
  t.equal(rows(db), 1, 'the message of a failed commit is not stored');
  t.same(store.unread(2), { total: 1, conversations: 1 }, 'nor its count');
});

t.test('query plans on many rows: history, conversation list, counts and lookups use indexes, never scan messages', async (t) => {
  const { db, engine } = setup(t);
  // 600,000 messages: one conversation of 100,000 between users 1 and 2, and 5,000 of 100 between user 1 and users 10,002..15,001.
  const started = Date.now();
  db.transaction(() => {
    const conv = db.prepare('INSERT INTO conversations (id, user_lo, user_hi, created_at) VALUES (?, ?, ?, 0)');
    const m = db.prepare('INSERT INTO messages (id, conversation_id, sender_id, receiver_id, text, created_at) VALUES (?, ?, ?, ?, ?, 0)');
    const member = db.prepare('INSERT INTO conversation_members (user_id, conversation_id, peer_id, last_message_id, unread) VALUES (?, ?, ?, ?, ?)');
    let id = 0;
    const fill = (c: number, a: number, b: number, n: number) => {
      conv.run(c, Math.min(a, b), Math.max(a, b));
      for (let i = 0; i < n; i++) m.run(++id, c, i % 2 ? a : b, i % 2 ? b : a, 'x');
      member.run(a, c, b, id, n / 2);
      member.run(b, c, a, id, n / 2);
    };
    fill(1, 1, 2, 100_000);
    for (let k = 2; k <= 5001; k++) fill(k, 1, 10_000 + k, 100);
  })();
  t.comment(`filled 600,000 messages in ${Date.now() - started} ms`);
  const plan = (name: keyof typeof MESSAGE_SQL, ...params: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${MESSAGE_SQL[name]}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
  const plans = {
    history: plan('history', 1, 50_000, 20),
    conversations: plan('conversations', 1, Number.MAX_SAFE_INTEGER, 21),
    unread: plan('unread', 1),
    unreadTotal: plan('unreadTotal', 1),
    countUnread: plan('countUnread', 1, 99_990, 1),
    keyed: plan('keyed', 1, 'k'),
    message: plan('message', 5),
    peer: plan('peer', 1, 1),
    conversation: plan('conversation', 1, 2),
    blocks: plan('blocks', 1, 20, 0),
    blockCount: plan('blockCount', 1),
  };
  for (const [name, lines] of Object.entries(plans)) t.comment(`${name}: ${lines.join(' | ')}`);
  for (const [name, lines] of Object.entries(plans)) {
    t.ok(lines.length > 0, `${name} has a plan`);
    for (const line of lines) {
      t.notMatch(line, /^SCAN /, `${name}: no full scan (${line})`);
      t.notMatch(line, /TEMP B-TREE/, `${name}: no sort (${line})`);
    }
  }
  t.match(plans.history.join(), /SEARCH messages USING (COVERING )?INDEX messages_conversation \(conversation_id=\? AND id<\?\)/);
  t.match(plans.conversations.join(), /SEARCH m USING (COVERING )?INDEX conversation_members_recent \(user_id=\? AND last_message_id<\?\)/);
  t.match(plans.conversations.join(), /SEARCH g USING INTEGER PRIMARY KEY \(rowid=\?\)/);
  t.match(plans.countUnread.join(), /SEARCH messages USING INDEX messages_conversation \(conversation_id=\? AND id>\?\)/);
  t.match(plans.keyed.join(), /SEARCH messages USING INDEX messages_sender_key \(sender_id=\? AND client_key=\?\)/);
  // And the store's answers over that data (a store opened on it, as after a restart), paging the long conversation by cursor.
  const store = new SqliteMessageStore(db, engine);
  const page1 = store.history(1, undefined, 3);
  t.same(page1.map((m) => m.messageId), [100_000, 99_999, 99_998]);
  t.same(store.history(1, page1[2]!.messageId, 2).map((m) => m.messageId), [99_997, 99_996]);
  const list = store.conversations(1, undefined, 2);
  t.same(list.map((c) => c.peerId), [15_001, 15_000], 'user 1\'s newest conversations first');
  t.same(store.conversations(1, list[1]!.lastMessage.messageId, 1).map((c) => c.peerId), [14_999]);
  t.same(store.unread(1), { total: 50_000 + 5000 * 50, conversations: 5001 });
  const sent = await store.send(msg(2, 1, 'fresh'));
  t.equal(sent.message.messageId, 600_001, 'ids continue after the largest stored');
  t.same(sent.receiverUnread, { conversation: 50_001, total: 300_001 });
});
