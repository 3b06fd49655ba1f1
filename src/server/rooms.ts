import type { Logger } from 'pino';
import type { Directory } from '../actors/directory.js';
import type { DomainEvent, RoomListing } from '../actors/effects.js';
import type { PresenceMsg, PresenceState } from '../actors/presence.js';
import { topicOf, type EntranceVehicle, type RoomMsg, type RoomState, type RoomView } from '../actors/room.js';
import type { Singleton } from '../actors/singleton.js';
import type { Clock, TimerHandle } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import type { PushDataOf } from '../protocol/define.js';
import type { PushName, Pushes } from '../protocol/ops/index.js';
import type { Profile } from '../protocol/schemas.js';
import type { RoomRegistry } from '../storage/room-registry.js';
import type { Config } from './config.js';
import type { Lanes } from './lanes.js';
import { TokenBucket } from './rate-limit.js';
import type { SessionRegistry } from './sessions.js';

/** What the followers of a host who went live are told (room.live_started). */
export type WentLive = (hostId: number, d: PushDataOf<Pushes['room.live_started']>) => void;

type OpenMsg = Omit<Extract<RoomMsg, { t: 'open' }>, 't' | 'hostId'>;

/**
 * The server's side of rooms: which rooms are open, which room each user is
 * in (one at a time), the directory of open rooms, likes added up before
 * they reach the room actor, per-user chat limits.
 *
 * The room actors decide (who may enter, who is banned, when a room ends);
 * these maps are caches of their events, rebuilt at start from the registry
 * and the actors. A user's membership changes only inside that user's lane
 * (see Lanes) or from a room's own events (kick, close), so a check here and
 * the action after an await cannot be overtaken by the same user's next request.
 */
export class RoomService {
  /** Open rooms (opening journaled, end not) → host. Requests for anything else are refused without spawning an actor. */
  private readonly openRooms = new Map<number, number>();
  /** Open rooms with a price per minute (an entry there needs the viewer's credits). */
  private readonly paidRooms = new Set<number>();
  /** The room a user is a viewer of. */
  private readonly memberOf = new Map<number, number>();
  private readonly membersOf = new Map<number, Set<number>>();
  /** The room a host hosts. */
  private readonly hostOf = new Map<number, number>();
  private readonly listings = new Map<number, RoomListing>();
  /** Muted users per room, mirrored from the room actors' events. */
  private readonly mutedIn = new Map<number, Set<number>>();
  /** Likes, gifts and credits per room not yet told to its actor (added up, told at most every LIVE_LIKES_FLUSH_MS). */
  private readonly pendingLikes = new Map<number, { likes: number; gifts: number; credits: number }>();
  private likesTimer: TimerHandle | undefined;
  private readonly chatBuckets = new Map<number, TokenBucket>();
  private nextMsgId: number;
  private nextRoomId: number;

  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      rooms: Directory<RoomState, RoomMsg>;
      registry: RoomRegistry;
      sessions: SessionRegistry;
      presence: Singleton<PresenceState, PresenceMsg>;
      /** Tells the host's followers (src/server/follows.ts). */
      wentLive: WentLive;
      lanes: Lanes;
      /** A viewer joined or left a room's membership (hostId: the room's host at the join). */
      watched?(userId: number, roomId: number, hostId: number | undefined, joined: boolean): void;
      /** A user's credits now (a paid room checks the first minute). */
      creditsOf(userId: number): number;
      /** The vehicle a user rides into rooms (4.12), shown with their entry; null: none. */
      vehicleOf?(userId: number): EntranceVehicle | null;
      /** Whether a user is in a private show (then they neither open nor enter public rooms). */
      inPrivateShow(userId: number): boolean;
      /** Publishes to a room topic (uWS fan-out). */
      publish(topic: string, op: PushName, d: unknown): void;
    },
  ) {
    // Message ids grow across restarts without being stored: they start from the clock.
    this.nextMsgId = deps.clock.now() * 1000;
    // Room ids are allocated here and stored with the room's opening; a failed open leaves a gap, never a reuse.
    this.nextRoomId = deps.registry.lastId() + 1;
  }

  /** Applies a room actor's event to the indexes (an EffectPorts.emit target). */
  onEvent(event: DomainEvent): void {
    const { sessions, presence } = this.deps;
    switch (event.kind) {
      case 'room.opened':
        this.openRooms.set(event.roomId, event.hostId);
        if (event.pricePerMinute > 0) this.paidRooms.add(event.roomId);
        this.hostOf.set(event.hostId, event.roomId);
        this.mutedIn.set(event.roomId, new Set(event.muted));
        sessions.subscribe(event.hostId, topicOf(event.roomId));
        presence.tell({ t: 'activity', userId: event.hostId, activity: this.activityOf(event.hostId) });
        break;
      case 'room.listing':
        if (this.openRooms.has(event.roomId)) this.listings.set(event.roomId, event.listing);
        break;
      case 'room.muted': {
        const muted = this.mutedIn.get(event.roomId);
        if (event.muted) muted?.add(event.userId);
        else muted?.delete(event.userId);
        break;
      }
      case 'room.member_left':
        this.forget(event.userId, event.roomId);
        break;
      case 'room.closed':
        this.openRooms.delete(event.roomId);
        this.paidRooms.delete(event.roomId);
        this.listings.delete(event.roomId);
        this.mutedIn.delete(event.roomId);
        this.pendingLikes.delete(event.roomId);
        if (this.hostOf.get(event.hostId) === event.roomId) {
          this.hostOf.delete(event.hostId);
          sessions.unsubscribe(event.hostId, topicOf(event.roomId));
          presence.tell({ t: 'activity', userId: event.hostId, activity: this.activityOf(event.hostId) });
        }
        for (const userId of [...(this.membersOf.get(event.roomId) ?? [])]) this.forget(userId, event.roomId);
        break;
    }
  }

  /** At start: every room registered as open is known at once and learns that all its sockets are gone. */
  wakeOpenRooms(): number {
    const open = this.deps.registry.openRooms();
    for (const { id, hostId } of open) {
      this.openRooms.set(id, hostId);
      this.hostOf.set(hostId, id);
      this.deps.rooms.tell(id, { t: 'restarted' });
    }
    return open.length;
  }

  /** What presence says a user does besides being online: a private show outranks hosting a room. */
  activityOf(userId: number): 'busy' | 'live' | null {
    if (this.deps.inPrivateShow(userId)) return 'busy';
    return this.hostOf.has(userId) ? 'live' : null;
  }

  /** The room the user is in (hosting or watching), if any. */
  roomOf(userId: number): number | undefined {
    return this.hostOf.get(userId) ?? this.memberOf.get(userId);
  }

  /** The room the user is in (hosting or watching), or NOT_IN_ROOM (39). */
  currentRoom(userId: number): number {
    const roomId = this.roomOf(userId);
    if (roomId === undefined) throw new ProtocolError('NOT_IN_ROOM', 'enter a room first');
    return roomId;
  }

  /** The host of an open room. */
  hostOfRoom(roomId: number): number | undefined {
    return this.openRooms.get(roomId);
  }

  hostedBy(hostId: number): number | undefined {
    return this.hostOf.get(hostId);
  }

  /** Whether the user watches a public room. */
  watching(userId: number): boolean {
    return this.memberOf.has(userId);
  }

  /** Closes the host's open room at once, as if the host closed it; false when there is none. */
  async closeHostedBy(hostId: number): Promise<boolean> {
    const roomId = this.hostOf.get(hostId);
    if (roomId === undefined) return false;
    await this.ask(roomId, { t: 'close', by: hostId, countdownMs: 0 });
    return true;
  }

  /** Asks an open room; a room that is not open is refused (731) without spawning its actor. */
  ask<R>(roomId: number, msg: RoomMsg): Promise<R> {
    if (!this.openRooms.has(roomId)) return Promise.reject(new ProtocolError('INVALID_ROOM'));
    // Closing: what was added up for the room reaches it first (its mailbox keeps the order), so its totals have it.
    if (msg.t === 'close' || msg.t === 'admin-close') this.flushLikes();
    return this.deps.rooms.ask<R>(roomId, msg);
  }

  /** Opens a room (the host's lane): a fresh id, stored with the room's first journal entry. */
  async open(hostId: number, msg: OpenMsg): Promise<RoomView> {
    const { rooms } = this.deps;
    const hosting = this.hostOf.get(hostId);
    if (hosting !== undefined) throw new ProtocolError('HOST_IS_LIVE', `room ${hosting} is open`);
    if (this.deps.inPrivateShow(hostId)) throw new ProtocolError('USER_BUSY', 'you are in a private show');
    const watching = this.memberOf.get(hostId);
    const roomId = this.nextRoomId++;
    const view = await rooms.ask<RoomView>(roomId, { t: 'open', hostId, ...msg });
    // A viewer may have accepted this host's invitation meanwhile (in the viewer's lane): the show wins.
    if (this.deps.inPrivateShow(hostId)) {
      await this.ask(roomId, { t: 'close', by: hostId, countdownMs: 0 });
      throw new ProtocolError('USER_BUSY', 'you are in a private show');
    }
    // Only once the room exists: a failed open leaves the host where they were.
    if (watching !== undefined) await this.leaveRoom(hostId, watching, 'left');
    this.deps.wentLive(hostId, { roomId, host: { userId: hostId, profile: msg.host }, title: msg.title });
    return view;
  }

  /** Enters a room (the user's lane); the room the user was in is left only once the new one said yes. */
  async enter(userId: number, profile: Profile, roomId: number): Promise<RoomView> {
    const hosting = this.hostOf.get(userId);
    if (hosting !== undefined && hosting !== roomId) throw new ProtocolError('PERMISSION_DENIED', 'close your own room first');
    if (this.deps.inPrivateShow(userId)) throw new ProtocolError('USER_BUSY', 'you are in a private show');
    const credits = this.paidRooms.has(roomId) ? this.deps.creditsOf(userId) : undefined;
    const vehicle = hosting === undefined ? (this.deps.vehicleOf?.(userId) ?? null) : null;
    const view = await this.ask<RoomView>(roomId, { t: 'enter', userId, profile, credits, vehicle });
    if (hosting !== undefined) return view;
    const previous = this.memberOf.get(userId);
    if (previous !== undefined && previous !== roomId) await this.leaveRoom(userId, previous, 'left');
    // The room may have closed while we waited; its close event already put everyone out.
    if (this.openRooms.has(roomId)) this.join(userId, roomId);
    return view;
  }

  /** Leaves the room the user watches (the user's lane). */
  async leave(userId: number): Promise<void> {
    if (this.hostOf.has(userId)) throw new ProtocolError('PERMISSION_DENIED', 'a host closes the room instead');
    const roomId = this.memberOf.get(userId);
    if (roomId === undefined) throw new ProtocolError('NOT_IN_ROOM', 'enter a room first');
    await this.leaveRoom(userId, roomId, 'left');
  }

  /** Counts likes now; the room hears of them (one journal write, one push) at most every likesFlushMs. */
  like(roomId: number, count: number): void {
    this.tally(roomId, count, 0, 0);
  }

  /** Credits spent in a room (gifts, paid minutes, paid barrage; committed): counted in its totals (room.ended). */
  earned(roomId: number, gifts: number, credits: number): void {
    this.tally(roomId, 0, gifts, credits);
  }

  private tally(roomId: number, likes: number, gifts: number, credits: number): void {
    const t = this.pendingLikes.get(roomId) ?? { likes: 0, gifts: 0, credits: 0 };
    this.pendingLikes.set(roomId, { likes: t.likes + likes, gifts: t.gifts + gifts, credits: t.credits + credits });
    this.likesTimer ??= this.deps.clock.setTimeout(() => this.flushLikes(), this.deps.config.likesFlushMs);
  }

  /** Tells every room what was added up for it (also right before a room is asked to close, so its totals have it). */
  flushLikes(): void {
    this.deps.clock.clearTimeout(this.likesTimer);
    this.likesTimer = undefined;
    for (const [roomId, t] of this.pendingLikes) {
      if (!this.openRooms.has(roomId)) continue;
      if (t.likes > 0) this.deps.rooms.tell(roomId, { t: 'likes', count: t.likes });
      if (t.gifts > 0 || t.credits > 0) this.deps.rooms.tell(roomId, { t: 'earned', gifts: t.gifts, credits: t.credits });
    }
    this.pendingLikes.clear();
  }

  /**
   * A chat or barrage line. It changes no room state, so it is published here,
   * inside the socket's message callback, instead of after a room actor
   * round trip: lines that arrive together leave together (uWS then batches
   * them per viewer), which the actor's one-message-per-turn pace prevents.
   */
  say(userId: number, profile: Profile, text: string, kind: 'message' | 'barrage', roomId = this.checkLine(userId)): { msgId: number } {
    const msgId = this.allocateMsgId();
    this.publishLine(roomId, msgId, userId, profile, text, kind);
    return { msgId };
  }

  /** Whether `userId` may say a line now (in a room, not muted, within the rate, which this takes from): the room. */
  checkLine(userId: number): number {
    const { config, clock } = this.deps;
    const roomId = this.currentRoom(userId);
    if (this.mutedIn.get(roomId)?.has(userId)) throw new ProtocolError('MUTED');
    let bucket = this.chatBuckets.get(userId);
    if (!bucket) this.chatBuckets.set(userId, (bucket = new TokenBucket(config.chatPerSec, config.chatBurst, clock.now())));
    if (!bucket.take(clock.now())) throw new ProtocolError('RATE_LIMITED', `at most ${config.chatPerSec} lines per second`);
    return roomId;
  }

  allocateMsgId(): number {
    return ++this.nextMsgId;
  }

  publishLine(roomId: number, msgId: number, userId: number, profile: Profile, text: string, kind: 'message' | 'barrage'): void {
    const line = { roomId, msgId, from: { userId, profile }, text, at: this.deps.clock.now() };
    this.deps.publish(topicOf(roomId), kind === 'message' ? 'chat.message' : 'chat.barrage', line);
  }

  list(page: number, pageSize: number) {
    const all = [...this.listings.entries()].sort(([a, x], [b, y]) => y.viewers - x.viewers || a - b);
    return { total: all.length, rooms: all.slice((page - 1) * pageSize, page * pageSize).map(([roomId, l]) => listed(roomId, l)) };
  }

  /** The directory entries of the rooms these hosts have open, most viewers first. */
  listedFor(hostIds: Iterable<number>) {
    const out: Array<ReturnType<typeof listed>> = [];
    for (const hostId of hostIds) {
      const roomId = this.hostOf.get(hostId);
      const l = roomId === undefined ? undefined : this.listings.get(roomId);
      if (l) out.push(listed(roomId!, l));
    }
    return out.sort((a, b) => b.viewers - a.viewers || a.roomId - b.roomId);
  }

  /** A user's session ended for good: leave their room, in their lane (never shed). */
  sessionEnded(userId: number): void {
    this.chatBuckets.delete(userId);
    void this.deps.lanes
      .run(userId, async () => {
        const roomId = this.memberOf.get(userId);
        if (roomId !== undefined) await this.leaveRoom(userId, roomId, 'gone');
      }, { shed: false })
      .catch((err) => this.deps.logger.error({ err, userId }, 'leaving the room failed'));
  }

  /** The host's socket dropped or came back: the room starts or stops its grace period. */
  hostConnection(hostId: number, connected: boolean): void {
    const roomId = this.hostOf.get(hostId);
    if (roomId === undefined) return;
    // After a restart the host logs in anew: put them back on their room's topic.
    if (connected) this.deps.sessions.subscribe(hostId, topicOf(roomId));
    this.deps.rooms.tell(roomId, connected ? { t: 'host-back' } : { t: 'host-away', since: this.deps.clock.now() });
  }

  close(): void {
    this.deps.clock.clearTimeout(this.likesTimer);
    this.flushLikes();
  }

  private async leaveRoom(userId: number, roomId: number, reason: 'left' | 'gone'): Promise<void> {
    try {
      await this.deps.rooms.ask(roomId, { t: 'leave', userId, reason }, { shed: false });
    } catch (err) {
      // Not in it any more (kicked, closed): the outcome wanted anyway.
      if (!(err instanceof ProtocolError)) throw err;
    }
    // The room's member_left event normally did this already; a closed room sends none.
    this.forget(userId, roomId);
  }

  private join(userId: number, roomId: number): void {
    // Entering the room one is in again (a resync) goes on with the same visit.
    if (this.memberOf.get(userId) !== roomId) this.deps.watched?.(userId, roomId, this.openRooms.get(roomId), true);
    this.memberOf.set(userId, roomId);
    let members = this.membersOf.get(roomId);
    if (!members) this.membersOf.set(roomId, (members = new Set()));
    members.add(userId);
    this.deps.sessions.subscribe(userId, topicOf(roomId));
  }

  private forget(userId: number, roomId: number): void {
    if (this.memberOf.get(userId) !== roomId) return;
    this.memberOf.delete(userId);
    this.deps.watched?.(userId, roomId, undefined, false);
    const members = this.membersOf.get(roomId);
    members?.delete(userId);
    if (members?.size === 0) this.membersOf.delete(roomId);
    this.deps.sessions.unsubscribe(userId, topicOf(roomId));
  }
}

function listed(roomId: number, l: RoomListing) {
  return { roomId, host: { userId: l.hostId, profile: l.host }, title: l.title, viewers: l.viewers, likes: l.likes, openedAt: l.openedAt };
}
