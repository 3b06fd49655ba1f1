import type Database from 'better-sqlite3';
import type { CommitQueue } from './commit-queue.js';

/** A private message as stored. */
export interface StoredMessage {
  messageId: number;
  conversationId: number;
  senderId: number;
  receiverId: number;
  text: string;
  at: number;
}

export interface SendCommand {
  senderId: number;
  receiverId: number;
  text: string;
  /** The sender's idempotency key: the same key again answers the first message. */
  key?: string;
  at: number;
}

export interface SendResult {
  message: StoredMessage;
  /** True when the key had been used before (same receiver and text): the first message, nothing stored now. */
  replayed: boolean;
  /** The receiver's unread counts right after this message (not on a replay): in its conversation and in all. */
  receiverUnread?: { conversation: number; total: number };
}

export interface ConversationRow {
  conversationId: number;
  peerId: number;
  unread: number;
  readUpTo: number;
  lastMessage: StoredMessage;
}

export interface ReadResult {
  conversationId: number;
  readUpTo: number;
  /** Unread in this conversation after it, and in all of the user's conversations. */
  unread: number;
  total: number;
  /** Whether the unread count changed (nothing is written when it was already read that far). */
  changed: boolean;
}

export type MessageErrorCode =
  /** One of the two has blocked the other: nothing stored. */
  | 'BLOCKED'
  /** The key was used before for another receiver or text. */
  | 'KEY_REUSED'
  /** The conversation is not the user's. */
  | 'NOT_FOUND'
  /** The commit failed: nothing of it is stored. */
  | 'STORAGE';

export class MessageStoreError extends Error {
  override readonly name = 'MessageStoreError';

  constructor(
    readonly code: MessageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Extra durable writes riding a message's commit (the push outbox's hook): called inside the
 * commit's transaction right after the message's rows are written, only for a message stored
 * now (not for a replay or a refusal). Throwing fails the whole commit.
 */
export type WithMessage = (message: StoredMessage) => void;

/**
 * Private messages and blocks as the server uses them. Writes resolve after their commit;
 * reads see committed state. The SQLite implementation writes through the node's group
 * commit; a PostgreSQL one will implement the same interface.
 */
export interface MessageStore {
  /** Stores a message unless either party blocked the other (decided inside the commit, in commit order). */
  send(cmd: SendCommand, extra?: WithMessage): Promise<SendResult>;
  /** The first result of a keyed send, committed or in flight, if there is one; KEY_REUSED when its receiver or text differ. */
  replay(cmd: SendCommand): Promise<SendResult> | undefined;
  conversationBetween(a: number, b: number): number | undefined;
  /** The other party of a conversation of `userId`; undefined if it is not theirs. */
  peerIn(userId: number, conversationId: number): number | undefined;
  message(messageId: number): StoredMessage | undefined;
  /** Newest first, older than `before` when given. */
  history(conversationId: number, before: number | undefined, limit: number): StoredMessage[];
  /** The user's conversations, newest last message first, with last message older than `before` when given. */
  conversations(userId: number, before: number | undefined, limit: number): ConversationRow[];
  unread(userId: number): { total: number; conversations: number };
  /** Marks read up to `upTo` (a message of the conversation; default its last one). The conversation must be the user's. */
  read(userId: number, conversationId: number, upTo: number | undefined): Promise<ReadResult>;
  block(userId: number, blockedId: number, at: number): Promise<{ at: number; added: boolean }>;
  unblock(userId: number, blockedId: number): Promise<boolean>;
  isBlocked(userId: number, blockedId: number): boolean;
  blockCount(userId: number): number;
  /** Most recent first. */
  blocks(userId: number, offset: number, limit: number): Array<{ userId: number; at: number }>;
}

interface MessageRow {
  id: number;
  conversation_id: number;
  sender_id: number;
  receiver_id: number;
  text: string;
  created_at: number;
}

const COLUMNS = 'id, conversation_id, sender_id, receiver_id, text, created_at';
const fingerprintOf = (cmd: SendCommand) => JSON.stringify([cmd.receiverId, cmd.text]);
const rowToMessage = (r: MessageRow): StoredMessage => ({
  messageId: r.id,
  conversationId: r.conversation_id,
  senderId: r.sender_id,
  receiverId: r.receiver_id,
  text: r.text,
  at: r.created_at,
});

/** Every statement of the store, by name (the query-plan test explains the reads). */
export const MESSAGE_SQL = {
  message: `SELECT ${COLUMNS} FROM messages WHERE id = ?`,
  keyed: `SELECT ${COLUMNS} FROM messages WHERE sender_id = ? AND client_key = ?`,
  history: `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
  insertMessage: 'INSERT INTO messages (id, conversation_id, sender_id, receiver_id, text, created_at, client_key) VALUES (?, ?, ?, ?, ?, ?, ?)',
  conversation: 'SELECT id FROM conversations WHERE user_lo = ? AND user_hi = ?',
  insertConversation: 'INSERT INTO conversations (user_lo, user_hi, created_at) VALUES (?, ?, ?)',
  peer: 'SELECT peer_id FROM conversation_members WHERE user_id = ? AND conversation_id = ?',
  member: 'SELECT last_message_id, unread, read_up_to FROM conversation_members WHERE user_id = ? AND conversation_id = ?',
  upsertMember: `INSERT INTO conversation_members (user_id, conversation_id, peer_id, last_message_id, unread) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (user_id, conversation_id) DO UPDATE SET last_message_id = excluded.last_message_id, unread = unread + excluded.unread
    RETURNING unread`,
  conversations: `SELECT m.conversation_id, m.peer_id, m.unread, m.read_up_to, ${COLUMNS.split(', ').map((c) => `g.${c}`).join(', ')}
    FROM conversation_members m JOIN messages g ON g.id = m.last_message_id
    WHERE m.user_id = ? AND m.last_message_id < ? ORDER BY m.last_message_id DESC LIMIT ?`,
  unread: 'SELECT coalesce(sum(unread), 0) AS total, coalesce(sum(unread > 0), 0) AS conversations FROM conversation_members WHERE user_id = ?',
  unreadTotal: 'SELECT coalesce(sum(unread), 0) FROM conversation_members WHERE user_id = ?',
  countUnread: 'SELECT count(*) FROM messages WHERE conversation_id = ? AND id > ? AND receiver_id = ?',
  markRead: 'UPDATE conversation_members SET read_up_to = ?, unread = ? WHERE user_id = ? AND conversation_id = ?',
  blocked: 'SELECT at FROM blocks WHERE user_id = ? AND blocked_id = ?',
  insertBlock: 'INSERT INTO blocks (user_id, blocked_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  deleteBlock: 'DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?',
  blockCount: 'SELECT count(*) FROM blocks WHERE user_id = ?',
  blocks: 'SELECT blocked_id AS userId, at FROM blocks WHERE user_id = ? ORDER BY at DESC, blocked_id DESC LIMIT ? OFFSET ?',
} as const;

/** Statements whose single column is the answer. */
const PLUCKED = new Set<keyof typeof MESSAGE_SQL>(['conversation', 'peer', 'upsertMember', 'unreadTotal', 'countUnread', 'blocked', 'blockCount']);

/**
 * The SQLite message store. Message ids are allocated when a send is queued, so they follow
 * commit order; each write is one CommitWork in the node's group commit (same transaction and
 * fsync as the journal and the ledger), answered after that commit.
 */
export class SqliteMessageStore implements MessageStore {
  private nextId: number;
  /** Keyed sends queued, not yet committed: a retry joins the first attempt. */
  private readonly inFlight = new Map<string, { fingerprint: string; done: Promise<SendResult> }>();
  private readonly st: Record<keyof typeof MESSAGE_SQL, Database.Statement>;

  constructor(
    db: Database.Database,
    private readonly commits: CommitQueue,
  ) {
    this.st = Object.fromEntries(
      Object.entries(MESSAGE_SQL).map(([name, sql]) => {
        const statement = db.prepare(sql);
        return [name, PLUCKED.has(name as keyof typeof MESSAGE_SQL) ? statement.pluck() : statement];
      }),
    ) as Record<keyof typeof MESSAGE_SQL, Database.Statement>;
    this.nextId = ((db.prepare('SELECT max(id) FROM messages').pluck().get() as number | null) ?? 0) + 1;
  }

  replay(cmd: SendCommand): Promise<SendResult> | undefined {
    if (cmd.key === undefined) return undefined;
    const fingerprint = fingerprintOf(cmd);
    const flying = this.inFlight.get(`${cmd.senderId}:${cmd.key}`);
    if (flying) {
      if (flying.fingerprint !== fingerprint) return Promise.reject(keyReused(cmd.key));
      return flying.done.then((r) => ({ message: r.message, replayed: true }));
    }
    const row = this.st.keyed.get(cmd.senderId, cmd.key) as MessageRow | undefined;
    if (!row) return undefined;
    const message = rowToMessage(row);
    if (fingerprintOf({ ...cmd, receiverId: message.receiverId, text: message.text }) !== fingerprint) return Promise.reject(keyReused(cmd.key));
    return Promise.resolve({ message, replayed: true });
  }

  send(cmd: SendCommand, extra?: WithMessage): Promise<SendResult> {
    const prior = this.replay(cmd);
    if (prior) return prior;
    const id = this.nextId++;
    const done = this.commit(() => this.write(id, cmd, extra));
    if (cmd.key === undefined) return done;
    const flightKey = `${cmd.senderId}:${cmd.key}`;
    this.inFlight.set(flightKey, { fingerprint: fingerprintOf(cmd), done });
    const settle = () => void this.inFlight.delete(flightKey);
    done.then(settle, settle);
    return done;
  }

  /** Inside the commit: the block check, the conversation, the message and both parties' state. */
  private write(id: number, cmd: SendCommand, extra?: WithMessage): SendResult | MessageStoreError {
    const { senderId: from, receiverId: to } = cmd;
    if (this.isBlocked(to, from) || this.isBlocked(from, to)) return new MessageStoreError('BLOCKED', `${from} → ${to}: blocked`);
    const [lo, hi] = from < to ? [from, to] : [to, from];
    let conversationId = this.st.conversation.get(lo, hi) as number | undefined;
    conversationId ??= Number(this.st.insertConversation.run(lo, hi, cmd.at).lastInsertRowid);
    this.st.insertMessage.run(id, conversationId, from, to, cmd.text, cmd.at, cmd.key ?? null);
    this.st.upsertMember.get(from, conversationId, to, id, 0);
    const conversation = this.st.upsertMember.get(to, conversationId, from, id, 1) as number;
    const message: StoredMessage = { messageId: id, conversationId, senderId: from, receiverId: to, text: cmd.text, at: cmd.at };
    extra?.(message);
    return { message, replayed: false, receiverUnread: { conversation, total: this.st.unreadTotal.get(to) as number } };
  }

  conversationBetween(a: number, b: number): number | undefined {
    return this.st.conversation.get(Math.min(a, b), Math.max(a, b)) as number | undefined;
  }

  peerIn(userId: number, conversationId: number): number | undefined {
    return this.st.peer.get(userId, conversationId) as number | undefined;
  }

  message(messageId: number): StoredMessage | undefined {
    const row = this.st.message.get(messageId) as MessageRow | undefined;
    return row && rowToMessage(row);
  }

  history(conversationId: number, before: number | undefined, limit: number): StoredMessage[] {
    return (this.st.history.all(conversationId, before ?? Number.MAX_SAFE_INTEGER, limit) as MessageRow[]).map(rowToMessage);
  }

  conversations(userId: number, before: number | undefined, limit: number): ConversationRow[] {
    const rows = this.st.conversations.all(userId, before ?? Number.MAX_SAFE_INTEGER, limit) as Array<MessageRow & { peer_id: number; unread: number; read_up_to: number }>;
    return rows.map((r) => ({ conversationId: r.conversation_id, peerId: r.peer_id, unread: r.unread, readUpTo: r.read_up_to, lastMessage: rowToMessage(r) }));
  }

  unread(userId: number): { total: number; conversations: number } {
    return this.st.unread.get(userId) as { total: number; conversations: number };
  }

  read(userId: number, conversationId: number, upTo: number | undefined): Promise<ReadResult> {
    return this.commit(() => {
      const member = this.st.member.get(userId, conversationId) as { last_message_id: number; unread: number; read_up_to: number } | undefined;
      if (!member) return new MessageStoreError('NOT_FOUND', `conversation ${conversationId} is not ${userId}'s`);
      const readUpTo = Math.max(member.read_up_to, upTo ?? member.last_message_id);
      if (readUpTo === member.read_up_to) {
        return { conversationId, readUpTo, unread: member.unread, total: this.st.unreadTotal.get(userId) as number, changed: false };
      }
      // Counted, not decremented: what is unread is exactly what was received after readUpTo (an index range of this conversation).
      const unread = this.st.countUnread.get(conversationId, readUpTo, userId) as number;
      this.st.markRead.run(readUpTo, unread, userId, conversationId);
      return { conversationId, readUpTo, unread, total: this.st.unreadTotal.get(userId) as number, changed: unread !== member.unread };
    });
  }

  block(userId: number, blockedId: number, at: number): Promise<{ at: number; added: boolean }> {
    return this.commit(() => {
      const added = this.st.insertBlock.run(userId, blockedId, at).changes > 0;
      return { at: added ? at : (this.st.blocked.get(userId, blockedId) as number), added };
    });
  }

  unblock(userId: number, blockedId: number): Promise<boolean> {
    return this.commit(() => this.st.deleteBlock.run(userId, blockedId).changes > 0);
  }

  isBlocked(userId: number, blockedId: number): boolean {
    return this.st.blocked.get(userId, blockedId) !== undefined;
  }

  blockCount(userId: number): number {
    return this.st.blockCount.get(userId) as number;
  }

  blocks(userId: number, offset: number, limit: number): Array<{ userId: number; at: number }> {
    return this.st.blocks.all(userId, limit, offset) as Array<{ userId: number; at: number }>;
  }

  /**
   * One write inside the next group commit, answered after it. `write` returns a refusal
   * (it must have written nothing then) instead of throwing: a throw fails the whole commit.
   */
  private commit<T>(write: () => T | MessageStoreError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let outcome: T | MessageStoreError;
      this.commits.submit({
        apply: () => void (outcome = write()),
        done: (err) => {
          if (err) reject(new MessageStoreError('STORAGE', `not stored: ${err.message}`));
          else if (outcome instanceof MessageStoreError) reject(outcome);
          else resolve(outcome);
        },
      });
    });
  }
}

function keyReused(key: string): MessageStoreError {
  return new MessageStoreError('KEY_REUSED', `key ${key} was used for another message`);
}
