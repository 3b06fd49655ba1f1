import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { PushDataOf, ReplyOf } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Ops, Pushes } from '../protocol/ops/index.js';
import type { FollowPage, FollowStore } from '../storage/follows.js';
import type { Config } from './config.js';
import type { RoomService } from './rooms.js';
import type { Session, SessionRegistry } from './sessions.js';

/** Followers read and told per turn of the event loop when a host goes live. */
export const LIVE_FANOUT_SLICE = 500;

type PageReply = ReplyOf<Ops['follow.list']>;

/**
 * Follows (F10): who follows whom, the directory of live rooms of the hosts
 * one follows, and telling followers a host went live. Requests run in the
 * caller's lane, so one user's follows and unfollows apply in order.
 */
export class FollowService {
  constructor(
    private readonly deps: {
      config: Pick<Config, 'maxFollowing'>;
      clock: Clock;
      logger: Logger;
      store: FollowStore;
      rooms: Pick<RoomService, 'hostedBy' | 'listedFor'>;
      sessions: Pick<SessionRegistry, 'push'>;
      /** Writes the push for the push gateway (the outbox), one slice of followers per commit. */
      outbox?: (userIds: number[], kind: 'room.live_started', d: PushDataOf<Pushes['room.live_started']>) => Promise<void>;
    },
  ) {}

  async add(me: Session, userId: number): Promise<ReplyOf<Ops['follow.add']>> {
    const { store, config, clock, sessions } = this.deps;
    if (userId === me.userId) throw new ProtocolError('BAD_PARAMETER', '/userId: you cannot follow yourself');
    if (!store.isFollowing(me.userId, userId) && store.counts(me.userId).following >= config.maxFollowing) {
      throw new ProtocolError('LIMIT_EXCEEDED', `you follow ${config.maxFollowing} users, the most allowed`);
    }
    const at = clock.now();
    const created = await store.follow(me.userId, userId, at);
    const followers = store.counts(userId).followers;
    if (created) sessions.push(userId, 'follow.new', { follower: { userId: me.userId, profile: me.profile }, followers, at });
    return { following: true, created, followers };
  }

  async remove(me: Session, userId: number): Promise<ReplyOf<Ops['follow.remove']>> {
    if (userId === me.userId) throw new ProtocolError('BAD_PARAMETER', '/userId: you cannot follow yourself');
    const removed = await this.deps.store.unfollow(me.userId, userId);
    return { following: false, removed, followers: this.deps.store.counts(userId).followers };
  }

  following(me: Session, limit = 50, before?: string): PageReply {
    return this.page(this.deps.store.following(me.userId, limit, before));
  }

  followers(me: Session, limit = 50, before?: string): PageReply {
    return this.page(this.deps.store.followers(me.userId, limit, before));
  }

  counts(userId: number): ReplyOf<Ops['follow.counts']> {
    return this.deps.store.counts(userId);
  }

  live(me: Session): ReplyOf<Ops['follow.live']> {
    return { rooms: this.deps.rooms.listedFor(this.deps.store.allFollowing(me.userId)) };
  }

  /**
   * A host opened a room: each follower with a session is told (room.live_started), and every
   * follower gets an outbox item for the push gateway. Followers are read a slice at a time, one
   * slice (and one commit of its outbox items) per turn of the event loop, so a host with many
   * followers does not hold up everything else.
   */
  wentLive(hostId: number, d: PushDataOf<Pushes['room.live_started']>): void {
    const { store, sessions, logger } = this.deps;
    const started = performance.now();
    let told = 0;
    let read = 0;
    const slice = (before?: string) => {
      let page: FollowPage;
      try {
        page = store.followers(hostId, LIVE_FANOUT_SLICE, before);
      } catch (err) {
        logger.error({ err, hostId, roomId: d.roomId }, 'telling followers failed');
        return;
      }
      read += page.users.length;
      for (const { userId } of page.users) if (sessions.push(userId, 'room.live_started', d)) told++;
      this.deps.outbox?.(page.users.map((u) => u.userId), 'room.live_started', d).catch((err: unknown) =>
        logger.error({ err, hostId, roomId: d.roomId }, 'writing the went-live pushes to the outbox failed'),
      );
      if (page.next !== null) setImmediate(slice, page.next);
      else logger.info({ hostId, roomId: d.roomId, followers: read, told, ms: Math.round(performance.now() - started) }, 'followers told the host went live');
    };
    slice();
  }

  private page(p: FollowPage): PageReply {
    return {
      users: p.users.map((u) => ({ ...u, liveRoomId: this.deps.rooms.hostedBy(u.userId) ?? null })),
      next: p.next,
    };
  }
}
