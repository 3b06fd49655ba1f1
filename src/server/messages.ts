import type { Logger } from 'pino';
import type { UserStore } from '../storage/users.js';
import type { Clock } from '../clock.js';
import type { ReplyOf, RequestOf } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Ops } from '../protocol/ops/index.js';
import type { Profile } from '../protocol/schemas.js';
import { MessageStoreError, type MessageStore, type StoredMessage, type WithMessage } from '../storage/messages.js';
import type { Config } from './config.js';
import { PerUserRate } from './rate-limit.js';
import type { Session, SessionRegistry } from './sessions.js';

type Reply<K extends keyof Ops> = ReplyOf<Ops[K]>;
type Request<K extends keyof Ops> = RequestOf<Ops[K]>;

const DEFAULT_LIMIT = 20;

/**
 * Private messages (F8) and blocks. Every request runs in its user's lane (the
 * gateway's), so one user's sends are decided one after the other. The store
 * decides what needs the commit order (blocks, ids, counts) inside the group
 * commit; this service checks the request, applies the sender's rate, and
 * pushes to the receiver once the message is stored.
 */
export class Messages {
  private readonly rate: PerUserRate;

  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      store: MessageStore;
      sessions: SessionRegistry;
      users: UserStore;
      /** Durable writes of another module riding each stored message's commit (the push outbox), with the sender as pushed. */
      withMessage?: (message: Parameters<WithMessage>[0], from: { userId: number; profile: Profile }) => void;
    },
  ) {
    this.rate = new PerUserRate(deps.config.messagePerMin, deps.config.messageBurst);
  }

  async send(me: Session, d: Request<'message.send'>): Promise<Reply<'message.send'>> {
    const { config, clock, store, sessions } = this.deps;
    if (d.userId === me.userId) throw new ProtocolError('BAD_PARAMETER', '/userId: you cannot message yourself');
    if (d.text.length > config.messageMaxChars) throw new ProtocolError('MESSAGE_TOO_LONG', `at most ${config.messageMaxChars} characters`);
    if (d.text.trim() === '') throw new ProtocolError('BAD_PARAMETER', '/text must not be blank');
    const cmd = { senderId: me.userId, receiverId: d.userId, text: d.text, key: d.key, at: clock.now() };
    // A retry of a keyed send answers its first reply before anything else: it costs no rate.
    const prior = store.replay(cmd);
    if (prior) return replyOf((await asProtocol(prior)).message);
    if (!this.rate.take(me.userId, cmd.at)) throw new ProtocolError('RATE_LIMITED', `at most ${config.messagePerMin} messages per minute`);
    // The first message to someone needs them to exist (logged in once), as a booking does; later ones find the conversation.
    if (store.conversationBetween(me.userId, d.userId) === undefined) {
      if (!this.deps.users.known(d.userId)) throw new ProtocolError('USER_NOT_FOUND', `user ${d.userId} is unknown`);
    }
    const withMessage = this.deps.withMessage;
    const from = { userId: me.userId, profile: me.profile };
    const result = await asProtocol(store.send(cmd, withMessage && ((m) => withMessage(m, from))));
    const { message } = result;
    if (!result.replayed && result.receiverUnread) {
      this.deps.logger.debug({ messageId: message.messageId, from: message.senderId, to: message.receiverId }, 'private message');
      sessions.push(message.receiverId, 'message.new', { message, from });
      sessions.push(message.receiverId, 'message.unread_count', {
        total: result.receiverUnread.total,
        conversationId: message.conversationId,
        unread: result.receiverUnread.conversation,
      });
    }
    return replyOf(message);
  }

  history(me: Session, d: Request<'message.history'>): Reply<'message.history'> {
    const { store } = this.deps;
    if (store.peerIn(me.userId, d.conversationId) === undefined) throw new ProtocolError('CONVERSATION_NOT_FOUND');
    if (d.before !== undefined && store.message(d.before)?.conversationId !== d.conversationId) throw new ProtocolError('MESSAGE_NOT_FOUND', '/before');
    const limit = d.limit ?? DEFAULT_LIMIT;
    const rows = store.history(d.conversationId, d.before, limit + 1);
    const messages = rows.slice(0, limit);
    return { messages, next: rows.length > limit ? messages[limit - 1]!.messageId : null };
  }

  conversations(me: Session, d: Request<'message.conversations'>): Reply<'message.conversations'> {
    const { store } = this.deps;
    if (d.before !== undefined) {
      const cursor = store.message(d.before);
      if (!cursor || store.peerIn(me.userId, cursor.conversationId) === undefined) throw new ProtocolError('MESSAGE_NOT_FOUND', '/before');
    }
    const limit = d.limit ?? DEFAULT_LIMIT;
    const rows = store.conversations(me.userId, d.before, limit + 1);
    const conversations = rows.slice(0, limit);
    return { conversations, next: rows.length > limit ? conversations[limit - 1]!.lastMessage.messageId : null };
  }

  unread(me: Session): Reply<'message.unread'> {
    return this.deps.store.unread(me.userId);
  }

  async read(me: Session, d: Request<'message.read'>): Promise<Reply<'message.read'>> {
    const { store, sessions } = this.deps;
    if (store.peerIn(me.userId, d.conversationId) === undefined) throw new ProtocolError('CONVERSATION_NOT_FOUND');
    if (d.upTo !== undefined && store.message(d.upTo)?.conversationId !== d.conversationId) throw new ProtocolError('MESSAGE_NOT_FOUND', '/upTo');
    const r = await asProtocol(store.read(me.userId, d.conversationId, d.upTo));
    if (r.changed) sessions.push(me.userId, 'message.unread_count', { total: r.total, conversationId: r.conversationId, unread: r.unread });
    return { conversationId: r.conversationId, readUpTo: r.readUpTo, unread: r.unread, total: r.total };
  }

  async block(me: Session, d: Request<'block.add'>): Promise<Reply<'block.add'>> {
    const { store, config, clock } = this.deps;
    if (d.userId === me.userId) throw new ProtocolError('BAD_PARAMETER', '/userId: you cannot block yourself');
    // The user's lane runs one block.add at a time and each waits for its commit: the count is exact.
    if (!store.isBlocked(me.userId, d.userId) && store.blockCount(me.userId) >= config.maxBlocks) {
      throw new ProtocolError('LIMIT_EXCEEDED', `at most ${config.maxBlocks} blocked users`);
    }
    const { at } = await asProtocol(store.block(me.userId, d.userId, clock.now()));
    return { userId: d.userId, at };
  }

  async unblock(me: Session, d: Request<'block.remove'>): Promise<Reply<'block.remove'>> {
    return { removed: await asProtocol(this.deps.store.unblock(me.userId, d.userId)) };
  }

  blocks(me: Session, d: Request<'block.list'>): Reply<'block.list'> {
    const { store } = this.deps;
    return { total: store.blockCount(me.userId), users: store.blocks(me.userId, (d.page - 1) * d.pageSize, d.pageSize) };
  }

  /**
   * A new session: the server's unread count, when not 0 (as invite.count and booking.count). Pushed
   * before the welcome goes out, so it is the first push after it: a client that gets none has nothing unread.
   */
  announce(session: Session): void {
    try {
      const { total } = this.deps.store.unread(session.userId);
      if (total > 0) this.deps.sessions.push(session.userId, 'message.unread_count', { total });
    } catch (err) {
      this.deps.logger.warn({ err, userId: session.userId }, 'unread count after login failed');
    }
  }
}

function replyOf(m: StoredMessage): Reply<'message.send'> {
  return { messageId: m.messageId, conversationId: m.conversationId, at: m.at };
}

async function asProtocol<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (!(err instanceof MessageStoreError)) throw err;
    if (err.code === 'BLOCKED') throw new ProtocolError('BLOCKED');
    if (err.code === 'KEY_REUSED') throw new ProtocolError('KEY_REUSED');
    if (err.code === 'NOT_FOUND') throw new ProtocolError('CONVERSATION_NOT_FOUND');
    throw new ProtocolError('INTERNAL', err.message);
  }
}
