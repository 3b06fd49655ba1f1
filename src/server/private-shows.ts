import type { Logger } from 'pino';
import type { DeskMsg, DeskState } from '../actors/desk.js';
import { inviteView } from '../actors/desk-invites.js';
import type { showView } from '../actors/desk-show.js';
import type { Directory } from '../actors/directory.js';
import type { DomainEvent } from '../actors/effects.js';
import type { PresenceMsg, PresenceState } from '../actors/presence.js';
import type { Singleton } from '../actors/singleton.js';
import type { UserStore } from '../storage/users.js';
import type { Clock } from '../clock.js';
import type { Role } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { PrivateShowStore } from '../storage/private-shows.js';
import type { Config } from './config.js';
import type { Lanes } from './lanes.js';
import type { RoomService } from './rooms.js';
import type { Session, SessionRegistry } from './sessions.js';

type ShowReply = ReturnType<typeof showView>;

/**
 * The server's side of instant private shows (F3). Each host's desk actor
 * decides the host's side (busy, duplicates, accepting one answers the
 * others); the viewer's side ("is this viewer in a show", "how many
 * invitations has this viewer sent") is checked here inside the viewer's
 * lane, which every request that could create a show for that viewer passes
 * through: a host accepting runs its accept in the viewer's lane too.
 * The maps are caches of the desks' events, rebuilt at start from the shows table.
 */
export class PrivateShows {
  private readonly showOf = new Map<number, number>();
  private readonly shows = new Map<number, { hostId: number; viewerId: number }>();
  private nextInviteId: number;
  private nextShowId: number;

  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      desks: Directory<DeskState, DeskMsg>;
      users: UserStore;
      store: PrivateShowStore;
      sessions: SessionRegistry;
      presence: Singleton<PresenceState, PresenceMsg>;
      lanes: Lanes;
      rooms: RoomService;
      /** A user's credits now (the wallet's). */
      creditsOf(userId: number): number;
    },
  ) {
    const last = deps.store.lastIds();
    this.nextInviteId = last.invite + 1;
    this.nextShowId = last.show + 1;
  }

  /** A fresh show id (ids are allocated above the highest stored, like room ids). */
  allocateShowId(): number {
    return this.nextShowId++;
  }

  /** The host of the show the user is part of, if any. */
  hostOfShowOf(userId: number): number | undefined {
    const showId = this.showOf.get(userId);
    return showId === undefined ? undefined : this.shows.get(showId)?.hostId;
  }

  /** The parties of a show that has not ended, if `userId` is one of them. */
  partiesOf(showId: number, userId: number): { hostId: number; viewerId: number } | undefined {
    const show = this.showOf.get(userId) === showId ? this.shows.get(showId) : undefined;
    return show && { hostId: show.hostId, viewerId: show.viewerId };
  }

  /** Whether the user is part of a private show that has not ended. */
  inShow(userId: number): boolean {
    return this.showOf.has(userId);
  }

  /** A desk's event (an EffectPorts.emit target). */
  onEvent(event: DomainEvent): void {
    const { presence, logger } = this.deps;
    if (event.kind === 'show.opened') {
      this.shows.set(event.showId, { hostId: event.hostId, viewerId: event.viewerId });
      for (const id of [event.hostId, event.viewerId]) {
        this.showOf.set(id, event.showId);
        presence.tell({ t: 'activity', userId: id, activity: 'busy' });
      }
      logger.info({ showId: event.showId, hostId: event.hostId, viewerId: event.viewerId }, 'private show open');
    } else if (event.kind === 'show.ended') {
      this.shows.delete(event.showId);
      for (const id of [event.hostId, event.viewerId]) {
        if (this.showOf.get(id) !== event.showId) continue;
        this.showOf.delete(id);
        // A host whose public room is still open is live again.
        presence.tell({ t: 'activity', userId: id, activity: this.deps.rooms.activityOf(id) });
      }
      logger.info({ showId: event.showId, hostId: event.hostId, viewerId: event.viewerId }, 'private show ended');
    }
  }

  /** At start: shows that had not ended are known at once; their desks learn that nobody is connected. */
  wake(): number {
    const live = this.deps.store.liveShows();
    for (const s of live) {
      this.shows.set(s.id, { hostId: s.hostId, viewerId: s.viewerId });
      this.showOf.set(s.hostId, s.id);
      this.showOf.set(s.viewerId, s.id);
      this.deps.desks.tell(s.hostId, { t: 'restarted' });
    }
    return live.length;
  }

  /** A paid show needs its first minute in the viewer's credits (the hold taken at acceptance is the real check). */
  private checkAffords(viewerId: number): void {
    const price = this.deps.config.showPricePerMin;
    if (price > 0 && this.deps.creditsOf(viewerId) < price) throw new ProtocolError('INSUFFICIENT_CREDIT', `a private show costs ${price} credits per minute`);
  }

  /** invite.send: `me` invites `targetId` (the other role). */
  async send(me: Session, targetId: number) {
    const { sessions, store, config, clock, desks } = this.deps;
    if (targetId === me.userId) throw new ProtocolError('BAD_PARAMETER', 'you cannot invite yourself');
    const target = sessions.ofUser(targetId);
    if (!target) throw new ProtocolError('USER_OFFLINE', `user ${targetId} is offline`);
    if (target.role === me.role) throw new ProtocolError('BAD_PARAMETER', `user ${targetId} is not a ${me.role === 'viewer' ? 'host' : 'viewer'}`);
    const [host, viewer] = me.role === 'host' ? [me, target] : [target, me];
    if (this.inShow(viewer.userId)) throw new ProtocolError('USER_BUSY', 'the viewer is in a private show');
    this.checkAffords(viewer.userId);
    if (me.role === 'viewer' && store.sentPending(me.userId, 'viewer', clock.now()).length >= config.maxInvitesPerViewer) {
      throw new ProtocolError('TOO_MANY_INVITES', `at most ${config.maxInvitesPerViewer} pending`);
    }
    return desks.ask<ReturnType<typeof inviteView>>(host.userId, {
      t: 'invite', inviteId: this.nextInviteId++, viewerId: viewer.userId, viewer: viewer.profile, host: host.profile, from: me.role,
    });
  }

  async cancel(me: Session, inviteId: number): Promise<Record<string, never>> {
    const ref = this.deps.store.pendingInvite(inviteId, this.deps.clock.now());
    if (!ref || (ref.from === 'viewer' ? ref.viewerId : ref.hostId) !== me.userId) throw new ProtocolError('INVITE_NOT_FOUND');
    return this.deps.desks.ask(ref.hostId, { t: 'cancel', inviteId, by: me.userId, reason: 'cancelled' });
  }

  /** invite.accept / invite.decline by the invited side. */
  async answer(me: Session, inviteId: number, accept: boolean): Promise<unknown> {
    const { store, clock, desks, lanes } = this.deps;
    const ref = store.pendingInvite(inviteId, clock.now());
    if (!ref || (ref.from === 'viewer' ? ref.hostId : ref.viewerId) !== me.userId) throw new ProtocolError('INVITE_NOT_FOUND');
    const msg: DeskMsg = { t: 'answer', inviteId, by: me.userId, accept, showId: 0 };
    if (!accept) return desks.ask(ref.hostId, msg);
    const viewerId = ref.viewerId;
    const acceptNow = async () => {
      // Inside the viewer's lane: no other show can be created for this viewer meanwhile.
      if (this.inShow(viewerId)) throw new ProtocolError('USER_BUSY', 'the viewer is in a private show');
      this.checkAffords(viewerId);
      return desks.ask<ShowReply>(ref.hostId, { ...msg, showId: this.nextShowId++ });
    };
    const show = me.userId === viewerId ? await acceptNow() : await lanes.run(viewerId, acceptNow, { shed: false });
    await this.tidyAfterShowOpened(ref.hostId, viewerId);
    return show;
  }

  async list(me: Session, page: number, pageSize: number) {
    const { store, clock, users } = this.deps;
    const { total, rows } = store.pendingPage(me.userId, me.role, clock.now(), page, pageSize);
    const received = rows.filter((r) => (r.from === 'viewer' ? r.hostId : r.viewerId) === me.userId);
    if (received.length) await users.seen(me.userId, 'invitesSeen', Math.max(...received.map((r) => r.id)));
    return { total, invites: rows.map((r) => inviteView(r, me.userId)) };
  }

  async count(userId: number, role: Role): Promise<{ total: number; unread: number }> {
    return this.deps.store.receivedCount(userId, role, this.deps.clock.now(), this.deps.users.seenMark(userId, 'invitesSeen'));
  }

  /** After a fresh login: the pending count, when there is something to tell (it follows the welcome). */
  announce(session: Session): void {
    this.count(session.userId, session.role)
      .then((c) => {
        if (c.total > 0) this.deps.sessions.push(session.userId, 'invite.count', c);
      })
      .catch((err: unknown) => this.deps.logger.warn({ err, userId: session.userId }, 'invitation count after login failed'));
  }

  async enter(me: Session, showId: number): Promise<ShowReply> {
    const hostId = this.hostOfShow(me.userId, showId);
    const show = await this.deps.desks.ask<ShowReply>(hostId, { t: 'enter', showId, userId: me.userId });
    // Only once inside: a refused enter changes nothing. A host watching someone's room leaves it too.
    if (this.deps.rooms.watching(me.userId)) await this.deps.rooms.leave(me.userId);
    return show;
  }

  async video(me: Session, showId: number, on: boolean): Promise<ShowReply> {
    return this.deps.desks.ask(this.hostOfShow(me.userId, showId), { t: 'video', showId, userId: me.userId, on });
  }

  async close(me: Session, showId: number, countdownSec: number): Promise<Record<string, never>> {
    const hostId = this.hostOfShow(me.userId, showId);
    return this.deps.desks.ask(hostId, { t: 'close', showId, by: me.userId, countdownMs: countdownSec * 1000 });
  }

  async current(me: Session): Promise<{ show: ShowReply | null }> {
    const showId = this.showOf.get(me.userId);
    const show = showId === undefined ? undefined : this.shows.get(showId);
    if (!show) return { show: null };
    return this.deps.desks.ask(show.hostId, { t: 'current', userId: me.userId });
  }

  /** A side's socket dropped or came back: the show starts or stops its away grace. */
  connection(userId: number, connected: boolean): void {
    const showId = this.showOf.get(userId);
    const show = showId === undefined ? undefined : this.shows.get(showId);
    if (!show) return;
    this.deps.desks.tell(show.hostId, connected ? { t: 'back', userId } : { t: 'away', userId, since: this.deps.clock.now() });
  }

  /** The host of a show the user is part of; SHOW_NOT_FOUND for anybody else's, SHOW_ENDED once over. */
  private hostOfShow(userId: number, showId: number): number {
    const ref = this.deps.store.show(showId);
    if (!ref || (ref.hostId !== userId && ref.viewerId !== userId)) throw new ProtocolError('SHOW_NOT_FOUND');
    if (ref.ended) throw new ProtocolError('SHOW_ENDED');
    return ref.hostId;
  }

  /**
   * A show of these two exists now (accepted, or a booking entered): the host's public room closes; the
   * viewer's invitations to other hosts are withdrawn (they are busy). Harmless when already done.
   */
  async tidyAfterShowOpened(hostId: number, viewerId: number): Promise<void> {
    const { rooms, store, desks, clock, logger } = this.deps;
    try {
      await rooms.closeHostedBy(hostId);
      for (const ref of store.sentPending(viewerId, 'viewer', clock.now())) {
        await desks.ask(ref.hostId, { t: 'cancel', inviteId: ref.id, by: viewerId, reason: 'busy' }, { shed: false }).catch((err: unknown) => {
          if (!(err instanceof ProtocolError)) throw err;
        });
      }
    } catch (err) {
      logger.error({ err, hostId, viewerId }, 'tidying up after an accepted invitation failed');
    }
  }
}
