import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, SafeInt, UserId } from '../schemas.js';

export const MessageId = SafeInt({ minimum: 1, description: 'message id (increasing server-wide: a later message has a larger id)' });
export const ConversationId = SafeInt({ minimum: 1, description: 'conversation id (one per pair of users)' });
const Count = SafeInt({ minimum: 0 });
const Limit = SafeInt({ minimum: 1, maximum: 100, description: 'at most this many (default 20)' });
const Next = Type.Union([MessageId, Type.Null()], { description: 'pass as `before` for the next (older) page; null when there is none' });

/** One private message as both parties see it. */
export const MessageView = Type.Object({
  messageId: MessageId,
  conversationId: ConversationId,
  senderId: UserId,
  receiverId: UserId,
  text: Type.String(),
  at: Millis,
});

export const ConversationView = Type.Object({
  conversationId: ConversationId,
  peerId: UserId,
  unread: SafeInt({ minimum: 0, description: 'messages you received in it after `readUpTo`' }),
  readUpTo: SafeInt({ minimum: 0, description: 'the id up to which you marked it read (0: never)' }),
  lastMessage: MessageView,
});

export const messageOps = {
  'message.send': defineOp({
    summary:
      'Send a private message to user `userId` (7.31). Stored (committed) before the reply; the receiver\'s session gets message.new and message.unread_count ' +
      '(a dropped one on its resume); a receiver without a session finds it with message.conversations / message.history and the count with message.unread (and the message.unread_count push after the welcome) at the next login. ' +
      '`text`: at most LIVE_MESSAGE_MAX_CHARS UTF-16 code units (756 beyond), not only whitespace (700). ' +
      'Refused: to yourself (700); to a user who never logged in, when you have no conversation with them yet (710); when either of you has blocked the other (25); ' +
      'past LIVE_MESSAGE_PER_MIN messages per minute (burst LIVE_MESSAGE_BURST) per sender (903). ' +
      '`key` makes the send idempotent across reconnects and restarts: the same key again answers the first reply and stores and pushes nothing; ' +
      'the same key with another receiver or text is refused (753). A refused send is not remembered: its key may be used again.',
    seed: '7.31, 7.32',
    roles: ['viewer', 'host'],
    request: Type.Object(
      {
        userId: UserId,
        text: Type.String({ minLength: 1, description: 'the message; at most LIVE_MESSAGE_MAX_CHARS UTF-16 code units' }),
        key: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'idempotency key of this message, unique per sender' })),
      },
      { additionalProperties: false },
    ),
    reply: Type.Object({ messageId: MessageId, conversationId: ConversationId, at: Millis }),
    errors: ['BAD_PARAMETER', 'USER_NOT_FOUND', 'BLOCKED', 'MESSAGE_TOO_LONG', 'RATE_LIMITED', 'KEY_REUSED'],
    pushes: ['message.new', 'message.unread_count'],
  }),
  'message.history': defineOp({
    summary:
      'Messages of one of your conversations, newest first, a page at a time (7.30): `limit` of them older than `before` (a message id of this conversation; ' +
      'omit it for the newest page). Pass the reply\'s `next` as `before` for the page after. Another user\'s conversation is refused (23), ' +
      'a `before` that is not a message of this conversation too (755). Reading does not mark anything read (message.read does).',
    seed: '7.30',
    roles: ['viewer', 'host'],
    request: Type.Object({ conversationId: ConversationId, before: Type.Optional(MessageId), limit: Type.Optional(Limit) }, { additionalProperties: false }),
    reply: Type.Object({ messages: Type.Array(MessageView), next: Next }),
    errors: ['CONVERSATION_NOT_FOUND', 'MESSAGE_NOT_FOUND'],
  }),
  'message.conversations': defineOp({
    summary:
      'Your conversations (7.28), the one with the newest message first, a page at a time, each with the peer\'s id, its last message and your unread count in it. ' +
      '`before`: the `lastMessage.messageId` of the last conversation of the previous page (the reply\'s `next`); omit it for the first page. ' +
      'A conversation that gets a new message moves to the top: a fresh first page shows it. A `before` that is not a message of one of your conversations is refused (755). ' +
      'Profiles of peers come from the app\'s backend, not from this server.',
    seed: '7.28, 002 messageList',
    roles: ['viewer', 'host'],
    request: Type.Object({ before: Type.Optional(MessageId), limit: Type.Optional(Limit) }, { additionalProperties: false }),
    reply: Type.Object({ conversations: Type.Array(ConversationView), next: Next }),
    errors: ['MESSAGE_NOT_FOUND'],
  }),
  'message.unread': defineOp({
    summary:
      'Your unread private messages (7.29, 002 unreadMsgCount): `total` messages received and not marked read, in `conversations` conversations. ' +
      'The server\'s count is the truth (002: clients do not keep their own).',
    seed: '7.29, 002 message-unread-count',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ total: Count, conversations: Count }),
    errors: [],
  }),
  'message.read': defineOp({
    summary:
      'Mark one of your conversations read up to message `upTo` (a message of it; default its last message) (7.33). Idempotent: marking up to a message at or ' +
      'before what is already read changes nothing. The reply has the conversation\'s unread count after it (messages received after `readUpTo`) and your `total`; ' +
      'when the count changed you also get message.unread_count. Another user\'s conversation is refused (23), an `upTo` not of this conversation (755).',
    seed: '7.33',
    roles: ['viewer', 'host'],
    request: Type.Object({ conversationId: ConversationId, upTo: Type.Optional(MessageId) }, { additionalProperties: false }),
    reply: Type.Object({ conversationId: ConversationId, readUpTo: Count, unread: Count, total: Count }),
    errors: ['CONVERSATION_NOT_FOUND', 'MESSAGE_NOT_FOUND'],
    pushes: ['message.unread_count'],
  }),
} as const;

export const messagePushes = {
  'message.new': definePush({
    summary: 'A private message to you (7.32), with its sender\'s profile as their token says.',
    seed: '7.32',
    stream: 'session',
    data: Type.Object({ message: MessageView, from: Type.Object({ userId: UserId, profile: Profile }) }),
  }),
  'message.unread_count': definePush({
    summary:
      'Your unread private messages changed (002 message-unread-count): `total` as message.unread answers it. Sent when a message to you is stored, when ' +
      'message.read changed a count (with that conversation and its count), and as the first push after the welcome of a new session when it is not 0 ' +
      '(not after a resume): a new session without it has nothing unread.',
    seed: '002 message-unread-count',
    stream: 'session',
    data: Type.Object({
      total: Count,
      conversationId: Type.Optional(ConversationId),
      unread: Type.Optional(SafeInt({ minimum: 0, description: 'with conversationId: your unread count in that conversation' })),
    }),
  }),
} as const;
