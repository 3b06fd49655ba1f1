import type { Logger } from 'pino';
import { bookingView } from '../actors/desk-bookings.js';
import type { showView } from '../actors/desk-show.js';
import type { DeskMsg, DeskState } from '../actors/desk.js';
import type { Directory } from '../actors/directory.js';
import type { UserStore } from '../storage/users.js';
import type { Clock } from '../clock.js';
import type { Role } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { BookingListState, BookingStore } from '../storage/bookings.js';
import type { Config } from './config.js';
import type { Lanes } from './lanes.js';
import type { PrivateShows } from './private-shows.js';
import type { RoomService } from './rooms.js';
import type { Session, SessionRegistry } from './sessions.js';

type BookingReply = ReturnType<typeof bookingView>;

/** Stored statuses of bookings that can no longer be entered. */
const SETTLED = new Set(['declined', 'cancelled', 'expired', 'completed', 'missed_by_host', 'missed_by_viewer', 'missed_by_both']);

/**
 * The server's side of bookings (F4). The host's desk decides (time window,
 * overlaps, answers, reminder, judgement); this routes requests to it, checks
 * "whose booking is this" against the bookings table, and runs anything that
 * can put a viewer into a show in the viewer's lane (see PrivateShows).
 */
export class Bookings {
  private nextBookingId: number;

  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      desks: Directory<DeskState, DeskMsg>;
      users: UserStore;
      store: BookingStore;
      sessions: SessionRegistry;
      lanes: Lanes;
      shows: PrivateShows;
      rooms: RoomService;
      /** A user's credits now (the wallet's). */
      creditsOf(userId: number): number;
    },
  ) {
    this.nextBookingId = deps.store.lastId() + 1;
  }

  /** booking.create: the other side may be offline, but must be known (logged in once) and of the other role. */
  async create(me: Session, targetId: number, startsAt: number, durationMin: number): Promise<BookingReply> {
    const { users, desks } = this.deps;
    if (targetId === me.userId) throw new ProtocolError('BAD_PARAMETER', 'you cannot book yourself');
    const target = users.get(targetId);
    if (!target) throw new ProtocolError('USER_NOT_FOUND', `user ${targetId} is unknown`);
    if (target.role === me.role) throw new ProtocolError('BAD_PARAMETER', `user ${targetId} is not a ${me.role === 'viewer' ? 'host' : 'viewer'}`);
    const other = { userId: targetId, profile: this.deps.sessions.ofUser(targetId)?.profile ?? target.profile };
    const [host, viewer] = me.role === 'host' ? [me, other] : [other, me];
    return desks.ask(host.userId, {
      t: 'book', bookingId: this.nextBookingId++, viewerId: viewer.userId, viewer: viewer.profile, host: host.profile, from: me.role, startsAt, durationMin,
    });
  }

  async cancel(me: Session, bookingId: number): Promise<Record<string, never>> {
    return this.deps.desks.ask(this.hostOf(me, bookingId), { t: 'booking-cancel', bookingId, by: me.userId });
  }

  async answer(me: Session, bookingId: number, accept: boolean): Promise<unknown> {
    const hostId = this.hostOf(me, bookingId);
    const price = this.deps.config.showPricePerMin;
    // Accepting holds the viewer's deposit (the hold is the real check, this refuses early and cleanly).
    if (accept && price > 0 && this.deps.creditsOf(this.deps.store.ref(bookingId)!.viewerId) < price) {
      throw new ProtocolError('INSUFFICIENT_CREDIT', `accepting holds a deposit of ${price} credits from the viewer`);
    }
    return this.deps.desks.ask(hostId, { t: 'booking-answer', bookingId, by: me.userId, accept });
  }

  /** booking.enter, in the viewer's lane (a host's enter runs its desk call there too): the viewer is in one show at most. */
  async enter(me: Session, bookingId: number): Promise<ReturnType<typeof showView>> {
    const { shows, lanes, rooms, desks, store } = this.deps;
    const hostId = this.hostOf(me, bookingId);
    const ref = store.ref(bookingId)!;
    if (SETTLED.has(ref.status)) throw new ProtocolError('BOOKING_NOT_OPEN', `the booking is ${ref.status}`);
    const enterNow = async () => {
      // In a show with this host, it can only be this booking's (the desk checks); with another host, busy.
      const withHost = shows.hostOfShowOf(ref.viewerId);
      if (withHost !== undefined && withHost !== hostId) throw new ProtocolError('USER_BUSY', 'the viewer is in another private show');
      return desks.ask<ReturnType<typeof showView>>(hostId, { t: 'booking-enter', bookingId, userId: me.userId, showId: shows.allocateShowId() });
    };
    const show = me.userId === ref.viewerId ? await enterNow() : await lanes.run(ref.viewerId, enterNow, { shed: false });
    // Only once inside: a refused enter changes nothing.
    if (rooms.watching(me.userId)) await rooms.leave(me.userId);
    await shows.tidyAfterShowOpened(hostId, ref.viewerId);
    return show;
  }

  async list(me: Session, state: BookingListState, page: number, pageSize: number) {
    const { store, users, config } = this.deps;
    const { total, rows } = store.page(me.userId, me.role, state, page, pageSize);
    const received = rows.filter((r) => state === 'pending' && (r.from === 'viewer' ? r.hostId : r.viewerId) === me.userId);
    if (received.length) await users.seen(me.userId, 'bookingsSeen', Math.max(...received.map((r) => r.id)));
    return { total, bookings: rows.map((r) => bookingView(r, me.userId, config.bookingJudgeMs)) };
  }

  async count(userId: number, role: Role): Promise<{ total: number; unread: number }> {
    return this.deps.store.receivedCount(userId, role, this.deps.users.seenMark(userId, 'bookingsSeen'));
  }

  /** After a fresh login: the pending count, when there is something to tell (it follows the welcome). */
  announce(session: Session): void {
    this.count(session.userId, session.role)
      .then((c) => {
        if (c.total > 0) this.deps.sessions.push(session.userId, 'booking.count', c);
      })
      .catch((err: unknown) => this.deps.logger.warn({ err, userId: session.userId }, 'booking count after login failed'));
  }

  /** The host of a booking the user is part of; BOOKING_NOT_FOUND for anybody else's. */
  private hostOf(me: Session, bookingId: number): number {
    const ref = this.deps.store.ref(bookingId);
    if (!ref || (ref.hostId !== me.userId && ref.viewerId !== me.userId)) throw new ProtocolError('BOOKING_NOT_FOUND');
    return ref.hostId;
  }
}
