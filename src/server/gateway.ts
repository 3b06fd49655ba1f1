import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, WebSocket, WebSocketBehavior, us_socket_context_t } from 'uWebSockets.js';
import type { Clock } from '../clock.js';
import { encode } from '../protocol/codec.js';
import { parseRequest, RequestError, type ReplyEnvelope, type ValidRequest } from '../protocol/envelope.js';
import { CLOSE_CODES, ProtocolError, toWireError } from '../protocol/errors.js';
import { scanMsgpack } from '../protocol/msgpack-scan.js';
import { OPS } from '../protocol/ops/index.js';
import { tokenFrom, verifyToken, type Identity } from './auth.js';
import type { Config } from './config.js';
import type { Handlers, OpHandler, RequestContext } from './handlers.js';
import { refuse, type HttpStatus } from './http.js';
import type { Admission } from './admission.js';
import type { Lanes } from './lanes.js';
import type { FrameBatcher, Outlet } from './outgoing.js';
import type { Metrics } from './metrics.js';
import type { Conn, ResumeRequest, Session, SessionRegistry } from './sessions.js';
import { TokenBucket } from './rate-limit.js';

interface SocketData {
  identity: Identity;
  resume: ResumeRequest | undefined;
  session: Session | null;
  conn: Conn;
  bucket: TokenBucket;
  closed: boolean;
  /** Requests wait for the welcome so it is always the first frame. */
  ready: Promise<void>;
}

export interface GatewayDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  sessions: SessionRegistry;
  handlers: Handlers;
  admission: Admission;
  lanes: Lanes;
  /** Where direct frames wait for the end of the turn (room pushes must flush it before publishing). */
  batcher: FrameBatcher;
  isReady(): boolean;
  /** The reason of an account ban in force (the login is refused with 403, code 770). */
  banned(userId: number): string | undefined;
  /** Records the session as the user's latest (durably) before it is welcomed. */
  login(session: Session): Promise<void>;
  /** Room pushes after `seq` on a topic; null when some are gone. */
  roomFramesSince(topic: string, seq: number): Buffer[] | null;
}

/** The `/ws` route: authenticate at upgrade, then decode → validate → rate-limit → handle → reply. */
export function wsBehavior(deps: GatewayDeps): WebSocketBehavior<SocketData> {
  const { config, clock, logger, metrics, sessions, admission, lanes, batcher } = deps;
  const outlets: OutletDeps = { logger, metrics, batcher };

  const upgrade = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
    const headers = {
      key: req.getHeader('sec-websocket-key'),
      protocol: req.getHeader('sec-websocket-protocol'),
      extensions: req.getHeader('sec-websocket-extensions'),
      origin: req.getHeader('origin'),
      authorization: req.getHeader('authorization'),
    };
    const query = req.getQuery() ?? '';
    const deny = (status: HttpStatus, err: ProtocolError) => {
      metrics.error(err.code);
      logger.info({ code: err.code, origin: headers.origin || undefined }, 'upgrade refused');
      refuse(res, status, err.errorName, err.message.split(': ')[1]);
    };
    if (!deps.isReady()) return deny(503, new ProtocolError('UNAVAILABLE'));
    if (!admission.canAcceptLogin()) return deny(503, new ProtocolError('BUSY', 'too many logins or requests in progress'));
    if (config.allowedOrigins.length && headers.origin && !config.allowedOrigins.includes(headers.origin)) {
      return deny(403, new ProtocolError('ORIGIN_NOT_ALLOWED'));
    }
    let resume: ResumeRequest | undefined;
    let identity: Identity;
    try {
      resume = resumeFrom(query);
      const token = tokenFrom(headers.authorization, query);
      if (!token) throw new ProtocolError('BAD_TOKEN', 'no token');
      identity = verifyToken(config.tokenSecret, token, clock.now());
    } catch (err) {
      const e = err instanceof ProtocolError ? err : new ProtocolError('BAD_TOKEN');
      return deny(e.errorName === 'BAD_PARAMETER' ? 400 : 401, e);
    }
    const banned = deps.banned(identity.userId);
    if (banned !== undefined) return deny(403, new ProtocolError('ACCOUNT_BANNED', banned));
    // Upgrade inside this callback (see auth.ts for why there is no await before it).
    const data: Omit<SocketData, 'conn'> = {
      identity,
      resume,
      session: null,
      bucket: new TokenBucket(config.ratePerSec, config.rateBurst, clock.now()),
      closed: false,
      ready: Promise.resolve(),
    };
    res.upgrade(data, headers.key, headers.protocol, headers.extensions, context);
  };

  const open = (ws: WebSocket<SocketData>) => {
    const data = ws.getUserData();
    metrics.connections.inc();
    const conn = new SocketConn(ws, data, outlets);
    data.conn = conn;
    const { session, resumed, resync } = sessions.open(data.identity, data.conn, data.resume);
    data.session = session;
    // The session carries the identity (user, role, profile) from now on: the token's copy can go.
    data.identity = session;
    const ids = { userId: session.userId, sessionId: session.id };
    logger.info({ ...ids, resumed, resync: resync?.code }, resumed ? 'session resumed' : 'session opened');
    const welcome = () => {
      // A fresh session starts at seq 0: pushes buffered while the login was
      // being recorded follow the welcome like replayed ones.
      const since = resumed ? (data.resume?.lastSeq ?? 0) : 0;
      const room = resumed ? roomReplay(session, data.resume?.roomSeq) : undefined;
      data.conn.send(
        encode({
          op: 'session.welcome',
          d: {
            sessionId: session.id,
            userId: session.userId,
            role: session.role,
            resumed,
            replayed: session.seq - since,
            lastSeq: session.seq,
            ...(resync ? { resync } : {}),
            serverTime: clock.now(),
            resumeGraceMs: config.resumeGraceMs,
            ...(room ? { roomReplayed: room.frames?.length ?? 0, roomResync: room.frames === null } : {}),
          },
        }),
      );
      sessions.activate(session, since);
      for (const frame of room?.frames ?? []) data.conn.send(frame);
      data.resume = undefined;
    };
    if (resumed) {
      welcome();
      return;
    }
    admission.loginStarted();
    data.ready = deps.login(session).then(welcome, (err) => {
      logger.error({ ...ids, err }, 'login could not be recorded; closing');
      data.conn.end(CLOSE_CODES.INTERNAL_ERROR.code, CLOSE_CODES.INTERNAL_ERROR.reason);
    }).finally(() => {
      admission.loginDone();
      // Later requests need not wait on the login's chain (nor keep it alive).
      data.ready = READY;
    });
  };

  /** The room pushes a resuming client missed, when it says which it saw last (`room_seq`). */
  const roomReplay = (session: Session, roomSeq: number | undefined) => {
    const topic = [...session.topics][0];
    if (roomSeq === undefined || topic === undefined) return undefined;
    return { frames: deps.roomFramesSince(topic, roomSeq) };
  };

  const message = (ws: WebSocket<SocketData>, bytes: ArrayBuffer, isBinary: boolean) => {
    const data = ws.getUserData();
    metrics.messagesIn.inc();
    if (!data.bucket.take(clock.now())) {
      if (data.bucket.strikes > config.rateBurst) {
        logger.warn({ userId: data.identity.userId }, 'closing a connection that kept flooding');
        metrics.error(CLOSE_CODES.RATE_LIMITED.code);
        return data.conn.end(CLOSE_CODES.RATE_LIMITED.code, CLOSE_CODES.RATE_LIMITED.reason);
      }
      return answer(data, { re: idOrZero(bytes, isBinary), ok: false, err: RATE_LIMITED_ERR });
    }
    // Admission first: under overload a refusal must cost less than the work it saves, so a shed
    // frame is only scanned for its id (no decode, no schema check).
    const ticket = admission.admitRequest(lanes.idle(data.identity.userId));
    if (!ticket) return answer(data, { re: isBinary ? scanMsgpack(new Uint8Array(bytes)).requestId : 0, ok: false, err: SHED_ERR });
    let request: ValidRequest;
    try {
      if (!isBinary) throw new RequestError('MALFORMED_FRAME', 'text frames are not accepted', 0);
      // Decoding copies everything out of `bytes`, which uWS frees after return.
      request = parseRequest(new Uint8Array(bytes));
    } catch (err) {
      admission.requestDone(ticket, false);
      const e = err as RequestError;
      logger.info({ userId: data.identity.userId, sessionId: data.session?.id, reqId: e.requestId, code: e.code, detail: e.message }, 'request refused');
      return answer(data, { re: e.requestId, ok: false, err: e.toWire() });
    }
    void data.ready.then(() => handle(data, request)).finally(() => admission.requestDone(ticket));
  };

  const handle = async (data: SocketData, request: ValidRequest) => {
    const session = data.session;
    if (!session || data.closed) return;
    const def = OPS[request.op];
    // Plain fields, not a child logger: a child per request costs more than the request.
    const ids = { userId: session.userId, sessionId: session.id, reqId: request.id, op: request.op };
    try {
      if (!def.roles.includes(session.role)) throw new ProtocolError('PERMISSION_DENIED', `${request.op} is for ${def.roles.join('/')}`);
      const ctx: RequestContext = { session, requestId: request.id };
      const handler = deps.handlers[request.op] as OpHandler<typeof request.op>;
      // One request of a user at a time, in arrival order (see Lanes).
      // Work queued for a socket that has gone is dropped: its reply could not be delivered.
      const d = await lanes.run(session.userId, () => (data.closed ? Promise.reject(GONE) : handler(ctx, request.d as never)));
      if (data.closed) return;
      answer(data, { re: request.id, ok: true, d });
      if (logger.isLevelEnabled('debug')) logger.debug(ids, 'request handled');
    } catch (err) {
      if (err === GONE) return;
      if (!(err instanceof ProtocolError)) logger.error({ ...ids, err }, 'request failed');
      // Shed requests are counted (live_errors_total, live_shed_total); under overload a line each would add to it.
      else if (err.errorName === 'BUSY') logger.debug({ ...ids, code: err.code }, 'request refused');
      else logger.info({ ...ids, code: err.code }, 'request refused');
      if (!data.closed) answer(data, { re: request.id, ok: false, err: toWireError(err) });
    }
  };

  const answer = (data: SocketData, reply: ReplyEnvelope) => {
    if (!reply.ok) metrics.error(reply.err.code);
    data.conn.send(encode(reply));
  };

  const close = (ws: WebSocket<SocketData>, code: number) => {
    const data = ws.getUserData();
    data.closed = true;
    metrics.connections.dec();
    if (data.session) {
      logger.info({ userId: data.session.userId, sessionId: data.session.id, code }, 'connection closed');
      sessions.detach(data.session, data.conn);
    }
  };

  return {
    maxPayloadLength: config.maxFrameBytes,
    idleTimeout: config.idleTimeoutSec,
    sendPingsAutomatically: true,
    maxBackpressure: config.maxBackpressureBytes,
    // Room pushes go out through uWS publish, which would otherwise skip a
    // socket over the limit silently; closing it makes the client resume and
    // re-enter instead of missing lines. Direct sends close with 4908 first.
    closeOnBackpressureLimit: 1,
    upgrade,
    open,
    message,
    close,
  } as WebSocketBehavior<SocketData>;
}

const GONE = new Error('connection closed');
const READY = Promise.resolve();

interface OutletDeps {
  logger: Logger;
  metrics: Metrics;
  batcher: FrameBatcher;
}

/**
 * A session's socket. A class, not an object of closures: its methods live
 * once on the prototype, so a connection costs a few fields instead of a
 * closure and its context per method (it is held for every open socket).
 */
export class SocketConn implements Conn, Outlet {
  /** Frames queued in this turn (see FrameBatcher). */
  frames: Uint8Array[] | null = null;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly data: Omit<SocketData, 'conn'>,
    private readonly out: OutletDeps,
  ) {}

  /** Frames leave in one write per socket and turn (see FrameBatcher). */
  send(frame: Uint8Array): void {
    if (this.data.closed) return;
    this.out.metrics.messagesOut.inc();
    this.out.batcher.queue(this, frame);
  }

  write(frames: Uint8Array[]): void {
    if (this.data.closed) return;
    let dropped = false;
    this.ws.cork(() => {
      // 2 = dropped: the client stopped reading and its buffer passed maxBackpressure.
      for (let i = 0; i < frames.length && !dropped; i++) dropped = this.ws.send(frames[i]!, true) === 2;
    });
    if (dropped) {
      this.out.logger.warn({ userId: this.data.identity.userId, buffered: this.ws.getBufferedAmount() }, 'closing a client that does not read');
      this.out.metrics.error(CLOSE_CODES.BACKPRESSURE.code);
      this.end(CLOSE_CODES.BACKPRESSURE.code, CLOSE_CODES.BACKPRESSURE.reason);
    }
  }

  /** The session's topics are the socket's subscriptions (SessionRegistry keeps them in step). */
  subscribed(topic: string): boolean {
    return this.data.session?.topics.has(topic) === true;
  }

  end(code: number, reason: string): void {
    if (this.data.closed) return;
    this.out.batcher.flush(this);
    // The flush may have closed the socket itself (a client over the backpressure limit).
    if (this.data.closed) return;
    this.data.closed = true;
    this.ws.end(code, reason);
  }

  subscribe(topic: string): void {
    if (!this.data.closed) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.data.closed) this.ws.unsubscribe(topic);
  }
}
// Refusals on the hot path of an overload are built once (an Error captures a stack trace).
const SHED_ERR = new ProtocolError('BUSY', 'too many requests in the server').toWire();
const RATE_LIMITED_ERR = new ProtocolError('RATE_LIMITED').toWire();

/** `?resume=<sessionId>&last_seq=<n>` (both or neither), optionally `&room_seq=<n>` for the room's pushes. */
function resumeFrom(query: string): ResumeRequest | undefined {
  const params = new URLSearchParams(query);
  const sessionId = params.get('resume');
  const lastSeq = params.get('last_seq');
  const roomSeq = params.get('room_seq');
  if (sessionId === null && lastSeq === null) return undefined;
  const isCount = (v: string | null): v is string => v !== null && /^\d{1,15}$/.test(v);
  if (!sessionId || sessionId.length > 64 || !isCount(lastSeq) || (roomSeq !== null && !isCount(roomSeq))) {
    throw new ProtocolError('BAD_PARAMETER', 'resume needs resume=<session id>&last_seq=<integer>[&room_seq=<integer>]');
  }
  return { sessionId, lastSeq: Number(lastSeq), ...(roomSeq !== null ? { roomSeq: Number(roomSeq) } : {}) };
}

function idOrZero(bytes: ArrayBuffer, isBinary: boolean): number {
  if (!isBinary) return 0;
  try {
    return parseRequest(new Uint8Array(bytes)).id;
  } catch (err) {
    return err instanceof RequestError ? err.requestId : 0;
  }
}
