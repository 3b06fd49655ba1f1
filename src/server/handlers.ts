import type { PresenceMsg, PresenceState } from '../actors/presence.js';
import type { Singleton } from '../actors/singleton.js';
import type { UserStore } from '../storage/users.js';
import type { Clock } from '../clock.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ReplyOf, RequestOf } from '../protocol/define.js';
import type { OpName, Ops } from '../protocol/ops/index.js';
import type { Config } from './config.js';
import { emoticons } from './emoticons.js';
import type { Bookings } from './bookings.js';
import type { PrivateShows } from './private-shows.js';
import type { RoomService } from './rooms.js';
import type { Session } from './sessions.js';
import type { Backpack } from './backpack.js';
import type { Barrage } from './barrage.js';
import type { FollowService } from './follows.js';
import type { ViewerLevels } from './viewer-levels.js';
import type { Moderation } from './moderation.js';
import type { GiftService } from './gifts.js';
import type { Messages } from './messages.js';
import type { Wallet } from './wallet.js';
import type { CallService } from './calls.js';
import type { MatchService } from './matches.js';
import type { TalentService } from './talents.js';
import type { IntimacyService } from './intimacy.js';
import type { AudienceLists } from './audience.js';

/** Who is asking: the session the request arrived on. */
export interface RequestContext {
  session: Session;
  requestId: number;
}

export interface HandlerDeps {
  config: Config;
  clock: Clock;
  users: UserStore;
  presence: Singleton<PresenceState, PresenceMsg>;
  roomService: RoomService;
  privateShows: PrivateShows;
  bookings: Bookings;
  wallet: Wallet;
  gifts: GiftService;
  barrage: Barrage;
  backpack: Backpack;
  follows: FollowService;
  viewerLevels: ViewerLevels;
  moderation: Moderation;
  messages: Messages;
  calls: CallService;
  matches: MatchService;
  talents: TalentService;
  intimacy: IntimacyService;
  audience: AudienceLists;
}

export type OpHandler<K extends OpName> = (ctx: RequestContext, d: RequestOf<Ops[K]>) => Promise<ReplyOf<Ops[K]>>;
export type Handlers = { [K in OpName]: OpHandler<K> };

/** The ids, refused (700) if one repeats: a Set is O(n), where the schema's uniqueItems compared every pair. */
function distinct(ids: number[]): number[] {
  if (new Set(ids).size !== ids.length) throw new ProtocolError('BAD_PARAMETER', '/userIds must not repeat an id');
  return ids;
}

/** Request ops → actor messages. Validation and role checks happened at the edge. */
export function createHandlers(deps: HandlerDeps): Handlers {
  const { config, clock, users, presence, roomService, privateShows: shows, bookings, wallet, gifts, barrage, backpack, follows, viewerLevels, moderation, messages, calls, matches, talents, intimacy, audience } = deps;
  const hostedRoom = (userId: number) => {
    const roomId = roomService.hostedBy(userId);
    if (roomId === undefined) throw new ProtocolError('INVALID_ROOM', 'you have no open room');
    return roomId;
  };
  return {
    'session.ping': async () => ({ now: clock.now() }),
    'session.whoami': async ({ session }) => {
      // The welcome went out after the login's row committed, so the row is there (null / 0 if it were not).
      const user = users.get(session.userId);
      return {
        userId: session.userId,
        role: session.role,
        profile: session.profile,
        sessionId: session.id,
        latestSessionId: user?.latestSessionId ?? null,
        logins: user?.logins ?? 0,
      };
    },
    'presence.query': async (_ctx, d) => presence.ask({ t: 'query', userIds: distinct(d.userIds) }),
    'presence.subscribe': async ({ session }, d) => presence.ask({ t: 'subscribe', subscriber: session.userId, userIds: distinct(d.userIds) }),
    'presence.unsubscribe': async ({ session }, d) => presence.ask({ t: 'unsubscribe', subscriber: session.userId, userIds: distinct(d.userIds) }),
    'room.open': async ({ session }, d) => {
      moderation.check(session.userId, 'live');
      return roomService.open(session.userId, {
        host: session.profile,
        title: d.title,
        seatLimit: d.seatLimit ?? config.roomDefaultSeats,
        pricePerMinute: d.pricePerMinute ?? 0,
      });
    },
    'room.enter': async ({ session }, d) => {
      const view = await roomService.enter(session.userId, session.profile, d.roomId);
      const hostId = roomService.hostOfRoom(d.roomId);
      if (hostId !== undefined && hostId !== session.userId) backpack.welcome(session.userId, d.roomId, hostId);
      return view;
    },
    'room.leave': async ({ session }) => {
      await roomService.leave(session.userId);
      return {};
    },
    'room.viewers': (_ctx, d) => roomService.ask(d.roomId, { t: 'viewers', page: d.page, pageSize: d.pageSize }),
    'room.kick': ({ session }, d) => roomService.ask(hostedRoom(session.userId), { t: 'kick', by: session.userId, userId: d.userId }),
    'room.mute': ({ session }, d) => roomService.ask(hostedRoom(session.userId), { t: 'mute', by: session.userId, userId: d.userId, muted: d.muted }),
    'room.close': ({ session }, d) =>
      roomService.ask(hostedRoom(session.userId), { t: 'close', by: session.userId, countdownMs: (d.countdownSec ?? 0) * 1000 }),
    'room.like': async ({ session }, d) => {
      roomService.like(roomService.currentRoom(session.userId), d.count ?? 1);
      return {};
    },
    'room.list': async (_ctx, d) => roomService.list(d.page, d.pageSize),
    'room.audience': (_ctx, d) => audience.get(d.roomId),
    'chat.send': async ({ session }, d) => roomService.say(session.userId, session.profile, d.text, 'message'),
    'chat.barrage': ({ session, requestId }, d) => barrage.send(session, requestId, d),
    'chat.emoticons': async () => ({ emoticons: emoticons(config.emoticonBaseUrl) }),
    'invite.send': ({ session }, d) => shows.send(session, d.userId),
    'invite.cancel': ({ session }, d) => shows.cancel(session, d.inviteId),
    'invite.accept': ({ session }, d) => shows.answer(session, d.inviteId, true) as ReturnType<OpHandler<'invite.accept'>>,
    'invite.decline': async ({ session }, d) => {
      await shows.answer(session, d.inviteId, false);
      return {};
    },
    'invite.list': ({ session }, d) => shows.list(session, d.page, d.pageSize),
    'invite.count': ({ session }) => shows.count(session.userId, session.role),
    'show.enter': ({ session }, d) => shows.enter(session, d.showId),
    'show.close': ({ session }, d) => shows.close(session, d.showId, d.countdownSec ?? 0),
    'show.current': ({ session }) => shows.current(session),
    'show.video': ({ session }, d) => shows.video(session, d.showId, d.on),
    'booking.create': ({ session }, d) => bookings.create(session, d.userId, d.startsAt, d.durationMin ?? 30),
    'booking.cancel': ({ session }, d) => bookings.cancel(session, d.bookingId),
    'booking.accept': ({ session }, d) => bookings.answer(session, d.bookingId, true) as ReturnType<OpHandler<'booking.accept'>>,
    'booking.decline': async ({ session }, d) => {
      await bookings.answer(session, d.bookingId, false);
      return {};
    },
    'booking.list': ({ session }, d) => bookings.list(session, d.state, d.page, d.pageSize),
    'booking.count': ({ session }) => bookings.count(session.userId, session.role),
    'booking.enter': ({ session }, d) => bookings.enter(session, d.bookingId),
    'wallet.balance': async ({ session }) => ({ credits: wallet.credits(session.userId) }),
    'gift.list': async () => gifts.list(),
    'gift.detail': async (_ctx, d) => gifts.detail(d.giftId),
    'gift.send': ({ session, requestId }, d) => gifts.send(session, requestId, d),
    'backpack.list': async ({ session }) => backpack.list(session.userId),
    'backpack.count': async ({ session }) => backpack.count(session.userId),
    'backpack.vehicles': async ({ session }) => backpack.vehicles(session.userId),
    'backpack.coupons': async ({ session }) => backpack.coupons(session.userId),
    'vehicle.use': ({ session }, d) => backpack.useVehicle(session.userId, d.vehicleId),
    'viewer.level': async ({ session }, d) => viewerLevels.get(d.userId ?? session.userId),
    'follow.add': ({ session }, d) => follows.add(session, d.userId),
    'follow.remove': ({ session }, d) => follows.remove(session, d.userId),
    'follow.list': async ({ session }, d) => follows.following(session, d.limit, d.before),
    'follow.followers': async ({ session }, d) => follows.followers(session, d.limit, d.before),
    'follow.counts': async ({ session }, d) => follows.counts(d.userId ?? session.userId),
    'follow.live': async ({ session }) => follows.live(session),
    'message.send': ({ session }, d) => messages.send(session, d),
    'message.history': async ({ session }, d) => messages.history(session, d),
    'message.conversations': async ({ session }, d) => messages.conversations(session, d),
    'message.unread': async ({ session }) => messages.unread(session),
    'message.read': ({ session }, d) => messages.read(session, d),
    'block.add': ({ session }, d) => messages.block(session, d),
    'block.remove': ({ session }, d) => messages.unblock(session, d),
    'block.list': async ({ session }, d) => messages.blocks(session, d),
    'call.request': ({ session }) => calls.request(session),
    'call.invite': ({ session }, d) => calls.invite(session, d.userId),
    'call.accept': ({ session }, d) => calls.answer(session, d.userId, true) as ReturnType<OpHandler<'call.accept'>>,
    'call.decline': async ({ session }, d) => {
      await calls.answer(session, d.userId, false);
      return {};
    },
    'call.cancel': ({ session }, d) => calls.cancel(session, d.userId),
    'call.confirm': ({ session }) => calls.confirm(session),
    'call.stop': ({ session }) => calls.stop(session),
    'call.queue': ({ session }) => calls.queue(session),
    'match.start': ({ session }) => matches.start(session),
    'match.stop': ({ session }) => matches.stop(session),
    'match.accept': ({ session }, d) => matches.answer(session, d.matchId, true) as ReturnType<OpHandler<'match.accept'>>,
    'match.decline': async ({ session }, d) => {
      await matches.answer(session, d.matchId, false);
      return {};
    },
    'talent.list': (_ctx, d) => talents.list(d.hostId),
    'talent.set': ({ session }, d) => talents.set(session, d),
    'talent.remove': ({ session }, d) => talents.remove(session, d.talentId),
    'talent.request': ({ session, requestId }, d) => talents.request(session, requestId, d),
    'talent.accept': ({ session }, d) => talents.answer(session, d.requestId, true),
    'talent.decline': ({ session }, d) => talents.answer(session, d.requestId, false),
    'talent.unread': ({ session }) => talents.unread(session),
    'talent.read': ({ session }, d) => talents.read(session, d.requestIds),
    'intimacy.get': async ({ session }, d) =>
      session.role === 'host' ? intimacy.get(d.userId, session.userId) : intimacy.get(session.userId, d.userId),
    'intimacy.top': async (_ctx, d) => intimacy.top(d.hostId, d.limit ?? 20),
  };
}
