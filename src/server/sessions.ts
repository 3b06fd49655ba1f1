import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock.js';
import { encode } from '../protocol/codec.js';
import { CLOSE_CODES, ERRORS, type WireError } from '../protocol/errors.js';
import type { PushName } from '../protocol/ops/index.js';
import type { Identity } from './auth.js';

/** The transport side of a session: one WebSocket. */
export interface Conn {
  send(frame: Uint8Array): void;
  end(code: number, reason: string): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

export interface Session extends Identity {
  readonly id: string;
  conn: Conn | null;
  /** False until the welcome went out: pushes are buffered, not sent. */
  live: boolean;
  seq: number;
  /** The newest pushes, oldest first, for resume. */
  buffer: Array<{ seq: number; frame: Buffer }>;
  graceTimer: TimerHandle | undefined;
  /** Topics (rooms) the session receives; they follow it to a new socket or a newer login. */
  topics: ReadonlySet<string>;
}

export type EndReason = 'replaced' | 'expired' | 'shutdown' | 'kicked';

export interface SessionEvents {
  started(session: Session): void;
  ended(session: Session, reason: EndReason): void;
  /** A socket is delivering for the session again (fresh, resumed or taken over). */
  attached?(session: Session): void;
  /** The session's socket dropped; it may still be resumed. */
  detached?(session: Session): void;
}

export interface ResumeRequest {
  sessionId: string;
  lastSeq: number;
  /** Seq of the last room push the client saw, to get the room pushes it missed. */
  roomSeq?: number;
}

export interface OpenResult {
  session: Session;
  resumed: boolean;
  /** Set when a resume was asked for and could not be honoured (code 47). */
  resync?: WireError;
}

/** Most sessions are in no room: they share one empty set (an empty Set costs ~150 B). */
const NO_TOPICS: ReadonlySet<string> = new Set<string>();
/** Sessions that were never pushed to share one (frozen) empty resume buffer. */
const NO_PUSHES = Object.freeze([]) as unknown as Session['buffer'];

/**
 * One live session per user, each with its own push sequence. A dropped
 * connection leaves its session waiting `graceMs` for a resume, buffering
 * pushes; a second login replaces (and kicks) the first.
 */
export class SessionRegistry {
  private readonly byId = new Map<string, Session>();
  private readonly byUser = new Map<number, Session>();

  constructor(
    private readonly opts: { clock: Clock; graceMs: number; bufferSize: number; events: SessionEvents },
  ) {}

  get size(): number {
    return this.byId.size;
  }

  ofUser(userId: number): Session | undefined {
    return this.byUser.get(userId);
  }

  byIdOf(sessionId: string): Session | undefined {
    return this.byId.get(sessionId);
  }

  /**
   * Ends a session on the platform's word: `session.kicked` with the error, then the close (no
   * resume: the session is gone).
   */
  kickOut(s: Session, err: { code: number; msg: string }, close: { code: number; reason: string }, reason: EndReason = 'kicked'): void {
    if (s.conn) {
      s.conn.send(encode({ op: 'session.kicked', d: err }));
      s.conn.end(close.code, close.reason);
      // A replaced session's user is still here (on the new socket); a kicked one is gone like a dropped connection.
      if (reason === 'kicked') this.opts.events.detached?.(s);
    }
    this.end(s, reason);
  }

  /** Binds a new connection: resumes the asked-for session if it can, else starts a fresh one. */
  open(identity: Identity, conn: Conn, resume?: ResumeRequest): OpenResult {
    if (resume) {
      const s = this.byId.get(resume.sessionId);
      if (s && s.userId === identity.userId && this.canReplayFrom(s, resume.lastSeq)) {
        this.opts.clock.clearTimeout(s.graceTimer);
        s.graceTimer = undefined;
        if (s.conn && s.conn !== conn) s.conn.end(CLOSE_CODES.SESSION_TAKEN_OVER.code, CLOSE_CODES.SESSION_TAKEN_OVER.reason);
        Object.assign(s, { conn, live: false, role: identity.role, profile: identity.profile });
        return { session: s, resumed: true };
      }
    }
    const previous = this.byUser.get(identity.userId);
    if (previous) this.kick(previous);
    const topics = previous?.topics.size ? new Set(previous.topics) : NO_TOPICS;
    // Fields listed one by one (no spread): every session then shares one hidden class, ~400 B less each.
    const session: Session = {
      userId: identity.userId,
      role: identity.role,
      profile: identity.profile,
      id: randomUUID(),
      conn,
      live: false,
      seq: 0,
      buffer: NO_PUSHES,
      graceTimer: undefined,
      topics,
    };
    this.byId.set(session.id, session);
    this.byUser.set(session.userId, session);
    this.opts.events.started(session);
    const resync = resume ? { code: ERRORS.RESUME_EXPIRED.code, msg: ERRORS.RESUME_EXPIRED.msg } : undefined;
    return { session, resumed: false, resync };
  }

  /** Starts delivery after the welcome frame: sends every buffered push newer than `sinceSeq`. */
  activate(session: Session, sinceSeq: number): number {
    if (!session.conn || this.byId.get(session.id) !== session) return 0;
    session.live = true;
    const missed = session.buffer.filter((p) => p.seq > sinceSeq);
    for (const p of missed) session.conn.send(p.frame);
    for (const topic of session.topics) session.conn.subscribe(topic);
    this.opts.events.attached?.(session);
    return missed.length;
  }

  /** The connection closed: keep the session for a resume within the grace period. */
  detach(session: Session, conn: Conn): void {
    if (session.conn !== conn || this.byId.get(session.id) !== session) return;
    session.conn = null;
    session.live = false;
    session.graceTimer = this.opts.clock.setTimeout(() => this.end(session, 'expired'), this.opts.graceMs);
    this.opts.events.detached?.(session);
  }

  /** Starts (or stops) delivering a topic to the user's session, now and on every later socket. */
  subscribe(userId: number, topic: string): void {
    const s = this.byUser.get(userId);
    if (!s || s.topics.has(topic)) return;
    s.topics = new Set(s.topics).add(topic);
    if (s.live) s.conn?.subscribe(topic);
  }

  unsubscribe(userId: number, topic: string): void {
    const s = this.byUser.get(userId);
    if (!s || !s.topics.has(topic)) return;
    const rest = new Set(s.topics);
    rest.delete(topic);
    s.topics = rest.size ? rest : NO_TOPICS;
    if (s.live) s.conn?.unsubscribe(topic);
  }

  /** Sends (or buffers) a session-stream push; returns false when the user has no session. */
  push(userId: number, op: PushName, d: unknown): boolean {
    const s = this.byUser.get(userId);
    if (!s) return false;
    const seq = ++s.seq;
    const frame = encode({ op, d, seq });
    if (s.buffer === NO_PUSHES) s.buffer = [];
    s.buffer.push({ seq, frame });
    if (s.buffer.length > this.opts.bufferSize) s.buffer.shift();
    if (s.live && s.conn) s.conn.send(frame);
    return true;
  }

  /** Ends every session (server shutdown), closing sockets with `code`. */
  closeAll(code: number, reason: string): void {
    for (const s of [...this.byId.values()]) {
      s.conn?.end(code, reason);
      this.end(s, 'shutdown');
    }
  }

  private canReplayFrom(s: Session, lastSeq: number): boolean {
    if (lastSeq > s.seq) return false;
    const oldest = s.buffer[0]?.seq ?? s.seq + 1;
    return lastSeq >= oldest - 1;
  }

  private kick(s: Session): void {
    this.kickOut(s, { code: ERRORS.LOGGED_IN_ELSEWHERE.code, msg: ERRORS.LOGGED_IN_ELSEWHERE.msg }, CLOSE_CODES.LOGGED_IN_ELSEWHERE, 'replaced');
  }

  private end(s: Session, reason: EndReason): void {
    if (this.byId.get(s.id) !== s) return;
    this.opts.clock.clearTimeout(s.graceTimer);
    this.byId.delete(s.id);
    if (this.byUser.get(s.userId) === s) this.byUser.delete(s.userId);
    s.conn = null;
    s.live = false;
    this.opts.events.ended(s, reason);
  }
}
