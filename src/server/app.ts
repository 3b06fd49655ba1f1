import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import uWS from 'uWebSockets.js';
import { deskActor, type DeskMsg, type DeskState } from '../actors/desk.js';
import { Directory } from '../actors/directory.js';
import { presenceActor, type PresenceMsg, type PresenceState } from '../actors/presence.js';
import { ActorRuntime } from '../actors/runtime.js';
import { Singleton } from '../actors/singleton.js';
import type { EffectPorts } from '../actors/effects.js';
import { roomActor, topicOf, type RoomMsg, type RoomState } from '../actors/room.js';
import { recoverUser } from '../actors/user.js';
import { matchActor, type MatchMsg, type MatchState } from '../actors/match.js';
import { talentActor, type TalentMsg, type TalentState } from '../actors/talent.js';
import { systemClock, type Clock } from '../clock.js';
import { CLOSE_CODES } from '../protocol/errors.js';
import { openDatabase } from '../storage/database.js';
import { DeadlineIndex } from '../storage/deadline-index.js';
import { sqliteWriteApplier } from '../storage/durable-writes.js';
import { SqliteJournalEngine } from '../storage/journal-engine.js';
import { SqliteOutboxStore } from '../storage/outbox.js';
import { GiftCatalog } from '../storage/gift-catalog.js';
import { BackpackItemStore } from '../storage/backpack-items.js';
import { auditLedger } from '../storage/ledger-audit.js';
import { SqliteLedger } from '../storage/ledger.js';
import { BookingStore } from '../storage/bookings.js';
import { SqliteMessageStore } from '../storage/messages.js';
import { PrivateShowStore } from '../storage/private-shows.js';
import { RoomRegistry } from '../storage/room-registry.js';
import { IntimacyStore } from '../storage/intimacy.js';
import { TalentRequestStore } from '../storage/talents.js';
import { SqliteUserStore } from '../storage/users.js';
import { mountAdminRoutes } from './admin.js';
import { Admission } from './admission.js';
import { RoomChannels } from './channels.js';
import type { Config } from './config.js';
import { wsBehavior } from './gateway.js';
import { createHandlers } from './handlers.js';
import { listenExclusive, mountHttpRoutes } from './http.js';
import { Lanes } from './lanes.js';
import { FrameBatcher } from './outgoing.js';
import { OutboxPruner } from './outbox-pruner.js';
import { Metrics } from './metrics.js';
import { Bookings } from './bookings.js';
import { PrivateShows } from './private-shows.js';
import { RoomService } from './rooms.js';
import { FollowService } from './follows.js';
import { Moderation } from './moderation.js';
import { SqliteBanStore } from '../storage/bans.js';
import { SqliteFollowStore } from '../storage/follows.js';
import { SessionRegistry } from './sessions.js';
import { Backpack } from './backpack.js';
import { Barrage } from './barrage.js';
import { Billing } from './billing.js';
import { GiftService } from './gifts.js';
import { Messages } from './messages.js';
import { Wallet } from './wallet.js';
import { PushDeliverer } from './push-outbox.js';
import { CallService } from './calls.js';
import { MatchService } from './matches.js';
import { IntimacyService } from './intimacy.js';
import { ViewerLevels } from './viewer-levels.js';
import { ViewerSpendStore } from '../storage/viewer-levels.js';
import { TalentService } from './talents.js';
import { AudienceLists } from './audience.js';

export interface RunningServer {
  readonly port: number;
  readonly metrics: Metrics;
  readonly sessions: SessionRegistry;
  /** Parts tests look into (the database, admission counters, live actors); not an API for anything else. */
  readonly internals: {
    db: Database.Database;
    pushes: PushDeliverer;
    admission: Admission;
    actorsAlive(): { room: number };
  };
  /** Stops accepting, closes sockets with 1012, flushes journals and snapshots. */
  close(): Promise<void>;
}

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
}

export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock();
  const metrics = new Metrics();
  const db = openDatabase({ path: config.dbPath, synchronous: config.dbSynchronous, walCheckpointPages: config.dbWalCheckpointPages });
  // Assigned below; an outbox item can only be written by a commit, which comes in a later turn.
  let pushes: PushDeliverer | undefined;
  const applyWrite = sqliteWriteApplier(db, { outboxAppended: () => pushes?.kick() });
  const engine = new SqliteJournalEngine(db, {
    applyWrite,
    onCommit: (seconds, items) => {
      metrics.journalWrite.observe(seconds);
      metrics.journalBatch.observe(items);
    },
    onError: (err, what) => logger.error({ err, what }, 'storage error'),
  });
  const runtime = new ActorRuntime(engine, clock);
  const app = uWS.App();
  const batcher = new FrameBatcher();
  const channels = new RoomChannels({
    clock,
    bufferSize: config.resumeBuffer,
    keepMs: config.resumeGraceMs,
    coalesceMs: config.membersFlushMs,
    send: (topic, frame) => {
      // Encoded once, delivered to every subscriber by uWS in C++; direct frames queued before it go first.
      batcher.beforePublish(topic);
      app.publish(topic, frame, true);
      metrics.messagesOut.inc(app.numSubscribers(topic));
    },
  });
  const publish: EffectPorts['publish'] = (topic, op, d) => {
    channels.publish(topic, op, d);
    audience.published(op, d);
  };
  const ports: EffectPorts = {
    push: (userId, op, d) => void sessions.push(userId, op, d),
    publish,
    emit: (event) => {
      if (event.kind === 'charge') return billing.charge(event.charge);
      if (event.kind === 'call.changed') return calls.onEvent(event);
      if (event.kind === 'talent.charge') return talentService.charge(event.charge);
      if (event.kind === 'show.ended') gifts.placeEnded(`show:${event.showId}`);
      if (event.kind === 'show.opened') {
        matches.wentBusy(event.hostId);
        matches.wentBusy(event.viewerId);
      }
      if (event.kind === 'show.opened' || event.kind === 'show.ended') return privateShows.onEvent(event);
      roomService.onEvent(event);
      if (event.kind === 'room.closed') {
        channels.closed(topicOf(event.roomId));
        audience.closed(event.roomId);
        gifts.placeEnded(`room:${event.roomId}`);
      }
    },
  };
  const common = { runtime, clock, ports, logger, askTimeoutMs: config.askTimeoutMs, maxQueue: config.actorQueue };
  const persistent = { ...common, snapshots: engine, deadlineStore: new DeadlineIndex(db), idleMs: config.actorIdleMs, snapshotEvery: config.snapshotEvery };
  const lanes = new Lanes(config.userQueue);
  const admission = new Admission({
    maxInflight: config.maxInflight,
    maxPendingLogins: config.maxPendingLogins,
    targetMs: config.shedTargetMs,
    onShed: (what) => metrics.shed.inc({ what }),
  });
  // Users are rows, not actors: a connected user costs no live actor, and a lookup of an unknown id creates nothing.
  const users = new SqliteUserStore(db, engine);
  const usersImported = await users.importActorJournals(
    (key) => recoverUser(engine, key),
    (key, err) => logger.error({ key, err }, 'a user journal of an earlier build could not be read; left in place'),
  );
  const rooms = new Directory<RoomState, RoomMsg>({
    ...persistent,
    def: roomActor({
      kickBanMs: config.roomKickBanMs,
      hostGraceMs: config.roomHostGraceMs,
      countdownTickMs: config.roomCountdownTickMs,
      callRequestTtlMs: config.callRequestTtlMs,
      callConfirmMs: config.callConfirmMs,
      callQueueMax: config.callQueueMax,
    }),
  });
  const matches: MatchService = new MatchService({
    matches: new Directory<MatchState, MatchMsg>({ ...persistent, def: matchActor({ acceptMs: config.matchAcceptMs }) }),
    busy: (userId) => privateShows.inShow(userId) || calls.inCall(userId),
  });
  const desks = new Directory<DeskState, DeskMsg>({
    ...persistent,
    def: deskActor({
      inviteTtlMs: config.inviteTtlMs,
      maxInvitesPerHost: config.maxInvitesPerHost,
      countdownMs: config.showCountdownMs,
      hostEnterMs: config.showHostEnterMs,
      viewerEnterMs: config.showViewerEnterMs,
      awayGraceMs: config.showAwayGraceMs,
      tickMs: config.roomCountdownTickMs,
      bookingMinLeadMs: config.bookingMinLeadMs,
      bookingMaxAheadMs: config.bookingMaxAheadMs,
      bookingRemindMs: config.bookingRemindMs,
      bookingJudgeMs: config.bookingJudgeMs,
      maxBookingsPerHost: config.maxBookingsPerHost,
      mediaPushUrl: config.mediaPushUrl,
      mediaPlayUrl: config.mediaPlayUrl,
      pricePerMin: config.showPricePerMin,
    }),
  });
  const talents = new Directory<TalentState, TalentMsg>({
    ...persistent,
    def: talentActor({ ttlMs: config.talentTtlMs, maxTalents: config.maxTalents, maxPending: config.maxTalentRequests }),
  });
  const presence = new Singleton<PresenceState, PresenceMsg>(runtime, presenceActor, common);

  const sessions: SessionRegistry = new SessionRegistry({
    clock,
    graceMs: config.resumeGraceMs,
    bufferSize: config.resumeBuffer,
    events: {
      started: (s) => {
        presence.tell({ t: 'online', userId: s.userId });
        privateShows.announce(s);
        bookings.announce(s);
        messages.announce(s);
      },
      attached: (s) => {
        roomService.hostConnection(s.userId, true);
        privateShows.connection(s.userId, true);
      },
      detached: (s) => {
        roomService.hostConnection(s.userId, false);
        privateShows.connection(s.userId, false);
      },
      ended: (s, reason) => {
        logger.info({ userId: s.userId, sessionId: s.id, reason }, 'session ended');
        presence.tell({ t: 'drop', subscriber: s.userId });
        if (reason !== 'replaced') presence.tell({ t: 'offline', userId: s.userId });
        // Gone for good (no resume): leave the room they were in.
        if (reason === 'expired' || reason === 'kicked') {
          roomService.sessionEnded(s.userId);
          matches.sessionEnded(s.userId);
        }
        if (reason !== 'shutdown') {
          users.logout(s.userId, s.id, clock.now()).catch((err: unknown) => logger.error({ err, userId: s.userId, sessionId: s.id }, 'logout not stored'));
        }
      },
    },
  });
  const roomService: RoomService = new RoomService({
    config,
    clock,
    logger,
    rooms,
    registry: new RoomRegistry(db),
    sessions,
    presence,
    wentLive: (hostId, d) => follows.wentLive(hostId, d),
    lanes,
    inPrivateShow: (userId) => privateShows.inShow(userId),
    creditsOf: (userId) => wallet.credits(userId),
    watched: (userId, roomId, hostId, joined) => intimacy.watched(userId, roomId, hostId, joined),
    vehicleOf: (userId) => backpack.vehicleOf(userId),
    publish,
  });
  const audience: AudienceLists = new AudienceLists({
    clock,
    logger,
    rooms: roomService,
    size: config.audienceSize,
    flushMs: config.audienceFlushMs,
    publish: (topic, op, d) => channels.publish(topic, op, d),
  });
  const privateShows: PrivateShows = new PrivateShows({
    config,
    clock,
    logger,
    desks,
    users,
    store: new PrivateShowStore(db),
    sessions,
    presence,
    lanes,
    rooms: roomService,
    creditsOf: (userId) => wallet.credits(userId),
  });
  const bookings = new Bookings({
    config,
    clock,
    logger,
    desks,
    users,
    store: new BookingStore(db),
    sessions,
    lanes,
    shows: privateShows,
    rooms: roomService,
    creditsOf: (userId) => wallet.credits(userId),
  });
  const calls: CallService = new CallService({ rooms: roomService, shows: privateShows, sessions, busy: (userId) => matches.wentBusy(userId) });
  const ledger = new SqliteLedger(db, engine);
  const wallet = new Wallet({ ledger, sessions, logger, clock });
  const billing: Billing = new Billing({ config, clock, logger, wallet, sessions, report: (c, result) => (c.place === 'room' ? rooms.tell(c.placeId, result) : desks.tell(c.hostId, result)),
    roomEarned: (roomId, credits) => roomService.earned(roomId, 0, credits),
    spent: (viewerId, credits) => viewerLevels.spent(viewerId, credits),
  });
  const catalog = new GiftCatalog(db, engine);
  const moderation = new Moderation({ clock, logger, bans: new SqliteBanStore(db, engine), sessions, rooms: roomService, shows: privateShows, callRoomOf: (userId) => calls.roomOfCall(userId) });
  const follows = new FollowService({ config, clock, logger, store: new SqliteFollowStore(db, engine), rooms: roomService, sessions,
    outbox: (userIds, kind, d) => pushes?.enqueueMany(userIds, kind, d) ?? Promise.resolve(),
  });
  const items = new BackpackItemStore(db, engine);
  const backpack: Backpack = new Backpack({ config, clock, logger, ledger, wallet, catalog, items, sessions });
  const viewerLevels = new ViewerLevels({ config, clock, logger, store: new ViewerSpendStore(db, engine), sessions });
  const intimacy: IntimacyService = new IntimacyService({ config, clock, logger, store: new IntimacyStore(db, engine), sessions });
  // Gifts and talents grow intimacy with the host and the viewer's level; minutes, barrage and deposits the level only.
  const spent = (viewerId: number, hostId: number, credits: number) => {
    intimacy.grow(viewerId, hostId, credits * config.intimacyPerCredit, 'credits');
    viewerLevels.spent(viewerId, credits);
  };
  const gifts = new GiftService({ config, clock, logger, catalog, ledger, wallet, backpack, rooms: roomService, shows: privateShows, sessions, publish, spent });
  const talentService: TalentService = new TalentService({ config, clock, logger, talents, store: new TalentRequestStore(db), ledger, wallet, rooms: roomService, spent });
  const messages: Messages = new Messages({
    config, clock, logger, store: new SqliteMessageStore(db, engine), sessions, users,
    // The receiver's copy for the push gateway, in the message's own commit.
    withMessage: (message, from) => applyWrite({ t: 'outbox', userId: message.receiverId, kind: 'message.new', payload: { message, from }, at: message.at }),
  });
  const outbox = new SqliteOutboxStore(db);
  pushes = new PushDeliverer({
    options: {
      url: config.pushWebhookUrl,
      secret: config.pushWebhookSecret,
      timeoutMs: config.pushTimeoutMs,
      concurrency: config.pushConcurrency,
      backoffBaseMs: config.pushBackoffBaseMs,
      backoffMaxMs: config.pushBackoffMaxMs,
      maxAttempts: config.pushMaxAttempts,
    },
    store: outbox,
    commit: (work) => engine.submit(work),
    clock,
    logger,
    counted: (outcome) => metrics.pushes.inc({ outcome }),
  });
  const pushDeliverer = pushes;
  const outboxPruner = new OutboxPruner({ store: outbox, commits: engine, clock, logger, keepMs: config.pushKeepDeliveredMs });
  metrics.sources = {
    sessions: () => sessions.size,
    actors: () => ({ room: rooms.size, desk: desks.size, talent: talents.size, presence: 1 }),
    outbox: () => outbox.backlog(0),
  };

  // Deadline timers are armed from the index (holders recover when due); open rooms come back before traffic does.
  const woken = {
    deadlines: rooms.armFromIndex() + desks.armFromIndex() + matches.armFromIndex() + talents.armFromIndex(),
    openRooms: roomService.wakeOpenRooms(),
    privateShows: privateShows.wake(),
  };
  if (woken.deadlines || woken.openRooms || woken.privateShows) logger.info(woken, 'deadlines armed and open rooms woken after start');
  if (usersImported.users || usersImported.failed) logger.info(usersImported, 'user journals of an earlier build moved to the users table');

  let ready = false;
  app.ws(
    '/ws',
    wsBehavior({
      config,
      clock,
      logger,
      metrics,
      sessions,
      handlers: createHandlers({ config, clock, users, presence, roomService, privateShows, bookings, wallet, gifts, backpack, follows, moderation, messages, calls, matches, talents: talentService, intimacy, audience, viewerLevels, barrage: new Barrage({ config, clock, rooms: roomService, wallet, spent: (viewerId, credits) => viewerLevels.spent(viewerId, credits) }) }),
      admission,
      lanes,
      batcher,
      roomFramesSince: (topic, seq) => channels.since(topic, seq),
      isReady: () => ready,
      banned: (userId) => moderation.banOf(userId, 'account')?.reason,
      // An accepted login is never shed nor timed out: it waits for its row's commit (see Admission).
      login: (s) => users.login(s.userId, s.id, s.role, s.profile, clock.now()),
    }),
  );
  mountAdminRoutes(app, {
    token: config.adminToken, logger, rooms: roomService, wallet, catalog, items, backpack, moderation, audit: () => auditLedger(db), now: () => clock.now(),
    outbox: { backlog: (deadLimit) => outbox.backlog(deadLimit), retry: (id) => pushDeliverer.retry(id) },
  });
  mountHttpRoutes(app, { metrics, isReady: () => ready });

  /** Stops the actors (they flush their snapshots), then closes storage (and its lock) and the app. */
  const release = async () => {
    await Promise.all([rooms.close(), desks.close(), matches.close(), talents.close()]);
    runtime.shutdown();
    await engine.flush();
    engine.close();
    db.close();
    app.close();
  };
  const listenSocket = await listenExclusive(app, config.host, config.port).catch(async (err: unknown) => {
    // Nothing was served: release the database (and its lock) before giving up.
    roomService.close();
    await release();
    throw err;
  });
  const port = uWS.us_socket_local_port(listenSocket);
  pushDeliverer.start();
  outboxPruner.start();
  ready = true;
  logger.info({ host: config.host, port, db: config.dbPath }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      ready = false;
      uWS.us_listen_socket_close(listenSocket);
      sessions.closeAll(CLOSE_CODES.SERVER_RESTARTING.code, CLOSE_CODES.SERVER_RESTARTING.reason);
      roomService.close();
      audience.close();
      gifts.close();
      intimacy.close();
      pushDeliverer.close();
      outboxPruner.close();
      channels.flushAll();
      await release();
      logger.info('stopped');
    })());

  return { port, metrics, sessions, close, internals: { db, pushes: pushDeliverer, admission, actorsAlive: () => ({ room: rooms.size }) } };
}
