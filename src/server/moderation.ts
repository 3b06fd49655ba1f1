import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { CLOSE_CODES, ERRORS, ProtocolError } from '../protocol/errors.js';
import type { Ban, BanKind, BanStore } from '../storage/bans.js';
import type { PrivateShows } from './private-shows.js';
import type { RoomService } from './rooms.js';
import type { SessionRegistry } from './sessions.js';

export type NoticeKind = 'warning' | 'system';

/** What the media service asks (F12): may this user, on this session, publish or play (in this room or show)? */
export interface MediaQuery {
  userId: number;
  sessionId: string;
  action: 'publish' | 'play';
  roomId?: number;
  showId?: number;
}

export interface MediaAnswer {
  allowed: boolean;
  /** Why not: `session` (not the user's current session), `banned`, `live_banned`, `room`, `show`; null when allowed. */
  reason: 'session' | 'banned' | 'live_banned' | 'room' | 'show' | null;
}

/**
 * The platform's hand on users (F11, F12): bans (account: no login; live: no
 * going live, no publishing), notices, kicking a session by its id, and the
 * media service's question whether a session may publish or play.
 */
export class Moderation {
  constructor(
    private readonly deps: {
      clock: Clock;
      logger: Logger;
      bans: BanStore;
      sessions: SessionRegistry;
      rooms: Pick<RoomService, 'hostedBy' | 'roomOf' | 'hostOfRoom' | 'activityOf' | 'ask'>;
      shows: Pick<PrivateShows, 'partiesOf' | 'inShow'>;
      /** The room of the user's co-host call, if any (src/server/calls.ts). */
      callRoomOf?(userId: number): number | undefined;
    },
  ) {}

  /** The ban of that kind in force now, if any. */
  banOf(userId: number, kind: BanKind): Ban | undefined {
    return this.deps.bans.get(userId, kind, this.deps.clock.now());
  }

  /** Refuses (770 / 771) a user the platform banned. */
  check(userId: number, kind: BanKind): void {
    const ban = this.banOf(userId, kind);
    if (ban) throw new ProtocolError(kind === 'account' ? 'ACCOUNT_BANNED' : 'LIVE_BANNED', ban.reason);
  }

  /**
   * Bans a user, stored before it acts: an account ban ends their session (session.kicked 770, close
   * 4770); a live ban closes their open room and tells them (user.notice live_ban).
   */
  async ban(userId: number, kind: BanKind, reason: string, durationSec: number | undefined): Promise<Ban> {
    const { clock, bans, sessions, rooms } = this.deps;
    const at = clock.now();
    const ban: Ban = { userId, kind, reason, at, until: durationSec === undefined ? null : at + durationSec * 1000 };
    await bans.put(ban);
    if (kind === 'account') {
      const session = sessions.ofUser(userId);
      if (session) sessions.kickOut(session, { code: ERRORS.ACCOUNT_BANNED.code, msg: reason }, CLOSE_CODES.ACCOUNT_BANNED);
    } else {
      sessions.push(userId, 'user.notice', { kind: 'live_ban', text: reason, until: ban.until, at });
    }
    // Either way a banned host's room ends now, closed by the platform (an account ban would otherwise wait for the host's grace).
    const roomId = rooms.hostedBy(userId);
    if (roomId !== undefined) await rooms.ask(roomId, { t: 'admin-close' });
    return ban;
  }

  lift(userId: number, kind: BanKind): Promise<boolean> {
    return this.deps.bans.lift(userId, kind);
  }

  /** A notice to one user; false when they have no session (nothing is kept for later). */
  notice(userId: number, kind: NoticeKind, text: string): boolean {
    return this.deps.sessions.push(userId, 'user.notice', { kind, text, until: null, at: this.deps.clock.now() });
  }

  /** 7.50: tells a user (not in a room's name) to publish to and/or play from another media server; false when they have no session. */
  mediaSwitch(userId: number, d: { publishUrl: string | null; playUrl: string | null; reason: string }): boolean {
    return this.deps.sessions.push(userId, 'media.switch', { roomId: null, ...d, at: this.deps.clock.now() });
  }

  /** Ends a session by its id (session.kicked 711, close 4711); false when no such session is alive. */
  kickSession(sessionId: string, reason: string): boolean {
    const session = this.deps.sessions.byIdOf(sessionId);
    if (!session) return false;
    this.deps.sessions.kickOut(session, { code: ERRORS.PERMISSION_DENIED.code, msg: reason }, CLOSE_CODES.KICKED);
    return true;
  }

  /** What the platform sees of a user now: session, room, show, bans. */
  lookup(userId: number) {
    const { sessions, rooms, shows } = this.deps;
    const session = sessions.ofUser(userId);
    const ban = (kind: BanKind) => {
      const b = this.banOf(userId, kind);
      return b ? { reason: b.reason, until: b.until, at: b.at } : null;
    };
    const hosting = rooms.hostedBy(userId) ?? null;
    const inShow = shows.inShow(userId);
    return {
      userId,
      session: session ? { sessionId: session.id, role: session.role, connected: session.conn !== null } : null,
      // As presence.query says it (a session waiting for a resume is still online).
      presence: session ? (rooms.activityOf(userId) ?? 'online') : 'offline',
      hosting,
      roomId: this.deps.rooms.roomOf(userId) ?? null,
      inShow,
      bans: { account: ban('account'), live: ban('live') },
    };
  }

  authorizeMedia(q: MediaQuery): MediaAnswer {
    const { sessions, rooms, shows } = this.deps;
    const no = (reason: MediaAnswer['reason']): MediaAnswer => ({ allowed: false, reason });
    if (sessions.ofUser(q.userId)?.id !== q.sessionId) return no('session');
    if (this.banOf(q.userId, 'account')) return no('banned');
    if (q.action === 'publish' && this.banOf(q.userId, 'live')) return no('live_banned');
    if (q.roomId !== undefined) {
      const host = rooms.hostOfRoom(q.roomId);
      const coHost = host !== undefined && this.deps.callRoomOf?.(q.userId) === q.roomId;
      const inRoom = host === q.userId || coHost || (q.action === 'play' && host !== undefined && this.deps.rooms.roomOf(q.userId) === q.roomId);
      if (!inRoom) return no('room');
    }
    if (q.showId !== undefined && !shows.partiesOf(q.showId, q.userId)) return no('show');
    return { allowed: true, reason: null };
  }

}
