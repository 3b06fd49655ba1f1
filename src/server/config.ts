/**
 * Configuration comes from environment variables only, validated at start:
 * a bad value stops the server with a message naming the variable.
 * The README's table is generated from CONFIG_VARS (npm run docs).
 */
const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

type Parser<T> = (raw: string) => T;

interface VarSpec<T> {
  env: string;
  default: string | undefined;
  doc: string;
  parse: Parser<T>;
}

const int = (min: number, max: number): Parser<number> => (raw) => {
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`expected ${min}..${max}, got ${n}`);
  return n;
};
const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw) => {
  if (!(values as string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
};
const text: Parser<string> = (raw) => raw;
const list: Parser<string[]> = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean);
const secret: Parser<string> = (raw) => {
  if (raw.length < 32) throw new Error('must be at least 32 characters');
  return raw;
};

const webhookUrl: Parser<string> = (raw) => {
  if (raw === '') return '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`expected an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`expected an http(s) URL, got "${raw}"`);
  // fetch refuses URLs with credentials; and the secret belongs in LIVE_PUSH_WEBHOOK_SECRET, out of logs.
  if (url.username || url.password) throw new Error('must not contain credentials: set LIVE_PUSH_WEBHOOK_SECRET instead');
  return raw;
};

const levels: Parser<number[]> = (raw) => {
  const out = list(raw).map((x) => int(1, Number.MAX_SAFE_INTEGER)(x));
  if (out.length === 0) throw new Error('expected at least one threshold');
  if (out.some((x, i) => i > 0 && x <= out[i - 1]!)) throw new Error(`expected strictly increasing thresholds, got "${raw}"`);
  return out;
};

const spec = <T>(env: string, dflt: string | undefined, doc: string, parse: Parser<T>): VarSpec<T> => ({ env, default: dflt, doc, parse });

export const CONFIG_VARS = {
  host: spec('LIVE_HOST', '0.0.0.0', 'address to listen on', text),
  port: spec('LIVE_PORT', '8080', 'port to listen on (0 = any free port)', int(0, 65535)),
  dbPath: spec('LIVE_DB_PATH', './data/live.db', 'SQLite file (":memory:" for a throwaway database)', text),
  dbSynchronous: spec('LIVE_DB_SYNCHRONOUS', 'FULL', 'SQLite synchronous mode: FULL survives power loss, NORMAL only process crashes', oneOf('FULL', 'NORMAL', 'EXTRA')),
  dbWalCheckpointPages: spec('LIVE_DB_WAL_CHECKPOINT_PAGES', '10000', "WAL pages (4 KiB each) after which a commit also copies them into the database file (SQLite's wal_autocheckpoint): larger writes a page touched by many commits once instead of once per checkpoint, and makes each checkpoint longer", int(100, 1_000_000)),
  tokenSecret: spec('LIVE_TOKEN_SECRET', undefined, 'HS256 secret shared with the app backend (≥ 32 chars); a development default is used unless NODE_ENV=production', secret),
  logLevel: spec('LIVE_LOG_LEVEL', 'info', 'pino level', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')),
  maxFrameBytes: spec('LIVE_MAX_FRAME_BYTES', '16384', 'largest accepted WebSocket frame; a larger one drops the connection', int(256, 16 * 1024 * 1024)),
  idleTimeoutSec: spec('LIVE_IDLE_TIMEOUT_S', '60', 'close a socket silent this long; the server pings before (multiple of 4, ≥ 8)', int(8, 960)),
  ratePerSec: spec('LIVE_RATE_PER_S', '20', 'sustained requests per second per connection', int(1, 100_000)),
  rateBurst: spec('LIVE_RATE_BURST', '40', 'requests a connection may send at once before RATE_LIMITED (903)', int(1, 100_000)),
  maxBackpressureBytes: spec('LIVE_MAX_BACKPRESSURE_BYTES', '1048576', 'unsent bytes a socket may hold before it is closed as too slow (4908)', int(1024, 1 << 30)),
  allowedOrigins: spec('LIVE_ALLOWED_ORIGINS', '', 'comma-separated Origin allowlist for browsers; empty allows all; requests without Origin (native apps) always pass', list),
  resumeGraceMs: spec('LIVE_RESUME_GRACE_MS', '30000', 'how long a dropped session can be resumed with its missed pushes', int(0, 3_600_000)),
  resumeBuffer: spec('LIVE_RESUME_BUFFER', '256', 'pushes kept per session for resume', int(1, 100_000)),
  actorIdleMs: spec('LIVE_ACTOR_IDLE_MS', '300000', 'passivate a room actor idle this long', int(1000, 86_400_000)),
  snapshotEvery: spec('LIVE_SNAPSHOT_EVERY', '100', 'snapshot an actor after this many journaled messages', int(1, 1_000_000)),
  askTimeoutMs: spec('LIVE_ASK_TIMEOUT_MS', '5000', 'longest wait for an actor to answer a request', int(100, 120_000)),
  maxInflight: spec('LIVE_MAX_INFLIGHT', '5000', 'most requests in flight server-wide; past it BUSY (908), except users with nothing else in flight (up to twice this)', int(1, 1_000_000)),
  shedTargetMs: spec('LIVE_SHED_TARGET_MS', '50', 'when most requests answered in a 100 ms interval spent longer than this in the server, new work is shed (908) until the queue drains', int(1, 60_000)),
  maxPendingLogins: spec('LIVE_MAX_PENDING_LOGINS', '1000', 'logins waiting for their journal write before new connections are refused (HTTP 503, code 908)', int(1, 1_000_000)),
  userQueue: spec('LIVE_USER_QUEUE', '16', 'requests of one user waiting behind the one being handled before BUSY (908)', int(1, 10_000)),
  actorQueue: spec('LIVE_ACTOR_QUEUE', '500', 'requests waiting for one actor (a room, presence) before BUSY (908)', int(1, 1_000_000)),
  roomDefaultSeats: spec('LIVE_ROOM_DEFAULT_SEATS', '500', 'seat limit of a room opened without one', int(1, 10_000)),
  roomKickBanMs: spec('LIVE_ROOM_KICK_BAN_MS', '600000', 'how long a kicked viewer cannot re-enter that room', int(0, 30 * 86_400_000)),
  roomHostGraceMs: spec('LIVE_ROOM_HOST_GRACE_MS', '60000', 'how long an open room waits for a disconnected host before closing as abnormal (6.27)', int(1000, 3_600_000)),
  roomCountdownTickMs: spec('LIVE_ROOM_COUNTDOWN_TICK_MS', '1000', 'cadence of room.countdown pushes while a room closes', int(100, 60_000)),
  inviteTtlMs: spec('LIVE_INVITE_TTL_MS', '30000', 'an unanswered instant invitation expires after this long', int(1000, 3_600_000)),
  maxInvitesPerViewer: spec('LIVE_MAX_INVITES_PER_VIEWER', '5', 'pending instant invitations a viewer may have sent at once', int(1, 1000)),
  maxInvitesPerHost: spec('LIVE_MAX_INVITES_PER_HOST', '50', 'pending instant invitations one host may have (sent and received)', int(1, 10_000)),
  callRequestTtlMs: spec('LIVE_CALL_REQUEST_TTL_MS', '30000', 'co-host call: a pending request or invitation expires after this long', int(1000, 3_600_000)),
  callConfirmMs: spec('LIVE_CALL_CONFIRM_MS', '6000', 'co-host call: after the accept, the co-host must confirm its stream (call.confirm) within this long or the call ends', int(1000, 600_000)),
  callQueueMax: spec('LIVE_CALL_QUEUE_MAX', '20', 'co-host call: pending requests and invitations one room holds at once', int(1, 1000)),
  matchAcceptMs: spec('LIVE_MATCH_ACCEPT_MS', '15000', 'random match: how long a matched pair has to accept', int(1000, 600_000)),
  showCountdownMs: spec('LIVE_SHOW_COUNTDOWN_MS', '10000', 'private show: from the host entering to the start (6.24)', int(0, 600_000)),
  showHostEnterMs: spec('LIVE_SHOW_HOST_ENTER_MS', '120000', 'private show: the host must enter this long after accepting, or it ends as host_no_show', int(1000, 3_600_000)),
  showViewerEnterMs: spec('LIVE_SHOW_VIEWER_ENTER_MS', '120000', 'private show: the viewer must enter this long after the start, or it ends as viewer_no_show', int(1000, 3_600_000)),
  showAwayGraceMs: spec('LIVE_SHOW_AWAY_GRACE_MS', '60000', 'private show: a side disconnected this long ends it as abnormal (6.27)', int(1000, 3_600_000)),
  bookingMinLeadMs: spec('LIVE_BOOKING_MIN_LEAD_MS', '120000', 'a booking starts at least this far ahead of its creation (more than LIVE_BOOKING_REMIND_MS)', int(60_000, 86_400_000)),
  bookingMaxAheadMs: spec('LIVE_BOOKING_MAX_AHEAD_MS', '2592000000', 'a booking starts at most this far ahead (default 30 days)', int(60_000, 366 * 86_400_000)),
  bookingRemindMs: spec('LIVE_BOOKING_REMIND_MS', '60000', 'booking.soon goes out this long before the start; from then the booking can be entered (an unanswered one expires)', int(1000, 3_600_000)),
  bookingJudgeMs: spec('LIVE_BOOKING_JUDGE_MS', '300000', 'after the start, how long both sides have to enter before the booking is judged', int(1000, 3_600_000)),
  maxBookingsPerHost: spec('LIVE_MAX_BOOKINGS_PER_HOST', '200', 'open bookings (pending, accepted, due) one host may have', int(1, 100_000)),
  mediaPushUrl: spec('LIVE_MEDIA_PUSH_URL', 'rtmp://media.example.com/live/{stream}', "where a show's viewer pushes video; {stream} becomes show<id>-u<viewer id>", text),
  mediaPlayUrl: spec('LIVE_MEDIA_PLAY_URL', 'https://media.example.com/live/{stream}.flv', "where the host plays the viewer's video; {stream} as above", text),
  showPricePerMin: spec('LIVE_SHOW_PRICE_PER_MIN', '0', 'credits per started minute of a private show, paid by its viewer; 0: private shows are free (no holds, no billing)', int(0, 1_000_000)),
  lowCreditMinutes: spec('LIVE_LOW_CREDIT_MINUTES', '2', 'in a paid show, wallet.low is pushed when the viewer\'s credits pay for fewer minutes than this', int(1, 60)),
  rebatePct: spec('LIVE_REBATE_PCT', '0', "share of each paid minute returned to the viewer (5.20), out of the house's cut (at most LIVE_HOUSE_CUT_PCT), in percent, rounded down", int(0, 100)),
  barragePrice: spec('LIVE_BARRAGE_PRICE', '0', "credits per barrage line (7.38), paid to the room's host; 0: barrage is free", int(0, 1_000_000)),
  entranceGiftPct: spec('LIVE_ENTRANCE_GIFT_PCT', '0', "chance, in percent, taken on each entry into a room until won, that a viewer gets a random gift from its host for the backpack (at most once per viewer per room); 0: never", int(0, 100)),
  entranceGiftMaxPrice: spec('LIVE_ENTRANCE_GIFT_MAX_PRICE', '100', 'entrance gifts are chosen among active gifts priced at most this', int(1, 10_000_000)),
  houseCutPct: spec('LIVE_HOUSE_CUT_PCT', '30', "the platform's share of what viewers spend on a host (gifts, paid minutes, paid barrage), in percent, rounded down", int(0, 100)),
  comboWindowMs: spec('LIVE_COMBO_WINDOW_MS', '3000', 'a gift streak (combo) ends when no send of it came for this long', int(500, 60_000)),
  comboPushMs: spec('LIVE_COMBO_PUSH_MS', '250', 'a running gift streak is pushed to the room at most this often (sends in between are added up)', int(0, 10_000)),
  likesFlushMs: spec('LIVE_LIKES_FLUSH_MS', '250', 'likes are added up and pushed (and journaled) at most this often per room', int(50, 10_000)),
  membersFlushMs: spec('LIVE_ROOM_MEMBERS_FLUSH_MS', '250', 'room.user_entered / room.user_left of a burst are sent as one push at most this late', int(0, 10_000)),
  audienceSize: spec('LIVE_AUDIENCE_SIZE', '20', "viewers on a room's audience avatar list (7.51; room.audience, room.audience_updated): the highest levels, then the earliest entries", int(1, 100)),
  audienceFlushMs: spec('LIVE_AUDIENCE_FLUSH_MS', '1000', "a room's audience avatar list is recomputed after entries and departures at most this often, and pushed when it changed", int(50, 60_000)),
  chatPerSec: spec('LIVE_CHAT_PER_S', '2', 'chat and barrage lines per second per user (sustained)', int(1, 1_000_000)),
  chatBurst: spec('LIVE_CHAT_BURST', '5', 'chat and barrage lines a user may send at once', int(1, 1_000_000)),
  maxFollowing: spec('LIVE_MAX_FOLLOWING', '5000', 'users one user may follow (follow.add answers 904 beyond)', int(1, 100_000)),
  messageMaxChars: spec('LIVE_MESSAGE_MAX_CHARS', '1000', 'longest private message, in UTF-16 code units (as JavaScript counts); longer ones are refused (756)', int(1, 10_000)),
  messagePerMin: spec('LIVE_MESSAGE_PER_MIN', '30', 'private messages per minute per sender (sustained); past it RATE_LIMITED (903)', int(1, 1_000_000)),
  messageBurst: spec('LIVE_MESSAGE_BURST', '10', 'private messages a sender may send at once', int(1, 1_000_000)),
  maxBlocks: spec('LIVE_MAX_BLOCKS', '1000', 'users one user may have blocked; past it LIMIT_EXCEEDED (904)', int(1, 1_000_000)),
  talentTtlMs: spec('LIVE_TALENT_TTL_MS', '300000', 'a talent request the host has not answered this long after it was made is refunded to the viewer', int(1000, 86_400_000)),
  maxTalents: spec('LIVE_MAX_TALENTS', '20', "talents on one host's list (talent.set answers 904 beyond)", int(1, 1000)),
  maxTalentRequests: spec('LIVE_MAX_TALENT_REQUESTS', '200', 'open talent requests (held, not answered) one host may have (talent.request answers 904 beyond)', int(1, 100_000)),
  intimacyPerCredit: spec('LIVE_INTIMACY_PER_CREDIT', '1', 'intimacy points per credit a viewer spends on a host (gifts paid with credits, accepted talent requests)', int(0, 1_000_000)),
  intimacyPerMinute: spec('LIVE_INTIMACY_PER_MINUTE', '1', "intimacy points per whole minute of a visit to a host's public room", int(0, 1_000_000)),
  intimacyDecayPct: spec('LIVE_INTIMACY_DECAY_PCT', '5', 'percent of its intimacy points a pair loses per full day (24 h) without growth, rounded down each day', int(0, 100)),
  viewerLevels: spec('LIVE_VIEWER_LEVELS', '100,1000,5000,20000,100000', 'credits spent on hosts at which viewer levels 1, 2, … begin (comma-separated, strictly increasing, from 1; 5.30)', levels),
  intimacyLevels: spec('LIVE_INTIMACY_LEVELS', '10,100,500,2000,10000', 'intimacy points at which levels 1, 2, … begin (comma-separated, strictly increasing, from 1)', levels),
  adminToken: spec('LIVE_ADMIN_TOKEN', '', 'bearer token of the server-to-server admin API (/admin/…, ≥ 32 chars); empty disables it', (raw) => (raw === '' ? '' : secret(raw))),
  pushWebhookUrl: spec('LIVE_PUSH_WEBHOOK_URL', '', 'the push gateway: outbox items are POSTed here as JSON (an http or https URL); empty: nothing is sent and items stay pending', webhookUrl),
  pushWebhookSecret: spec('LIVE_PUSH_WEBHOOK_SECRET', '', 'sent to the push gateway as Authorization: Bearer <secret> (≥ 32 chars); empty: no Authorization header', (raw) => (raw === '' ? '' : secret(raw))),
  pushTimeoutMs: spec('LIVE_PUSH_TIMEOUT_MS', '10000', 'a push the gateway has not answered within this long is abandoned: a failed attempt', int(100, 300_000)),
  pushConcurrency: spec('LIVE_PUSH_CONCURRENCY', '16', 'deliveries in flight at once (each to a different user: a user\'s items go one at a time, in order)', int(1, 1000)),
  pushBackoffBaseMs: spec('LIVE_PUSH_BACKOFF_BASE_MS', '1000', 'delay before the first retry; doubled for each further attempt, capped at LIVE_PUSH_BACKOFF_MAX_MS, then 50–100 % of it taken at random (jitter)', int(10, 3_600_000)),
  pushBackoffMaxMs: spec('LIVE_PUSH_BACKOFF_MAX_MS', '300000', 'longest delay between two attempts of one item', int(10, 86_400_000)),
  pushKeepDeliveredMs: spec('LIVE_PUSH_KEEP_DELIVERED_MS', '86400000', 'delivered outbox items are deleted this long after delivery (checked every hour); dead ones are kept', int(60_000, 365 * 86_400_000)),
  pushMaxAttempts: spec('LIVE_PUSH_MAX_ATTEMPTS', '10', 'an outbox item still not delivered after this many attempts is dead (kept; see GET /admin/outbox)', int(1, 1000)),
  emoticonBaseUrl: spec('LIVE_EMOTICON_BASE_URL', 'https://cdn.example.com/emoticons/', 'where the emoticon images of chat.emoticons are served from', text),
} as const;

type Vars = typeof CONFIG_VARS;
export type Config = { [K in keyof Vars]: Vars[K] extends VarSpec<infer T> ? T : never };

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(CONFIG_VARS) as [string, VarSpec<unknown>][]) {
    let raw = env[v.env];
    if (raw === undefined || raw === '') raw = v.default;
    if (key === 'tokenSecret' && raw === undefined) {
      if (env.NODE_ENV === 'production') throw new ConfigError(`${v.env} is required when NODE_ENV=production`);
      raw = DEV_SECRET;
    }
    try {
      out[key] = v.parse(raw ?? '');
    } catch (err) {
      throw new ConfigError(`${v.env}: ${(err as Error).message}`);
    }
  }
  const config = out as Config;
  // Otherwise every booking would expire the moment it is made.
  if (config.bookingRemindMs >= config.bookingMinLeadMs) {
    throw new ConfigError(`LIVE_BOOKING_REMIND_MS (${config.bookingRemindMs}) must be less than LIVE_BOOKING_MIN_LEAD_MS (${config.bookingMinLeadMs})`);
  }
  if (config.pushBackoffBaseMs > config.pushBackoffMaxMs) {
    throw new ConfigError(`LIVE_PUSH_BACKOFF_BASE_MS (${config.pushBackoffBaseMs}) must not exceed LIVE_PUSH_BACKOFF_MAX_MS (${config.pushBackoffMaxMs})`);
  }
  return config;
}

export function isDevSecret(config: Config): boolean {
  return config.tokenSecret === DEV_SECRET;
}

/** The README's configuration table, generated so it cannot drift from the code. */
export function renderConfigTable(): string {
  const rows = Object.values(CONFIG_VARS).map((v) => `| \`${v.env}\` | ${v.default === undefined ? '(dev default)' : v.default === '' ? '(empty)' : `\`${v.default}\``} | ${v.doc} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows, ''].join('\n');
}
