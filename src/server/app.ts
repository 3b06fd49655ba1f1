import type { Logger } from 'pino';
import uWS from 'uWebSockets.js';
import { Directory } from '../actors/directory.js';
import { presenceActor, type PresenceMsg, type PresenceState } from '../actors/presence.js';
import { ActorRuntime } from '../actors/runtime.js';
import { Singleton } from '../actors/singleton.js';
import { userActor, type UserMsg, type UserState } from '../actors/user.js';
import { systemClock, type Clock } from '../clock.js';
import { CLOSE_CODES } from '../protocol/errors.js';
import { openDatabase } from '../storage/database.js';
import { DeadlineIndex } from '../storage/deadline-index.js';
import { SqliteJournalEngine } from '../storage/journal-engine.js';
import type { Config } from './config.js';
import { wsBehavior } from './gateway.js';
import { createHandlers } from './handlers.js';
import { mountHttpRoutes } from './http.js';
import { Metrics } from './metrics.js';
import { SessionRegistry } from './sessions.js';

export interface RunningServer {
  readonly port: number;
  readonly metrics: Metrics;
  readonly sessions: SessionRegistry;
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
  const db = openDatabase({ path: config.dbPath, synchronous: config.dbSynchronous });
  const engine = new SqliteJournalEngine(db, {
    onCommit: (seconds, items) => {
      metrics.journalWrite.observe(seconds);
      metrics.journalBatch.observe(items);
    },
    onError: (err, what) => logger.error({ err, what }, 'storage error'),
  });
  const runtime = new ActorRuntime(engine);
  const ports = { push: (userId: number, op: Parameters<SessionRegistry['push']>[1], d: unknown) => void sessions.push(userId, op, d) };
  const common = { runtime, clock, ports, logger, askTimeoutMs: config.askTimeoutMs };
  const deadlineStore = new DeadlineIndex(db);
  const users = new Directory<UserState, UserMsg>({
    ...common,
    def: userActor,
    snapshots: engine,
    deadlineStore,
    idleMs: config.actorIdleMs,
    snapshotEvery: config.snapshotEvery,
  });
  const presence = new Singleton<PresenceState, PresenceMsg>(runtime, presenceActor, common);

  const sessions: SessionRegistry = new SessionRegistry({
    clock,
    graceMs: config.resumeGraceMs,
    bufferSize: config.resumeBuffer,
    events: {
      started: (s) => presence.tell({ t: 'online', userId: s.userId }),
      ended: (s, reason) => {
        logger.info({ userId: s.userId, sessionId: s.id, reason }, 'session ended');
        presence.tell({ t: 'drop', subscriber: s.userId });
        if (reason !== 'replaced') presence.tell({ t: 'offline', userId: s.userId });
        if (reason !== 'shutdown') users.tell(s.userId, { t: 'logout', sessionId: s.id });
      },
    },
  });
  metrics.sources = { sessions: () => sessions.size, actors: () => ({ user: users.size, presence: 1 }) };

  // Actors holding deadlines (countdowns, expiries) come back before traffic does.
  const woken = users.wakeAll();
  if (woken) logger.info({ woken }, 'actors with deadlines woken');

  let ready = false;
  const app = uWS.App();
  app.ws(
    '/ws',
    wsBehavior({
      config,
      clock,
      logger,
      metrics,
      sessions,
      handlers: createHandlers({ clock, users, presence }),
      isReady: () => ready,
      login: (s) => users.ask(s.userId, { t: 'login', sessionId: s.id, role: s.role, profile: s.profile }),
    }),
  );
  mountHttpRoutes(app, { metrics, isReady: () => ready });

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen(config.host, config.port, (socket) => (socket ? resolve(socket) : reject(new Error(`cannot listen on ${config.host}:${config.port}`)))),
  );
  const port = uWS.us_socket_local_port(listenSocket);
  ready = true;
  logger.info({ host: config.host, port, db: config.dbPath }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      ready = false;
      uWS.us_listen_socket_close(listenSocket);
      sessions.closeAll(CLOSE_CODES.SERVER_RESTARTING.code, CLOSE_CODES.SERVER_RESTARTING.reason);
      await users.close();
      runtime.shutdown();
      await engine.flush();
      engine.close();
      db.close();
      app.close();
      logger.info('stopped');
    })());

  return { port, metrics, sessions, close };
}
