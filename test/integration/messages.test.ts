import t, { type Test } from 'tap';
import { LiveClient } from '../../src/client/index.js';
import type { Config } from '../../src/server/config.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';

const rules: Partial<Config> = { ratePerSec: 1000, rateBurst: 1000, userQueue: 1000, messagePerMin: 600, messageBurst: 50 };

function collect(client: LiveClient, op: Parameters<LiveClient['on']>[0]) {
  const seen: Array<Record<string, unknown>> = [];
  client.on(op, (d) => void seen.push(d as Record<string, unknown>));
  return seen;
}

/** Connects a user, listening for pushes from before the welcome on. */
async function login(t: Test, ts: TestServer, userId: number, ops: Array<Parameters<LiveClient['on']>[0]> = []) {
  const client = LiveClient.create(ts.url, { token: ts.token(userId, userId >= 100 ? 'host' : 'viewer') });
  const pushes = Object.fromEntries(ops.map((op) => [op, collect(client, op)]));
  await client.start();
  t.teardown(() => void client.drop().catch(() => {}));
  return { client, pushes };
}

/** A user who logged in once and is gone (session ended): messages to them wait for the next login. */
async function loggedInOnce(ts: TestServer, userId: number) {
  const c = await ts.connect(userId);
  await ts.drop(c);
  ts.clock.advance(ts.config.resumeGraceMs + 1);
  await waitFor(() => ts.server.sessions.ofUser(userId) === undefined, `user ${userId}'s session to end`);
}

t.test('send → the receiver is pushed the message and the count; history by cursor; conversations; mark read; counts', async (t) => {
  const ts = await startTestServer(t, rules);
  const a = await ts.connect(1);
  const { client: b, pushes } = await login(t, ts, 100, ['message.new', 'message.unread_count']);
  t.same(pushes['message.unread_count'], [], 'nothing unread: no count after the welcome');
  const c = await ts.connect(3);

  const first = await a.request('message.send', { userId: 100, text: 'hello' });
  t.match(first, { messageId: 1, at: ts.clock.now() });
  const conversationId = first.conversationId;
  await waitFor(() => pushes['message.unread_count']!.length === 1, 'the count push');
  t.same(pushes['message.new'], [
    {
      message: { messageId: first.messageId, conversationId, senderId: 1, receiverId: 100, text: 'hello', at: first.at },
      from: { userId: 1, profile: { nickname: 'user1', avatar: 'https://cdn.example/a/1.png', gender: '', level: 1 } },
    },
  ]);
  t.same(pushes['message.unread_count']![0], { total: 1, conversationId, unread: 1 });

  const ids = [first.messageId];
  for (let i = 2; i <= 5; i++) {
    ts.clock.advance(1000);
    ids.push((await a.request('message.send', { userId: 100, text: `line ${i}` })).messageId);
  }
  await waitFor(() => pushes['message.unread_count']!.length === 5, 'five count pushes');
  t.same(pushes['message.unread_count']!.map((p) => p.total), [1, 2, 3, 4, 5], 'each message pushes the new total');
  t.same(pushes['message.new']!.map((p) => (p.message as { text: string }).text), ['hello', 'line 2', 'line 3', 'line 4', 'line 5']);

  // History, newest first, two at a time by cursor; the sender sees the same.
  const page1 = await b.request('message.history', { conversationId, limit: 2 });
  t.same(page1.messages.map((m) => m.messageId), [ids[4], ids[3]]);
  t.equal(page1.next, ids[3]);
  const page2 = await b.request('message.history', { conversationId, before: page1.next!, limit: 2 });
  t.same(page2.messages.map((m) => m.text), ['line 3', 'line 2']);
  const page3 = await b.request('message.history', { conversationId, before: page2.next!, limit: 2 });
  t.same(page3, { messages: [{ messageId: ids[0], conversationId, senderId: 1, receiverId: 100, text: 'hello', at: first.at }], next: null });
  t.same(await a.request('message.history', { conversationId }), { messages: [...page1.messages, ...page2.messages, ...page3.messages], next: null });

  // Conversations: the newest first, with the peer and the unread count.
  ts.clock.advance(1000);
  const fromC = await c.request('message.send', { userId: 100, text: 'from three' });
  const list = await b.request('message.conversations', { limit: 1 });
  t.match(list, { conversations: [{ conversationId: fromC.conversationId, peerId: 3, unread: 1, readUpTo: 0, lastMessage: { text: 'from three', senderId: 3 } }], next: fromC.messageId });
  t.match(await b.request('message.conversations', { before: list.next!, limit: 1 }), {
    conversations: [{ conversationId, peerId: 1, unread: 5, readUpTo: 0, lastMessage: { messageId: ids[4], text: 'line 5' } }],
    next: null,
  });
  t.match(await a.request('message.conversations', {}), { conversations: [{ conversationId, peerId: 100, unread: 0 }], next: null }, 'the sender has it too, nothing unread');
  t.same(await b.request('message.unread', {}), { total: 6, conversations: 2 });

  // Mark read: up to a message, again (nothing changes, no push), then all.
  const before = pushes['message.unread_count']!.length;
  t.same(await b.request('message.read', { conversationId, upTo: ids[1]! }), { conversationId, readUpTo: ids[1], unread: 3, total: 4 });
  await waitFor(() => pushes['message.unread_count']!.length === before + 1, 'the count push after read');
  t.same(pushes['message.unread_count']!.at(-1), { total: 4, conversationId, unread: 3 });
  t.same(await b.request('message.read', { conversationId, upTo: ids[0]! }), { conversationId, readUpTo: ids[1], unread: 3, total: 4 }, 'idempotent');
  t.same(await b.request('message.read', { conversationId }), { conversationId, readUpTo: ids[4], unread: 0, total: 1 });
  await b.request('session.ping', {});
  t.same(pushes['message.unread_count']!.slice(before).map((p) => p.total), [4, 1], 'no push for the read that changed nothing');
  t.same(await b.request('message.unread', {}), { total: 1, conversations: 1 });
  t.same(await a.request('message.unread', {}), { total: 0, conversations: 0 });
  t.match(await b.request('message.conversations', {}), { conversations: [{ peerId: 3, unread: 1 }, { peerId: 1, unread: 0, readUpTo: ids[4] }] });
});

t.test('an offline receiver finds the messages and the right count at the next login', async (t) => {
  const ts = await startTestServer(t, rules);
  await loggedInOnce(ts, 100);
  const a = await ts.connect(1);
  const m1 = await a.request('message.send', { userId: 100, text: 'are you there?' });
  const m2 = await a.request('message.send', { userId: 100, text: 'call me' });
  const { client: b, pushes } = await login(t, ts, 100, ['message.unread_count', 'message.new']);
  t.same(pushes['message.unread_count'], [{ total: 2 }], 'the count right after the welcome');
  t.match(b.welcome, { resumed: false, lastSeq: 1 }, 'as the first push of the session');
  t.same(pushes['message.new'], [], 'messages sent while offline are not pushed; they are listed');
  t.match(await b.request('message.conversations', {}), { conversations: [{ conversationId: m1.conversationId, peerId: 1, unread: 2, lastMessage: { messageId: m2.messageId } }] });
  t.same((await b.request('message.history', { conversationId: m1.conversationId })).messages.map((m) => m.text), ['call me', 'are you there?']);
});

t.test('refusals: yourself, a user never seen, empty, blank and too long text; nothing stored', async (t) => {
  const ts = await startTestServer(t, { ...rules, messageMaxChars: 10 });
  const a = await ts.connect(1);
  await ts.connect(2);
  await t.rejects(a.request('message.send', { userId: 1, text: 'me' }), { code: 700 }, 'yourself');
  await t.rejects(a.request('message.send', { userId: 555, text: 'who?' }), { code: 710 }, 'never logged in');
  await t.rejects(a.request('message.send', { userId: 2, text: '' }), { code: 700 }, 'empty');
  await t.rejects(a.request('message.send', { userId: 2, text: ' \n\t ' }), { code: 700 }, 'blank');
  await t.rejects(a.request('message.send', { userId: 2, text: '12345678901' }), { code: 756 }, 'one over LIVE_MESSAGE_MAX_CHARS');
  await t.rejects(a.request('message.send', { userId: 2, text: '😀😀😀😀😀😀' }), { code: 756 }, '12 UTF-16 code units');
  t.same(await a.request('message.conversations', {}), { conversations: [], next: null }, 'nothing stored');
  t.match(await a.request('message.send', { userId: 2, text: '1234567890' }), { messageId: 1 }, 'exactly the limit');
  t.match(await a.request('message.send', { userId: 2, text: '😀😀😀😀😀' }), { messageId: 2 });
});

t.test('blocks: either side blocked refuses messages (25) and stores nothing; list, idempotence, limit, unblock', async (t) => {
  const ts = await startTestServer(t, { ...rules, maxBlocks: 2 });
  const a = await ts.connect(1);
  const { client: b, pushes } = await login(t, ts, 100, ['message.new', 'message.unread_count']);
  const blocked = await b.request('block.add', { userId: 1 });
  t.same(blocked, { userId: 1, at: ts.clock.now() });
  ts.clock.advance(5000);
  t.same(await b.request('block.add', { userId: 1 }), blocked, 'blocking again answers the first time');
  await t.rejects(a.request('message.send', { userId: 100, text: 'hi' }), { code: 25 }, 'the blocked one cannot write');
  await t.rejects(b.request('message.send', { userId: 1, text: 'hi' }), { code: 25 }, 'nor the blocker');
  await b.request('session.ping', {});
  t.same(pushes['message.new'], []);
  t.same(pushes['message.unread_count'], [], 'no count pushed');
  t.same(await b.request('message.conversations', {}), { conversations: [], next: null });
  t.same(await a.request('message.unread', {}), { total: 0, conversations: 0 });

  await t.rejects(b.request('block.add', { userId: 100 }), { code: 700 }, 'yourself');
  ts.clock.advance(1000);
  const second = await b.request('block.add', { userId: 7 });
  await t.rejects(b.request('block.add', { userId: 8 }), { code: 904 }, 'past LIVE_MAX_BLOCKS');
  t.same(await b.request('block.add', { userId: 7 }), second, 'an existing block is not a new one');
  t.same(await b.request('block.list', { page: 1, pageSize: 10 }), { total: 2, users: [{ userId: 7, at: second.at }, { userId: 1, at: blocked.at }] }, 'latest first');
  t.same(await b.request('block.list', { page: 2, pageSize: 1 }), { total: 2, users: [{ userId: 1, at: blocked.at }] });
  t.same(await a.request('block.list', { page: 1, pageSize: 10 }), { total: 0, users: [] }, 'each user has their own list');

  t.same(await b.request('block.remove', { userId: 1 }), { removed: true });
  t.same(await b.request('block.remove', { userId: 1 }), { removed: false });
  const next = b.next('message.new');
  await a.request('message.send', { userId: 100, text: 'friends again' });
  t.match(await next, { message: { text: 'friends again' } });
  // Blocking keeps what was exchanged readable.
  await b.request('block.add', { userId: 1 });
  const { conversations } = await b.request('message.conversations', {});
  t.match(await b.request('message.history', { conversationId: conversations[0]!.conversationId }), { messages: [{ text: 'friends again' }] });
});

t.test('rate limit per sender on the fake clock; a keyed retry costs nothing', async (t) => {
  const ts = await startTestServer(t, { ...rules, messagePerMin: 6, messageBurst: 3 });
  const a = await ts.connect(1);
  const b = await ts.connect(100, 'host');
  const first = await a.request('message.send', { userId: 100, text: 'one', key: 'k1' });
  await a.request('message.send', { userId: 100, text: 'two' });
  await a.request('message.send', { userId: 100, text: 'three' });
  await t.rejects(a.request('message.send', { userId: 100, text: 'four' }), { code: 903 }, 'the burst is spent');
  t.same(await a.request('message.send', { userId: 100, text: 'one', key: 'k1' }), first, 'a retry of a sent message still answers');
  t.match(await b.request('message.send', { userId: 1, text: 'the other way' }), { messageId: 4 }, 'the limit is per sender');
  ts.clock.advance(9_999);
  await t.rejects(a.request('message.send', { userId: 100, text: 'four' }), { code: 903 }, 'not yet: 6 per minute is one per 10 s');
  ts.clock.advance(1);
  t.match(await a.request('message.send', { userId: 100, text: 'four' }), { messageId: 5 });
  await t.rejects(a.request('message.send', { userId: 100, text: 'five' }), { code: 903 });
  t.same(await b.request('message.unread', {}), { total: 4, conversations: 1 }, 'refused messages were not stored');
});

t.test('idempotent retries by key: concurrent, later and after a reconnect; one message, one push', async (t) => {
  const ts = await startTestServer(t, rules);
  const a = await ts.connect(1);
  const { client: b, pushes } = await login(t, ts, 100, ['message.new']);
  const replies = await Promise.all([1, 2, 3].map(() => a.request('message.send', { userId: 100, text: 'only once', key: 'retry-1' })));
  t.ok(replies.every((r) => JSON.stringify(r) === JSON.stringify(replies[0])), 'identical replies');
  ts.clock.advance(60_000);
  t.same(await a.request('message.send', { userId: 100, text: 'only once', key: 'retry-1' }), replies[0], 'later: the first reply, its time included');
  await t.rejects(a.request('message.send', { userId: 100, text: 'something else', key: 'retry-1' }), { code: 753 });
  await ts.drop(a);
  const again = await ts.connect(1);
  t.same(await again.request('message.send', { userId: 100, text: 'only once', key: 'retry-1' }), replies[0], 'after a reconnect');
  await b.request('session.ping', {});
  t.equal(pushes['message.new']!.length, 1, 'pushed once');
  t.equal((await b.request('message.history', { conversationId: replies[0]!.conversationId })).messages.length, 1, 'stored once');
  t.same(await b.request('message.unread', {}), { total: 1, conversations: 1 });
});

t.test('another user\'s conversation or message is refused (23, 755); bad cursors too', async (t) => {
  const ts = await startTestServer(t, rules);
  const a = await ts.connect(1);
  const b = await ts.connect(100, 'host');
  const c = await ts.connect(3);
  const ab = await a.request('message.send', { userId: 100, text: 'between a and b' });
  const cb = await c.request('message.send', { userId: 100, text: 'between c and b' });
  await t.rejects(c.request('message.history', { conversationId: ab.conversationId }), { code: 23 });
  await t.rejects(c.request('message.read', { conversationId: ab.conversationId }), { code: 23 });
  await t.rejects(c.request('message.history', { conversationId: 999_999 }), { code: 23 }, 'a conversation that does not exist');
  await t.rejects(b.request('message.history', { conversationId: ab.conversationId, before: cb.messageId }), { code: 755 }, 'a cursor of another conversation');
  await t.rejects(b.request('message.history', { conversationId: ab.conversationId, before: 999_999 }), { code: 755 }, 'a cursor that is no message');
  await t.rejects(b.request('message.read', { conversationId: ab.conversationId, upTo: cb.messageId }), { code: 755 });
  await t.rejects(c.request('message.conversations', { before: ab.messageId }), { code: 755 }, 'a cursor of somebody else\'s conversation');
  await t.rejects(a.request('message.history', { conversationId: ab.conversationId, limit: 101 }), { code: 700 });
  await t.rejects(a.request('message.history', { conversationId: ab.conversationId, before: 0 }), { code: 700 });
  t.same(await b.request('message.unread', {}), { total: 2, conversations: 2 }, 'nothing was marked read');
});
