/**
 * The one registry of error codes the server speaks, on the wire and in HTTP
 * refusals. Numbers reuse the seed documents' codes where one exists:
 *
 *   1–99     session, account and private messages (seed 003/004 ERR_* numbering:
 *            23, 24, 25, 42, 47–50)
 *   400–599  rooms and seats (seed 002: 505 no seats)
 *   700–799  request and business errors (seed 002: 700 bad parameter,
 *            720 bad token, 722 muted, 731 invalid room, 740 credit …)
 *   800–809  backpack vehicles and coupons
 *   900–999  transport errors this server adds (frames, rate limits)
 *
 * A code, once shipped, is never given another meaning; retired codes stay
 * listed in RETIRED_CODES so nobody reuses them.
 */
export const ERRORS = {
  TOKEN_EXPIRED: { code: 24, msg: 'token expired', seed: '004 ERR_TOKEN_EXPIRE' },
  LOGGED_IN_ELSEWHERE: { code: 42, msg: 'logged in elsewhere', seed: '004 ERR_OTHER_LOGIN, 000 7.4' },
  RESUME_EXPIRED: { code: 47, msg: 'session cannot be resumed, resync needed', seed: '004 ERR_RECONNECT_ROOM' },
  NOT_IN_ROOM: { code: 39, msg: 'not in this room', seed: '004 ERR_STAY_IN_SAME_CHAT' },
  CONVERSATION_NOT_FOUND: { code: 23, msg: 'no such conversation of yours', seed: '003 ERR_SESSION_EXIST' },
  BLOCKED: { code: 25, msg: 'blocked: one of you has blocked the other', seed: '003 ERR_BLACK_IN' },
  USER_OFFLINE: { code: 50, msg: 'user is offline', seed: '004 ERR_USER_OFFLINE' },
  NO_SEATS: { code: 505, msg: 'no seats left', seed: '002 505' },
  BAD_PARAMETER: { code: 700, msg: 'bad parameter', seed: '002 700' },
  USER_NOT_FOUND: { code: 710, msg: 'user does not exist', seed: '002 710' },
  PERMISSION_DENIED: { code: 711, msg: 'permission denied', seed: '002 711' },
  BAD_TOKEN: { code: 720, msg: 'invalid token', seed: '002 720' },
  MUTED: { code: 722, msg: 'you are muted in this room', seed: '002 722' },
  INVALID_ROOM: { code: 731, msg: 'invalid room: not open or does not exist', seed: '002 731' },
  CANNOT_WATCH: { code: 737, msg: 'you cannot enter this room for now', seed: '002 737' },
  HOST_IS_LIVE: { code: 738, msg: 'this host already has an open room', seed: '002 738' },
  SHOW_ENDED: { code: 735, msg: 'this private show has ended', seed: '002 735' },
  USER_BUSY: { code: 739, msg: 'busy: in a private show', seed: '002 739' },
  INVITE_NOT_FOUND: { code: 743, msg: 'no such pending invitation of yours', seed: '' },
  INVITE_EXISTS: { code: 744, msg: 'an invitation between you is already pending', seed: '' },
  TOO_MANY_INVITES: { code: 745, msg: 'too many pending invitations', seed: '' },
  SHOW_NOT_FOUND: { code: 746, msg: 'no such private show of yours', seed: '' },
  BOOKING_TIME_INVALID: { code: 747, msg: 'booking time too soon, in the past or too far ahead', seed: '' },
  BOOKING_OVERLAP: { code: 748, msg: 'the host has an accepted booking at that time', seed: '' },
  BOOKING_NOT_FOUND: { code: 749, msg: 'no such booking of yours', seed: '' },
  BOOKING_NOT_OPEN: { code: 751, msg: 'this booking cannot be entered now: from one minute before its start until its judgement', seed: '' },
  BOOKING_STARTED: { code: 752, msg: 'someone entered this booking\'s show: close the show instead', seed: '' },
  GIFT_NOT_FOUND: { code: 730, msg: 'no such gift', seed: '002 730' },
  INSUFFICIENT_CREDIT: { code: 740, msg: 'not enough credits', seed: '002 740' },
  NOT_IN_BACKPACK: { code: 754, msg: 'you do not hold that many of this gift in your backpack', seed: '' },
  ACCOUNT_BANNED: { code: 770, msg: 'this account is banned', seed: '003 forbid_user_power, 001 streamStatus 0' },
  LIVE_BANNED: { code: 771, msg: 'you may not go live for now', seed: '001 §27 禁播, streamStatus 2' },
  MESSAGE_NOT_FOUND: { code: 755, msg: 'no such message in this conversation of yours', seed: '' },
  MESSAGE_TOO_LONG: { code: 756, msg: 'message text too long', seed: '' },
  KEY_REUSED: { code: 753, msg: 'this request key was used before for a different request', seed: '' },
  CALL_NOT_FOUND: { code: 780, msg: 'no such pending co-host request or invitation for you to answer or withdraw', seed: '002 409' },
  CALL_PENDING: { code: 781, msg: 'a co-host request or invitation of this viewer is already pending', seed: '' },
  CALL_IN_PROGRESS: { code: 782, msg: 'a co-host call is already on in this room', seed: '002 739 您正在连麦中' },
  CALL_QUEUE_FULL: { code: 783, msg: 'too many pending co-host requests and invitations in this room', seed: '' },
  NOT_IN_CALL: { code: 784, msg: 'you are not in a co-host call in this room', seed: '002 750' },
  MATCH_NOT_FOUND: { code: 785, msg: 'no such pending match of yours', seed: '' },
  MATCH_PENDING: { code: 786, msg: 'you have a match to answer first', seed: '' },
  TALENT_NOT_FOUND: { code: 790, msg: "no such talent on this host's list", seed: '' },
  TALENT_REQUEST_NOT_FOUND: { code: 791, msg: 'no such pending talent request of yours', seed: '' },
  ITEM_NOT_FOUND: { code: 800, msg: 'no such vehicle or coupon', seed: '' },
  VEHICLE_NOT_OWNED: { code: 801, msg: 'you do not hold this vehicle in your backpack', seed: '' },
  OUTBOX_ITEM_NOT_FOUND: { code: 760, msg: 'no dead item with this id in the push outbox', seed: '' },
  INTERNAL: { code: 900, msg: 'internal server error', seed: '' },
  UNKNOWN_OP: { code: 901, msg: 'unknown op', seed: '' },
  MALFORMED_FRAME: { code: 902, msg: 'malformed frame: expected one binary MessagePack request envelope', seed: '' },
  RATE_LIMITED: { code: 903, msg: 'too many requests, slow down', seed: '' },
  LIMIT_EXCEEDED: { code: 904, msg: 'limit exceeded', seed: '' },
  ORIGIN_NOT_ALLOWED: { code: 905, msg: 'origin not allowed', seed: '' },
  UNAVAILABLE: { code: 906, msg: 'server is starting or shutting down', seed: '' },
  TIMEOUT: { code: 907, msg: 'request timed out inside the server', seed: '' },
  BUSY: { code: 908, msg: 'server busy, retry later', seed: '' },
} as const;

/** How long a client should wait before retrying after BUSY (908); sent as `retryAfterMs`. */
export const BUSY_RETRY_AFTER_MS = 1000;

export type ErrorName = keyof typeof ERRORS;
export type ErrorCode = (typeof ERRORS)[ErrorName]['code'];

/** Codes that were shipped once and withdrawn; never assign them again. */
export const RETIRED_CODES: readonly number[] = [];

const byCode = new Map<number, ErrorName>(
  (Object.keys(ERRORS) as ErrorName[]).map((name) => [ERRORS[name].code, name]),
);

export function errorNameOf(code: number): ErrorName | undefined {
  return byCode.get(code);
}

/** Wire shape of an error inside a reply: `{code, msg}`, and `retryAfterMs` for BUSY (908). */
export interface WireError {
  code: number;
  msg: string;
  retryAfterMs?: number;
}

/** An error that travels to the client as `{code, msg}`; anything else is INTERNAL. */
export class ProtocolError extends Error {
  readonly code: number;
  readonly errorName: ErrorName;

  constructor(name: ErrorName, detail?: string) {
    const base = ERRORS[name].msg;
    super(detail ? `${base}: ${detail}` : base);
    this.code = ERRORS[name].code;
    this.errorName = name;
  }

  toWire(): WireError {
    if (this.errorName === 'BUSY') return { code: this.code, msg: this.message, retryAfterMs: BUSY_RETRY_AFTER_MS };
    return { code: this.code, msg: this.message };
  }
}

export function toWireError(err: unknown): WireError {
  if (err instanceof ProtocolError) return err.toWire();
  return { code: ERRORS.INTERNAL.code, msg: ERRORS.INTERNAL.msg };
}

/**
 * WebSocket close codes the server uses. 4000 + an error code where the close
 * is the consequence of that error, so a client can map it back.
 */
export const CLOSE_CODES = {
  SERVER_RESTARTING: { code: 1012, reason: 'server restarting', when: 'graceful shutdown; reconnect with backoff' },
  MESSAGE_TOO_BIG: { code: 1006, reason: '(none: the connection is dropped)', when: 'a frame exceeded LIVE_MAX_FRAME_BYTES; the transport drops the connection without a close frame, so clients see 1006' },
  INTERNAL_ERROR: { code: 1011, reason: 'login failed', when: 'the server could not record the login (storage failure); reconnect with backoff' },
  LOGGED_IN_ELSEWHERE: { code: 4042, reason: 'logged in elsewhere', when: 'a newer login of the same user took over; do not auto-reconnect' },
  SESSION_TAKEN_OVER: { code: 4048, reason: 'session resumed on another connection', when: 'the same session resumed on a newer socket' },
  ACCOUNT_BANNED: { code: 4770, reason: 'account banned', when: 'the platform banned the account (session.kicked with code 770 and the reason comes first); do not auto-reconnect' },
  KICKED: { code: 4711, reason: 'session kicked', when: 'the platform ended this session (by its id, e.g. for the media service); session.kicked with code 711 comes first' },
  RATE_LIMITED: { code: 4903, reason: 'rate limit exceeded repeatedly', when: 'the client kept flooding after RATE_LIMITED replies' },
  BACKPRESSURE: { code: 4908, reason: 'client too slow', when: 'the client did not read and its send buffer passed LIVE_MAX_BACKPRESSURE_BYTES (direct or room pushes); a client that is still not reading may only see 1006. Resume to get the missed session pushes, and send room.enter again for the room' },
} as const;
