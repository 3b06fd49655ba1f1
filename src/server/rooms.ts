import type { Logger } from 'pino';
import type { Directory } from '../actors/directory.js';
import type { DomainEvent, RoomListing } from '../actors/effects.js';
import type { PresenceMsg, PresenceState } from '../actors/presence.js';
import { topicOf, type RoomMsg, type RoomState, type RoomView } from '../actors/room.js';
import type { Singleton } from '../actors/singleton.js';
import type { Clock, TimerHandle } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import type { PushName } from '../protocol/ops/index.js';
import type { Profile } from '../protocol/schemas.js';
import type { RoomRegistry } from '../storage/room-registry.js';
import type { Config } from './config.js';
import { TokenBucket } from './rate-limit.js';
import type { SessionRegistry } from './sessions.js';

/** Who follows a host; the social features provide it later (none until then). */
export interface FollowerProvider {
  followersOf(hostId: number): number[];
}

export const NO_FOLLOWERS: FollowerProvider = { followersOf: () => [] };

/**
 * The server's side of rooms: which room each user is in (one at a time),
 * the directory of open rooms, likes added up before they reach the room
 * actor, per-user chat limits. All of it is rebuilt from the room actors'
 * events, so it never has to be persisted itself.
 */
export class RoomService {
  private readonly memberOf = new Map<number, number>();
  private readonly hostOf = new Map<number, number>();
  private readonly listings = new Map<number, RoomListing>();
  /** Muted users per room, mirrored from the room actors' events. */
  private readonly mutedIn = new Map<number, Set<number>>();
  private readonly pendingLikes = new Map<number, number>();
  private likesTimer: TimerHandle | undefined;
  private readonly chatBuckets = new Map<number, TokenBucket>();
  private nextMsgId: number;

  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      rooms: Directory<RoomState, RoomMsg>;
      registry: RoomRegistry;
      sessions: SessionRegistry;
      presence: Singleton<PresenceState, PresenceMsg>;
      followers: FollowerProvider;
      /** Publishes to a room topic (uWS fan-out). */
      publish(topic: string, op: PushName, d: unknown): void;
    },
  ) {
    // Message ids grow across restarts without being stored: they start from the clock.
    this.nextMsgId = deps.clock.now() * 1000;
  }

  /** Applies a room actor's event to the indexes (an EffectPorts.emit target). */
  onEvent(event: DomainEvent): void {
    const { sessions, presence, registry, clock } = this.deps;
    switch (event.kind) {
      case 'room.opened':
        this.hostOf.set(event.hostId, event.roomId);
        this.mutedIn.set(event.roomId, new Set(event.muted));
        this.join(event.hostId, event.roomId);
        presence.tell({ t: 'activity', userId: event.hostId, activity: 'live' });
        break;
      case 'room.listing':
        this.listings.set(event.roomId, event.listing);
        break;
      case 'room.muted': {
        const muted = this.mutedIn.get(event.roomId) ?? new Set<number>();
        if (event.muted) muted.add(event.userId);
        else muted.delete(event.userId);
        this.mutedIn.set(event.roomId, muted);
        break;
      }
      case 'room.member_left':
        if (this.memberOf.get(event.userId) === event.roomId) {
          this.memberOf.delete(event.userId);
          sessions.unsubscribe(event.userId, topicOf(event.roomId));
        }
        break;
      case 'room.closed':
        registry.markClosed(event.roomId, clock.now());
        this.listings.delete(event.roomId);
        this.mutedIn.delete(event.roomId);
        this.pendingLikes.delete(event.roomId);
        if (this.hostOf.get(event.hostId) === event.roomId) {
          this.hostOf.delete(event.hostId);
          presence.tell({ t: 'activity', userId: event.hostId, activity: null });
        }
        for (const [userId, roomId] of this.memberOf) {
          if (roomId !== event.roomId) continue;
          this.memberOf.delete(userId);
          sessions.unsubscribe(userId, topicOf(roomId));
        }
        break;
    }
  }

  /** At start: every room registered as open learns that all its sockets are gone. */
  wakeOpenRooms(): number {
    const open = this.deps.registry.openRooms();
    for (const { id } of open) this.deps.rooms.tell(id, { t: 'restarted' });
    return open.length;
  }

  /** The room the user is in, or NOT_IN_ROOM (39). */
  currentRoom(userId: number): number {
    const roomId = this.memberOf.get(userId);
    if (roomId === undefined) throw new ProtocolError('NOT_IN_ROOM', 'enter a room first');
    return roomId;
  }

  hostedBy(hostId: number): number | undefined {
    return this.hostOf.get(hostId);
  }

  /** Opens a room: a durable id first (one open room per host), then the room actor. */
  async open(hostId: number, msg: Omit<Extract<RoomMsg, { t: 'open' }>, 't' | 'hostId'>) {
    const { registry, rooms, clock, followers, sessions } = this.deps;
    const roomId = registry.create(hostId, clock.now());
    if (roomId === null) throw new ProtocolError('HOST_IS_LIVE', `room ${registry.openRoomOf(hostId)} is open`);
    await this.leaveCurrent(hostId);
    let view: RoomView;
    try {
      view = await rooms.ask<RoomView>(roomId, { t: 'open', hostId, ...msg });
    } catch (err) {
      registry.markClosed(roomId, clock.now());
      throw err;
    }
    for (const follower of followers.followersOf(hostId)) {
      sessions.push(follower, 'room.live_started', { roomId, host: { userId: hostId, profile: msg.host }, title: msg.title });
    }
    return view;
  }

  /** Enters a room, leaving the one the user was in. */
  async enter(userId: number, msg: Extract<RoomMsg, { t: 'enter' }>, roomId: number) {
    const current = this.memberOf.get(userId);
    if (current !== undefined && current !== roomId) {
      if (this.hostOf.get(userId) === current) throw new ProtocolError('PERMISSION_DENIED', 'close your own room first');
      await this.leaveCurrent(userId);
    }
    const view = await this.deps.rooms.ask<RoomView>(roomId, msg);
    this.join(userId, roomId);
    return view;
  }

  async leaveCurrent(userId: number, reason: 'left' | 'gone' = 'left'): Promise<boolean> {
    const current = this.memberOf.get(userId);
    if (current === undefined || this.hostOf.get(userId) === current) return false;
    try {
      await this.deps.rooms.ask(current, { t: 'leave', userId, reason });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
    // The room's member_left event normally did this already; a closed room sends none.
    if (this.memberOf.get(userId) === current) {
      this.memberOf.delete(userId);
      this.deps.sessions.unsubscribe(userId, topicOf(current));
    }
    return true;
  }

  /** Counts likes now; the room hears of them (one journal write, one push) at most every likesFlushMs. */
  like(roomId: number, count: number): void {
    this.pendingLikes.set(roomId, (this.pendingLikes.get(roomId) ?? 0) + count);
    this.likesTimer ??= this.deps.clock.setTimeout(() => this.flushLikes(), this.deps.config.likesFlushMs);
  }

  flushLikes(): void {
    this.likesTimer = undefined;
    for (const [roomId, count] of this.pendingLikes) this.deps.rooms.tell(roomId, { t: 'likes', count });
    this.pendingLikes.clear();
  }

  /**
   * A chat or barrage line. It changes no room state, so it is published here,
   * inside the socket's message callback, instead of after a room actor
   * round trip: lines that arrive together leave together (uWS then batches
   * them per viewer), which the actor's one-message-per-turn pace prevents.
   */
  say(userId: number, profile: Profile, text: string, kind: 'message' | 'barrage'): { msgId: number } {
    const { config, clock } = this.deps;
    const roomId = this.currentRoom(userId);
    if (this.mutedIn.get(roomId)?.has(userId)) throw new ProtocolError('MUTED');
    let bucket = this.chatBuckets.get(userId);
    if (!bucket) this.chatBuckets.set(userId, (bucket = new TokenBucket(config.chatPerSec, config.chatBurst, clock.now())));
    if (!bucket.take(clock.now())) throw new ProtocolError('RATE_LIMITED', `at most ${config.chatPerSec} lines per second`);
    const msgId = ++this.nextMsgId;
    const line = { roomId, msgId, from: { userId, profile }, text, at: clock.now() };
    this.deps.publish(topicOf(roomId), kind === 'message' ? 'chat.message' : 'chat.barrage', line);
    return { msgId };
  }

  list(page: number, pageSize: number) {
    const all = [...this.listings.entries()].sort(([a, x], [b, y]) => y.viewers - x.viewers || a - b);
    return {
      total: all.length,
      rooms: all.slice((page - 1) * pageSize, page * pageSize).map(([roomId, l]) => ({
        roomId,
        host: { userId: l.hostId, profile: l.host },
        title: l.title,
        viewers: l.viewers,
        likes: l.likes,
        openedAt: l.openedAt,
      })),
    };
  }

  /** A user's session ended for good: leave their room. */
  sessionEnded(userId: number): void {
    this.chatBuckets.delete(userId);
    void this.leaveCurrent(userId, 'gone').catch((err) => this.deps.logger.error({ err, userId }, 'leaving the room failed'));
  }

  /** The host's socket dropped or came back: the room starts or stops its grace period. */
  hostConnection(hostId: number, connected: boolean): void {
    const roomId = this.hostOf.get(hostId);
    if (roomId === undefined) return;
    // After a restart the host logs in anew: put them back on their room's topic.
    if (connected) this.join(hostId, roomId);
    this.deps.rooms.tell(roomId, connected ? { t: 'host-back' } : { t: 'host-away', since: this.deps.clock.now() });
  }

  close(): void {
    this.deps.clock.clearTimeout(this.likesTimer);
    this.flushLikes();
  }

  private join(userId: number, roomId: number): void {
    this.memberOf.set(userId, roomId);
    this.deps.sessions.subscribe(userId, topicOf(roomId));
  }
}
