import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LiveClient, ServerError } from '../../src/client/index.js';
import type { ReplyOf, RequestOf } from '../../src/protocol/define.js';
import type { OpName, Ops } from '../../src/protocol/ops/index.js';
import { auditLedger } from '../../src/storage/ledger-audit.js';
import { exited, spawnServer, type ServerProcess } from './child.js';
import { mint } from './server.js';

/**
 * The crash soak of the credits ledger. Each round runs the server (src/main.ts) as a child
 * process on the same database, puts gift and private-show billing load on it, kills it with
 * SIGKILL at a moment drawn from the seed, then opens the database read-only and checks:
 *
 *   - the auditor passes (balances = entries, nothing below zero but the mint, legs sum to 0);
 *   - every gift acknowledged with ok is in the ledger exactly once, as acknowledged (transfer id,
 *     balance, streak, amounts); a gift refused for lack of credit (740) is not; one whose reply
 *     never came is there at most once, and from then on it is known as committed or not;
 *   - a resent key (same parameters, after the restart) gets exactly the first reply again —
 *     also when that first reply was lost with the crash — and moves no credits;
 *   - top-ups (admin API, idempotent by order id) likewise;
 *   - every balance read after the restart equals the one stored before it;
 *   - for every private show, its `bill:show:<id>:<m>` transfers are minutes 1..k without a gap,
 *     each for the price, none for a minute that had not started, a hold never below zero and
 *     never both released and paying minute 1.
 *
 * A last round (settle) ends the open shows, lets outstanding charges be asked again, shuts the
 * server down cleanly and checks the settled books: every hold back to zero and every show billed
 * exactly for the minutes started before its end (reported apart, as `unsettled`: money owed, not
 * broken books).
 *
 * The server runs on its fake clock (LIVE_TEST_CLOCK_START), moved in steps that stop at each
 * show's minute boundaries and closing time, so deadlines come due one by one as with a real
 * clock; the clock keeps going up across rounds, and the downtime between two rounds is time
 * that passes while the server is dead.
 *
 * Everything the soak decides (who sends what, bursts, clock steps, the kind and moment of the kill,
 * downtime between rounds) comes from the seed; what the server had committed at the instant of the
 * kill depends on timing, so two runs with one seed put the same load on it but may cut it differently.
 */

export const SOAK_ADMIN_TOKEN = 'soak-admin-token-0123456789-0123456789-abcdef';
const MINUTE = 60_000;
const PRICE_PER_MIN = 20;
const HOUSE_CUT_PCT = 30;
const REBATE_PCT = 5;
/** desk-billing's CHARGE_RETRY_MS: an unanswered charge is asked for again this long after. */
const CHARGE_RETRY_MS = 5_000;
const GIFTS = [
  { id: 1, name: 'Rose', price: 3 },
  { id: 2, name: 'Rocket', price: 50 },
] as const;
const ROOM_HOST = 100;
const ROOM_VIEWERS = [1, 2, 3, 4] as const;
/** A viewer kept short of credits, so that sends are refused with 740. */
const POOR = 4;
const PAIRS = [
  { host: 200, viewer: 10 },
  { host: 201, viewer: 11 },
] as const;
const ALL_USERS: Array<{ id: number; role: 'host' | 'viewer' }> = [
  { id: ROOM_HOST, role: 'host' },
  ...ROOM_VIEWERS.map((id) => ({ id, role: 'viewer' as const })),
  ...PAIRS.flatMap((p) => [
    { id: p.host, role: 'host' as const },
    { id: p.viewer, role: 'viewer' as const },
  ]),
];
/** Codes that say the request was not carried out (and nothing about an earlier attempt of its key). */
const NOT_HANDLED = new Set([39, 700, 711, 730, 731, 735, 746, 903, 906, 908]);

// ---------------------------------------------------------------- seeded randomness

export interface Rng {
  next(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(list: readonly T[]): T;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)]!,
  };
}

/** A seed for one part of one round, from the run's seed. */
function derive(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- what the soak remembers

interface GiftParams {
  giftId: number;
  count: number;
  roomId?: number;
  showId?: number;
  comboId?: string;
  key: string;
}

interface GiftReply {
  transferId: number;
  credits: number;
  comboId: string | null;
  streak: number;
  streakCount: number;
}

/**
 * What is known of a key: `present` (acknowledged, or found committed after a kill), `absent`
 * (never carried out, or refused with 740 since) or `maybe` (a reply never came).
 */
type KeyState = 'absent' | 'maybe' | 'present';

interface SendRecord {
  userId: number;
  params: GiftParams;
  ledgerKey: string;
  total: number;
  state: KeyState;
  /** The first reply: as received, or as the ledger holds it when the reply was lost. */
  reply?: GiftReply;
  replyFrom?: 'ack' | 'ledger';
  round: number;
  /** Round of the newest attempt whose reply never came. */
  unknownRound?: number;
}

interface Receipt {
  transferId: number;
  credits: number;
  replayed: boolean;
  at: number;
}

interface TopupRecord {
  userId: number;
  orderId: string;
  amount: number;
  state: KeyState;
  receipt?: Omit<Receipt, 'replayed'>;
  unknownRound?: number;
}

interface ShowRecord {
  showId: number;
  hostId: number;
  viewerId: number;
  startedAt?: number;
  /** End of the host's closing countdown, when one was seen. */
  closesAt?: number;
}

export interface RoundReport {
  round: number;
  /** 'settle' for the last, clean round. */
  kind: 'crash' | 'settle';
  kill: string;
  /** Real milliseconds from the start of the load to the kill. */
  killedAfterMs: number;
  /** Fake time the server ran in this round. */
  clockMs: number;
  downtimeMs: number;
  sent: number;
  acked: number;
  refused: number;
  refusedCodes: Record<string, number>;
  unknown: number;
  /** Of the replies that never came: how many the ledger holds. */
  unknownCommitted: number;
  resent: number;
  /** Resends of committed keys answered with exactly the first reply. */
  replayedSame: number;
  /** Resends of committed keys refused before the ledger was asked (the room closed, the show ended…). */
  replayRefused: number;
  topups: number;
  transfers: number;
  giftTransfers: number;
  minutesBilled: number;
  shows: number;
  /** Broken books or idempotency: the audit, acked gifts, replies to resent keys, minutes twice or out of order. */
  violations: string[];
  /**
   * Money the settled books owe someone: a started minute never billed, credits left in a hold.
   * Kept apart because they are known open server bugs (see test/integration/money-soak.test.ts).
   */
  unsettled: string[];
  notes: string[];
  realMs: number;
}

export interface SoakSummary {
  seed: number;
  rounds: number;
  realMs: number;
  sent: number;
  acked: number;
  refused: number;
  unknown: number;
  unknownCommitted: number;
  resent: number;
  replayedSame: number;
  replayRefused: number;
  transfers: number;
  giftTransfers: number;
  minutesBilled: number;
  shows: number;
  violations: string[];
  unsettled: string[];
  notes: string[];
}

export interface SoakOptions {
  seed: number;
  /** Database directory (a fresh temp dir by default, removed at the end unless `keep`). */
  dir?: string;
  keep?: boolean;
  /** Longest load phase of a round before the kill, real ms. */
  maxLoadMs?: number;
  /** Called after each round. */
  onRound?: (report: RoundReport) => void;
}

type Outcome<T> = { ok: true; d: T } | { ok: false; code: number | undefined; msg: string };

/** A request whose failure is an outcome, not an exception: code set when the server answered. */
async function attempt<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, d: await p };
  } catch (err) {
    return { ok: false, code: err instanceof ServerError ? err.code : undefined, msg: (err as Error).message };
  }
}

interface Ctx {
  round: number;
  srv: ServerProcess;
  clients: Map<number, LiveClient>;
  alive: boolean;
  report: RoundReport;
  roomId: number | undefined;
  /** The show each pair is in, as last heard. */
  showOf: Map<number, number | undefined>;
  kill(why: string): void;
  onSend(): void;
  onAck(): void;
  onAdvance(from: number, to: number): void;
  onAccept(): void;
}

// ---------------------------------------------------------------- the soak

export class MoneySoak {
  readonly dir: string;
  readonly dbPath: string;
  private readonly sends = new Map<string, SendRecord>();
  private readonly topups = new Map<string, TopupRecord>();
  private readonly shows = new Map<number, ShowRecord>();
  /** Balances as stored at the last check (account → credits). */
  private stored = new Map<string, number>();
  /** The fake clock: where the next server starts, and the furthest the last one may have got. */
  private clock = 1_800_000_000_000;
  private clockSent = this.clock;
  private roomId: number | undefined;
  private round = 0;
  private readonly started = Date.now();
  /** Fake-time spans the server ran, per round (the gaps between are downtime). */
  private readonly spans: Array<{ round: number; from: number; to: number }> = [];
  /** Violations already reported (a broken show stays broken: it is reported in the round it was found). */
  private readonly reported = new Set<string>();
  readonly reports: RoundReport[] = [];

  constructor(private readonly opts: SoakOptions) {
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'live-money-soak-'));
    this.dbPath = join(this.dir, 'live.db');
  }

  private env(snapshotEvery: number, clock: number): Record<string, string> {
    return {
      LIVE_DB_PATH: this.dbPath,
      LIVE_LOG_LEVEL: 'warn',
      LIVE_ADMIN_TOKEN: SOAK_ADMIN_TOKEN,
      LIVE_SHOW_PRICE_PER_MIN: String(PRICE_PER_MIN),
      LIVE_HOUSE_CUT_PCT: String(HOUSE_CUT_PCT),
      LIVE_REBATE_PCT: String(REBATE_PCT),
      LIVE_RATE_PER_S: '100000',
      LIVE_RATE_BURST: '100000',
      LIVE_USER_QUEUE: '10000',
      LIVE_ACTOR_QUEUE: '10000',
      LIVE_SHED_TARGET_MS: '60000',
      LIVE_SNAPSHOT_EVERY: String(snapshotEvery),
      LIVE_INVITE_TTL_MS: '60000',
      LIVE_SHOW_COUNTDOWN_MS: '10000',
      LIVE_SHOW_HOST_ENTER_MS: '3600000',
      LIVE_SHOW_VIEWER_ENTER_MS: '3600000',
      LIVE_SHOW_AWAY_GRACE_MS: '3600000',
      LIVE_ROOM_HOST_GRACE_MS: '3600000',
      LIVE_TEST_CLOCK_START: String(clock),
    };
  }

  private newReport(round: number, kind: RoundReport['kind'], downtimeMs: number): RoundReport {
    return {
      round, kind, kill: kind === 'settle' ? 'SIGTERM' : '', killedAfterMs: 0, clockMs: 0, downtimeMs,
      sent: 0, acked: 0, refused: 0, refusedCodes: {}, unknown: 0, unknownCommitted: 0, resent: 0, replayedSame: 0, replayRefused: 0,
      topups: 0, transfers: 0, giftTransfers: 0, minutesBilled: 0, shows: 0, violations: [], unsettled: [], notes: [], realMs: 0,
    };
  }

  /** One crash round: start, load, kill -9 at a seeded moment, check the database. */
  async crashRound(): Promise<RoundReport> {
    const round = ++this.round;
    const R = rng(derive(this.opts.seed, round, 0));
    const t0 = Date.now();
    // Down for no time, a supervisor's quick restart, a slow one, or minutes.
    const downtime = round === 1 ? 0 : R.pick([0, R.int(1, 5_000), R.int(1, 5_000), R.int(5_000, 60_000), R.int(60_000, 240_000)]);
    this.clock = Math.max(this.clock, this.clockSent) + downtime;
    this.clockSent = this.clock;
    const report = this.newReport(round, 'crash', downtime);
    const clockStart = this.clock;
    const srv = await spawnServer(this.env(R.pick([3, 10, 100]), clockStart));
    srv.child.on('error', () => {});
    let killed = false;
    let killedAt = 0;
    let loadStart = 0;
    let resolveKilled!: () => void;
    const killedP = new Promise<void>((resolve) => (resolveKilled = resolve));
    const exit = exited(srv.child).then((how) => {
      if (!killed) report.violations.push(`the server exited by itself (${JSON.stringify(how)}): ${tail(srv.output())}`);
      resolveKilled();
      return how;
    });
    // The kill: what triggers it, drawn before anything else happens.
    const maxLoad = this.opts.maxLoadMs ?? 2_500;
    const mode = R.pick(['timer', 'burst', 'ack', 'billing', 'accept'] as const);
    const plan = { at: R.int(20, maxLoad), sends: R.int(1, 250), acks: R.int(1, 200), accepts: R.int(1, 2), crossings: R.int(1, 6), delay: R.int(0, 12) };
    const ctx: Ctx = {
      round, srv, clients: new Map(), alive: true, report, roomId: this.roomId, showOf: new Map(),
      kill: (why) => {
        if (killed) return;
        killed = true;
        killedAt = Date.now();
        ctx.alive = false;
        report.kill = why;
        srv.child.kill('SIGKILL');
        resolveKilled();
      },
      onSend: () => {},
      onAck: () => {},
      onAdvance: () => {},
      onAccept: () => {},
    };
    const advance = async (ms: number): Promise<void> => {
      if (!ctx.alive) return;
      const from = this.clockSent;
      this.clockSent += ms;
      await Promise.race([srv.advance(ms), exit]);
      if (ctx.alive) ctx.onAdvance(from, this.clockSent);
    };
    const phase = (name: string) => debug(`round ${round}: ${name} at ${Date.now() - t0} ms`);
    try {
      await this.connect(ctx, clockStart);
      phase('connected');
      await this.checkBalancesAfterRestart(ctx);
      await this.restarted(srv);
      await this.setup(ctx, R);
      phase('set up');
      await this.resend(ctx, rng(derive(this.opts.seed, round, 1)));
      phase('resent');
      // The load, until the kill.
      loadStart = Date.now();
      if (mode === 'timer') {
        setTimeout(() => ctx.kill(`timer ${plan.at} ms`), plan.at);
      } else if (mode === 'burst') {
        const n = plan.sends;
        let sent = 0;
        ctx.onSend = () => ++sent === n && ctx.kill(`right after send #${n}`);
      } else if (mode === 'ack') {
        const n = plan.acks;
        let acks = 0;
        ctx.onAck = () => ++acks === n && ctx.kill(`right after ack #${n}`);
      } else if (mode === 'accept') {
        // Right as a show is accepted: its hold (asked for after the acceptance was journaled) may not be committed yet.
        const n = plan.accepts;
        let accepts = 0;
        ctx.onAccept = () => ++accepts === n && ctx.kill(`right after show accepted #${n}`);
      } else {
        const n = plan.crossings;
        const delay = plan.delay;
        let crossings = 0;
        ctx.onAdvance = (from, to) => {
          for (const show of this.shows.values()) {
            if (show.startedAt === undefined || ctx.showOf.get(show.hostId) !== show.showId) continue;
            const boundary = (t: number) => Math.floor((t - show.startedAt!) / MINUTE);
            if (to >= show.startedAt && boundary(to) > boundary(from)) {
              if (++crossings === n) setTimeout(() => ctx.kill(`${delay} ms after minute boundary #${n}`), delay);
              return;
            }
          }
        };
      }
      setTimeout(() => ctx.kill(`load cap ${maxLoad} ms`), maxLoad);
      const workers = [
        ...ROOM_VIEWERS.map((uid) => this.roomSender(ctx, uid, rng(derive(this.opts.seed, round, 10 + uid)))),
        ...PAIRS.map((pair, i) => this.showDriver(ctx, pair, rng(derive(this.opts.seed, round, 30 + i)))),
        this.clockDriver(ctx, advance, rng(derive(this.opts.seed, round, 50))),
        this.topupDriver(ctx, rng(derive(this.opts.seed, round, 60))),
      ];
      await killedP;
      phase(`killed (${report.kill})`);
      await Promise.all(workers.map((w, i) => w.then(() => phase(`worker ${i} done`))));
    } catch (err) {
      if (!killed) report.violations.push(`round ${round} failed before the kill: ${(err as Error).stack ?? err}\n${tail(srv.output())}`);
    } finally {
      if (!killed) ctx.kill('after a failure');
      await exit;
      for (const c of ctx.clients.values()) if (!c.closed) await c.drop().catch(() => {});
    }
    this.roomId = ctx.roomId;
    report.killedAfterMs = loadStart ? killedAt - loadStart : 0;
    report.clockMs = this.clockSent - clockStart;
    this.spans.push({ round, from: clockStart, to: this.clockSent });
    this.check(report, false);
    report.realMs = Date.now() - t0;
    this.reports.push(report);
    this.opts.onRound?.(report);
    return report;
  }

  /** The last round: end the shows, let every charge be asked again, stop cleanly, check the settled books. */
  async settleRound(): Promise<RoundReport> {
    const round = ++this.round;
    const t0 = Date.now();
    const downtime = 1_000;
    this.clock = Math.max(this.clock, this.clockSent) + downtime;
    this.clockSent = this.clock;
    const clockStart = this.clock;
    const report = this.newReport(round, 'settle', downtime);
    const srv = await spawnServer(this.env(100, clockStart));
    srv.child.on('error', () => {});
    const ctx: Ctx = {
      round, srv, clients: new Map(), alive: true, report, roomId: this.roomId, showOf: new Map(),
      kill: () => {}, onSend: () => {}, onAck: () => {}, onAdvance: () => {}, onAccept: () => {},
    };
    const advance = async (ms: number) => {
      this.clockSent += ms;
      await srv.advance(ms);
    };
    try {
      await this.connect(ctx, clockStart);
      await this.checkBalancesAfterRestart(ctx);
      await this.restarted(srv);
      await this.enterRoom(ctx);
      await this.resend(ctx, rng(derive(this.opts.seed, round, 1)));
      // Charges still outstanding are asked again CHARGE_RETRY_MS after they were asked.
      for (let i = 0; i < 4; i++) await advance(CHARGE_RETRY_MS / 2);
      for (const pair of PAIRS) {
        const viewer = ctx.clients.get(pair.viewer)!;
        const cur = await viewer.request('show.current', {});
        if (!cur.show) continue;
        this.noteShow(cur.show);
        const ended = viewer.next('show.ended', 10_000).catch(() => undefined);
        const closed = await attempt(viewer.request('show.close', { showId: cur.show.showId }));
        if (closed.ok) await ended;
      }
      // Releases and last minutes asked at the end, and anything refused for storage reasons, come again.
      for (let i = 0; i < 4; i++) await advance(CHARGE_RETRY_MS / 2);
      const deadline = Date.now() + 6_000;
      for (;;) {
        const audit = (await this.admin(srv, 'GET', '/admin/ledger/audit')).body as { held?: number };
        // Credits still held by then are reported per show by the check.
        if (audit.held === 0 || Date.now() > deadline) break;
        await advance(1_000);
        await sleep(20);
      }
    } catch (err) {
      report.violations.push(`settle round failed: ${(err as Error).stack ?? err}\n${tail(srv.output())}`);
    }
    for (const c of ctx.clients.values()) if (!c.closed) await c.close().catch(() => {});
    srv.child.kill('SIGTERM');
    const how = await exited(srv.child);
    if (how.code !== 0) report.violations.push(`clean shutdown exited with ${JSON.stringify(how)}: ${tail(srv.output())}`);
    report.clockMs = this.clockSent - clockStart;
    this.spans.push({ round, from: clockStart, to: this.clockSent });
    this.check(report, true);
    report.realMs = Date.now() - t0;
    this.reports.push(report);
    this.opts.onRound?.(report);
    return report;
  }

  summary(): SoakSummary {
    const sum = (f: (r: RoundReport) => number) => this.reports.reduce((n, r) => n + f(r), 0);
    const last = this.reports.at(-1);
    return {
      seed: this.opts.seed,
      rounds: this.reports.filter((r) => r.kind === 'crash').length,
      realMs: Date.now() - this.started,
      sent: sum((r) => r.sent),
      acked: sum((r) => r.acked),
      refused: sum((r) => r.refused),
      unknown: sum((r) => r.unknown),
      unknownCommitted: sum((r) => r.unknownCommitted),
      resent: sum((r) => r.resent),
      replayedSame: sum((r) => r.replayedSame),
      replayRefused: sum((r) => r.replayRefused),
      transfers: last?.transfers ?? 0,
      giftTransfers: last?.giftTransfers ?? 0,
      minutesBilled: last?.minutesBilled ?? 0,
      shows: last?.shows ?? 0,
      violations: this.reports.flatMap((r) => r.violations.map((v) => `round ${r.round}: ${v}`)),
      unsettled: this.reports.flatMap((r) => r.unsettled.map((v) => `round ${r.round}: ${v}`)),
      notes: this.reports.flatMap((r) => r.notes.map((v) => `round ${r.round}: ${v}`)),
    };
  }

  cleanup(): void {
    if (!this.opts.dir && !this.opts.keep) rmSync(this.dir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------ round parts

  private async connect(ctx: Ctx, clock: number): Promise<void> {
    const issuedAt = Math.floor(clock / 1000);
    await Promise.all(
      ALL_USERS.map(async ({ id, role }) => {
        const client = LiveClient.create(ctx.srv.url, { token: mint(id, role, { issuedAt, ttlSec: 7 * 86_400 }), requestTimeoutMs: 15_000 });
        ctx.clients.set(id, client);
        this.listen(ctx, client, id);
        await client.start();
      }),
    );
  }

  /** Pushes that tell the soak about shows (start times, closing countdowns, ends). */
  private listen(ctx: Ctx, client: LiveClient, userId: number): void {
    client.on('show.started', (d) => {
      const show = this.shows.get(d.showId);
      if (show) show.startedAt = d.startedAt;
    });
    client.on('show.closing', (d) => {
      const show = this.shows.get(d.showId);
      if (show) show.closesAt = d.closesAt;
    });
    client.on('show.ended', (d) => {
      for (const pair of PAIRS) if (pair.viewer === userId && ctx.showOf.get(pair.host) === d.showId) ctx.showOf.set(pair.host, undefined);
    });
  }

  /** Before anything moves: every balance the restarted server reports is the one stored when it died. */
  private async checkBalancesAfterRestart(ctx: Ctx): Promise<void> {
    await Promise.all(
      ALL_USERS.map(async ({ id }) => {
        const { credits } = await ctx.clients.get(id)!.request('wallet.balance', {});
        const stored = this.stored.get(`user:${id}`) ?? 0;
        if (credits !== stored) ctx.report.violations.push(`user ${id} has ${credits} credits after the restart; ${stored} were stored when the server died`);
      }),
    );
  }

  private async admin(srv: ServerProcess, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`http://127.0.0.1:${srv.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${SOAK_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  /** A top-up through the admin API, recorded like a gift: acked, refused or unknown. */
  private async topup(ctx: Ctx, userId: number, orderId: string, amount: number): Promise<void> {
    if (!ctx.alive) return;
    let rec = this.topups.get(orderId);
    if (!rec) this.topups.set(orderId, (rec = { userId, orderId, amount, state: 'absent' }));
    ctx.report.topups++;
    let res: { status: number; body: unknown };
    try {
      res = await this.admin(ctx.srv, 'POST', `/admin/users/${userId}/topup`, { orderId, amount });
    } catch {
      if (rec.state !== 'present') rec.state = 'maybe';
      rec.unknownRound = ctx.round;
      return;
    }
    if (res.status !== 200) {
      if (res.status === 409) ctx.report.violations.push(`top-up ${orderId} resent with its parameters was refused: ${JSON.stringify(res.body)}`);
      else ctx.report.notes.push(`top-up ${orderId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      return;
    }
    const { replayed, ...receipt } = res.body as Receipt;
    if (rec.receipt) {
      if (!replayed || !isDeepStrictEqual(receipt, rec.receipt)) {
        ctx.report.violations.push(`top-up ${orderId} resent: got ${JSON.stringify(res.body)}, first ${JSON.stringify(rec.receipt)} (replayed expected)`);
      }
    } else {
      if (replayed && rec.state !== 'maybe') ctx.report.violations.push(`top-up ${orderId} answered as a replay on its first sending: ${JSON.stringify(res.body)}`);
      rec.receipt = receipt;
    }
    rec.state = 'present';
  }

  private async setup(ctx: Ctx, R: Rng): Promise<void> {
    const { srv, clients, round } = ctx;
    for (const g of GIFTS) {
      const put = await this.admin(srv, 'PUT', `/admin/gifts/${g.id}`, { name: g.name, price: g.price, image: `https://cdn.example/${g.id}.gif`, icon: `https://cdn.example/${g.id}.png`, type: 1 });
      if (put.status !== 200) throw new Error(`gift ${g.id} not stored: ${JSON.stringify(put)}`);
    }
    if (round === 1) {
      for (const id of ROOM_VIEWERS) await this.topup(ctx, id, `seed-u${id}`, id === POOR ? 100 : 1_000_000);
      for (const p of PAIRS) await this.topup(ctx, p.viewer, `seed-u${p.viewer}`, 300);
    }
    // Top-ups whose answer was lost are sent again (idempotent by order id); so are a few answered ones.
    const again = [...this.topups.values()].filter((t) => t.unknownRound === round - 1 || (t.state === 'present' && R.chance(0.05)));
    for (const t of again) await this.topup(ctx, t.userId, t.orderId, t.amount);
    const poor = R.int(0, 120);
    if (poor > 0) await this.topup(ctx, POOR, `r${round}-u${POOR}`, poor);
    // The other room viewers spend some tens of thousands a round.
    for (const id of ROOM_VIEWERS) if (id !== POOR && round > 1) await this.topup(ctx, id, `r${round}-u${id}`, R.int(10_000, 60_000));

    await this.enterRoom(ctx);
    // The private shows that outlived the restart: both sides back in.
    for (const pair of PAIRS) {
      const cur = await clients.get(pair.viewer)!.request('show.current', {});
      ctx.showOf.set(pair.host, cur.show?.showId);
      if (!cur.show) continue;
      this.noteShow(cur.show);
      // Now and then the viewer, back after the crash, ends the show at once (before the clock moves on),
      // more often one that has not started yet.
      if (R.chance(cur.show.status === 'live' || cur.show.status === 'closing' ? 0.2 : 0.6)) {
        const closed = await attempt(clients.get(pair.viewer)!.request('show.close', { showId: cur.show.showId }));
        if (closed.ok) ctx.showOf.set(pair.host, undefined);
        else ctx.report.notes.push(`show.close ${cur.show.showId} after the restart: ${closed.msg}`);
        continue;
      }
      for (const id of [pair.host, pair.viewer]) {
        const entered = await attempt(clients.get(id)!.request('show.enter', { showId: cur.show.showId }));
        if (!entered.ok && entered.code !== 735) throw new Error(`show.enter ${cur.show.showId} by ${id}: ${entered.msg}`);
      }
    }
  }

  /**
   * Deadlines that fell due while the server was down fire at start with a real clock; the fake
   * clock fires them when asked to move. Move it by 0 ms and give them a moment (a minute billed
   * late, a charge asked again), as the first clients would find it after a real restart.
   */
  private async restarted(srv: ServerProcess): Promise<void> {
    // Recovered actors re-arm their deadlines (at 0 ms when overdue) as they come back: move by 0 a few times.
    for (let i = 0; i < 8; i++) {
      await srv.advance(0);
      await sleep(15);
    }
  }

  /** The public room: still open after a restart (its host reconnected within the grace), or a new one. */
  private async enterRoom(ctx: Ctx): Promise<void> {
    const { clients } = ctx;
    const host = clients.get(ROOM_HOST)!;
    if (ctx.roomId === undefined) ctx.roomId = (await host.request('room.open', { title: 'soak' })).roomId;
    for (const id of ROOM_VIEWERS) {
      const viewer = clients.get(id)!;
      const entered = await attempt(viewer.request('room.enter', { roomId: ctx.roomId }));
      if (!entered.ok && entered.code === 731) {
        ctx.report.notes.push(`room ${ctx.roomId} was closed after the restart; opening another`);
        ctx.roomId = (await host.request('room.open', { title: 'soak' })).roomId;
        await viewer.request('room.enter', { roomId: ctx.roomId });
      } else if (!entered.ok) throw new Error(`room.enter ${ctx.roomId}: ${entered.msg}`);
    }
  }

  private noteShow(view: { showId: number; host: { userId: number }; viewer: { userId: number }; startedAt: number | null; closesAt: number | null }): void {
    let show = this.shows.get(view.showId);
    if (!show) this.shows.set(view.showId, (show = { showId: view.showId, hostId: view.host.userId, viewerId: view.viewer.userId }));
    if (view.startedAt !== null) show.startedAt = view.startedAt;
    if (view.closesAt !== null) show.closesAt = view.closesAt;
  }

  /**
   * After the restart: every key whose reply was lost in the last round is sent again with the
   * same parameters, and a sample of answered ones: the same first reply must come back.
   */
  private async resend(ctx: Ctx, R: Rng): Promise<void> {
    const lost = [...this.sends.values()].filter((s) => s.unknownRound === ctx.round - 1);
    const answered = [...this.sends.values()].filter((s) => s.state === 'present' && s.unknownRound !== ctx.round - 1 && R.chance(0.02)).slice(0, 25);
    const refused = [...this.sends.values()].filter((s) => s.state === 'absent' && s.unknownRound === undefined && R.chance(0.05)).slice(0, 5);
    const byUser = new Map<number, SendRecord[]>();
    for (const s of [...lost, ...answered, ...refused]) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    await Promise.all(
      [...byUser].map(async ([userId, list]) => {
        const client = ctx.clients.get(userId)!;
        await Promise.all(list.map((s) => this.sendGift(ctx, client, s.userId, s.params, true)));
      }),
    );
  }

  /** A request of the load: not sent once the server is known dead (it would only wait for its timeout). */
  private call<K extends OpName>(ctx: Ctx, client: LiveClient, op: K, d: RequestOf<Ops[K]>): Promise<Outcome<ReplyOf<Ops[K]>>> {
    if (!ctx.alive || client.closed) return Promise.resolve({ ok: false, code: undefined, msg: 'not sent: the server is down' });
    return attempt(client.request(op, d));
  }

  /** Sends one gift (or resends a key) and records the outcome. */
  private async sendGift(ctx: Ctx, client: LiveClient, userId: number, params: GiftParams, resend: boolean): Promise<void> {
    if (!ctx.alive || client.closed) return;
    const ledgerKey = `gift:${userId}:k:${params.key}`;
    let rec = this.sends.get(ledgerKey);
    if (!rec) {
      const price = GIFTS.find((g) => g.id === params.giftId)!.price;
      this.sends.set(ledgerKey, (rec = { userId, params, ledgerKey, total: price * params.count, state: 'absent', round: ctx.round }));
    }
    const { report } = ctx;
    const wasPresent = rec.state === 'present';
    report.sent++;
    if (resend) report.resent++;
    const d: Record<string, unknown> = { giftId: params.giftId, count: params.count, key: params.key };
    if (params.roomId !== undefined) d.roomId = params.roomId;
    if (params.showId !== undefined) d.showId = params.showId;
    if (params.comboId !== undefined) d.comboId = params.comboId;
    const pending = attempt(client.request('gift.send', d as never) as Promise<GiftReply>);
    ctx.onSend();
    const out = await pending;
    if (out.ok) {
      report.acked++;
      const reply = out.d;
      if (rec.reply) {
        if (!isDeepStrictEqual(reply, rec.reply)) {
          report.violations.push(`gift ${ledgerKey} sent again: reply ${JSON.stringify(reply)}, but the first reply (${rec.replyFrom === 'ack' ? 'as acknowledged' : 'as the ledger holds it'}) was ${JSON.stringify(rec.reply)}`);
        } else if (wasPresent) report.replayedSame++;
      } else {
        rec.reply = reply;
        rec.replyFrom = 'ack';
      }
      rec.state = 'present';
      ctx.onAck();
      return;
    }
    if (out.code === undefined || !(out.code === 740 || out.code === 753 || NOT_HANDLED.has(out.code))) {
      // No answer (the connection died with the server) or one that does not say whether it was done.
      report.unknown++;
      if (rec.state !== 'present') rec.state = 'maybe';
      rec.unknownRound = ctx.round;
      if (out.code !== undefined) report.notes.push(`gift ${ledgerKey}: code ${out.code} ${out.msg}`);
      return;
    }
    report.refused++;
    report.refusedCodes[out.code] = (report.refusedCodes[out.code] ?? 0) + 1;
    if (out.code === 753) {
      report.violations.push(`gift ${ledgerKey} resent with its own parameters was refused 753 (key reused): ${out.msg}`);
    } else if (out.code === 740) {
      // The ledger looks the key up before it looks at the balance: a 740 means the key is not stored.
      if (rec.state === 'present') report.violations.push(`gift ${ledgerKey} is committed (${JSON.stringify(rec.reply)}) but its resend was refused 740 instead of replayed`);
      else rec.state = 'absent';
    } else if (wasPresent && resend) {
      report.replayRefused++;
    }
  }

  private async roomSender(ctx: Ctx, userId: number, W: Rng): Promise<void> {
    const client = ctx.clients.get(userId)!;
    let n = 0;
    while (ctx.alive) {
      const burst = userId === POOR ? W.int(1, 4) : W.int(1, 16);
      const sends: Promise<void>[] = [];
      for (let i = 0; i < burst && ctx.alive; i++) {
        const gift = userId === POOR ? W.pick([GIFTS[0], GIFTS[1], GIFTS[1]]) : W.pick(GIFTS);
        const params: GiftParams = { giftId: gift.id, count: W.chance(0.8) ? 1 : W.int(2, 20), roomId: ctx.roomId!, key: `s${this.opts.seed}r${ctx.round}u${userId}n${++n}` };
        if (W.chance(0.4)) params.comboId = `r${ctx.round}u${userId}g${gift.id}`;
        sends.push(this.sendGift(ctx, client, userId, params, false));
        // Now and then the same key twice in a row (a client retrying at once).
        if (W.chance(0.05) && ctx.alive) sends.push(this.sendGift(ctx, client, userId, params, true));
      }
      if (W.chance(0.6)) await Promise.all(sends);
      // The poor viewer sends less often: most of its sends are refused (740).
      await sleep(userId === POOR ? W.int(30, 120) : W.int(0, 15));
    }
  }

  /** A pair's private show: created when there is none, gifts inside it, closed now and then (countdown or at once). */
  private async showDriver(ctx: Ctx, pair: (typeof PAIRS)[number], W: Rng): Promise<void> {
    const host = ctx.clients.get(pair.host)!;
    const viewer = ctx.clients.get(pair.viewer)!;
    let n = 0;
    while (ctx.alive) {
      await sleep(W.int(5, 40));
      if (!ctx.alive) break;
      const showId = ctx.showOf.get(pair.host);
      if (showId === undefined) {
        let inv = await this.call(ctx, viewer, 'invite.send', { userId: pair.host });
        if (!inv.ok && inv.code === 744) {
          // An invitation sent before the crash is still pending: that one is accepted.
          const list = await this.call(ctx, viewer, 'invite.list', { page: 1, pageSize: 100 });
          const pending = list.ok ? list.d.invites.find((i) => i.to.userId === pair.host) : undefined;
          if (pending) inv = { ok: true, d: pending };
        }
        if (!inv.ok) {
          // 740: the viewer cannot pay a minute (a top-up comes later); 739/744: a show or invitation in the way.
          if (inv.code === 739) {
            const cur = await this.call(ctx, viewer, 'show.current', {});
            if (cur.ok && cur.d.show) {
              this.noteShow(cur.d.show);
              ctx.showOf.set(pair.host, cur.d.show.showId);
            }
          }
          await sleep(W.int(20, 80));
          continue;
        }
        const acc = await this.call(ctx, host, 'invite.accept', { inviteId: inv.d.inviteId });
        if (!acc.ok) continue;
        ctx.onAccept();
        this.noteShow(acc.d);
        ctx.showOf.set(pair.host, acc.d.showId);
        for (const c of [host, viewer]) {
          const entered = await this.call(ctx, c, 'show.enter', { showId: acc.d.showId });
          if (entered.ok) this.noteShow(entered.d);
        }
        continue;
      }
      const roll = W.next();
      if (roll < 0.01) await this.call(ctx, host, 'show.close', { showId, countdownSec: W.int(5, 150) });
      else if (roll < 0.015) await this.call(ctx, viewer, 'show.close', { showId });
      else if (roll < 0.018) await this.call(ctx, host, 'show.close', { showId });
      else if (roll < 0.12) {
        const params: GiftParams = { giftId: GIFTS[0].id, count: W.int(1, 3), showId, key: `s${this.opts.seed}r${ctx.round}u${pair.viewer}n${++n}` };
        await this.sendGift(ctx, viewer, pair.viewer, params, false);
      }
    }
  }

  /** Moves the server's fake clock: billing minutes, countdowns and retries come due. */
  private async clockDriver(ctx: Ctx, advance: (ms: number) => Promise<void>, W: Rng): Promise<void> {
    while (ctx.alive) {
      await sleep(W.int(3, 25));
      if (!ctx.alive) break;
      const step = W.chance(0.7) ? W.int(200, 3_000) : W.int(3_000, 9_000);
      // A step stops at the next minute boundary or closing time of a show on now, so each comes
      // due on its own, as with a real clock: one step past both would be a stall of that length.
      const now = this.clockSent;
      let stop = now + step;
      for (const show of this.shows.values()) {
        if (ctx.showOf.get(show.hostId) !== show.showId || show.startedAt === undefined) continue;
        const next = show.startedAt + (Math.floor((now - show.startedAt) / MINUTE) + 1) * MINUTE;
        if (next > now) stop = Math.min(stop, next);
        if (show.closesAt !== undefined && show.closesAt > now) stop = Math.min(stop, show.closesAt);
      }
      await advance(stop - now);
    }
  }

  /** The show viewers' top-ups arrive during the load (some are cut by the kill). */
  private async topupDriver(ctx: Ctx, W: Rng): Promise<void> {
    for (const pair of PAIRS) {
      await sleep(W.int(0, 600));
      if (!ctx.alive) return;
      const amount = W.int(0, 400);
      if (amount > 0) await this.topup(ctx, pair.viewer, `r${ctx.round}-u${pair.viewer}`, amount);
    }
  }

  // ------------------------------------------------------------ the checks

  /** Where fake time `at` fell: in which round's run, or in the downtime between two. */
  private when(at: number): string {
    // The latest: with no downtime one round's end is the next one's start, and what happens there happened after the restart.
    const inside = [...this.spans].reverse().find((s) => at >= s.from && at <= s.to);
    if (inside) return `round ${inside.round}${at === inside.from ? ', at its start' : ''}`;
    const next = this.spans.findIndex((s) => at < s.from);
    const span = this.spans[next];
    if (!span) return 'after the last round';
    const prev = this.spans[next - 1];
    return prev ? `server down between rounds ${prev.round} and ${span.round} (${prev.to}..${span.from})` : `before round ${span.round}`;
  }

  private check(report: RoundReport, settled: boolean): void {
    const v = (msg: string) => {
      if (this.reported.has(msg)) return;
      this.reported.add(msg);
      report.violations.push(msg);
    };
    const owed = (msg: string) => {
      if (this.reported.has(msg)) return;
      this.reported.add(msg);
      report.unsettled.push(msg);
    };
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      const audit = auditLedger(db);
      for (const x of audit.violations) v(`audit: ${x}`);
      report.transfers = audit.transfers;

      interface Row { id: number; key: string; kind: string; ref: string | null; at: number; result: string }
      const rows = db.prepare('SELECT id, key, kind, ref, at, result FROM ledger_transfers').all() as Row[];
      const byKey = new Map<string, Row>();
      for (const row of rows) {
        if (byKey.has(row.key)) v(`key ${row.key} stored twice (transfers ${byKey.get(row.key)!.id} and ${row.id})`);
        byKey.set(row.key, row);
      }
      const legs = new Map<number, Map<string, number>>();
      for (const e of db.prepare('SELECT transfer_id AS id, account, delta FROM ledger_entries').all() as Array<{ id: number; account: string; delta: number }>) {
        let m = legs.get(e.id);
        if (!m) legs.set(e.id, (m = new Map()));
        m.set(e.account, e.delta);
      }
      const accounts = new Map((db.prepare('SELECT account, balance FROM ledger_accounts').all() as Array<{ account: string; balance: number }>).map((a) => [a.account, a.balance]));
      const resultOf = (row: Row) => JSON.parse(row.result) as { balances: Record<string, number>; meta: Record<string, string | number>; note: Record<string, string | number | null> };

      // Gifts.
      const cut = (total: number) => Math.floor((total * HOUSE_CUT_PCT) / 100);
      for (const rec of this.sends.values()) {
        const row = byKey.get(rec.ledgerKey);
        const wasMaybe = rec.state === 'maybe';
        if (!row) {
          if (rec.state === 'present') v(`gift ${rec.ledgerKey} was acknowledged (${JSON.stringify(rec.reply)}) but is not in the ledger`);
          if (wasMaybe) rec.state = 'absent';
          continue;
        }
        if (rec.state === 'absent') v(`gift ${rec.ledgerKey} was refused (740) or never carried out, but the ledger holds it as transfer ${row.id}`);
        const res = resultOf(row);
        const p = rec.params;
        const to = p.roomId !== undefined ? `room:${p.roomId}` : `show:${p.showId}`;
        const fromLedger: GiftReply = {
          transferId: row.id,
          credits: res.balances[`user:${rec.userId}`]!,
          comboId: p.comboId ?? null,
          streak: Number(res.note.streak),
          streakCount: Number(res.note.streakCount),
        };
        if (row.kind !== 'gift' || row.ref !== to || res.meta.giftId !== p.giftId || res.meta.count !== p.count || res.meta.comboId !== (p.comboId ?? '')) {
          v(`gift ${rec.ledgerKey}: the ledger's transfer ${row.id} is not the gift sent: ${row.kind} ${row.ref} ${JSON.stringify(res.meta)} vs ${JSON.stringify(p)}`);
        }
        const l = legs.get(row.id);
        if (l?.get(`user:${rec.userId}`) !== -rec.total || (l.get('house') ?? 0) !== cut(rec.total)) {
          v(`gift ${rec.ledgerKey}: transfer ${row.id} moved ${JSON.stringify(Object.fromEntries(l ?? []))}, expected ${-rec.total} from the sender and ${cut(rec.total)} to the house`);
        }
        if (rec.reply && !isDeepStrictEqual(rec.reply, fromLedger)) {
          v(`gift ${rec.ledgerKey}: acknowledged as ${JSON.stringify(rec.reply)}, the ledger holds ${JSON.stringify(fromLedger)}`);
        }
        if (!rec.reply) {
          rec.reply = fromLedger;
          rec.replyFrom = 'ledger';
        }
        if (wasMaybe) report.unknownCommitted++;
        rec.state = 'present';
      }
      const giftRows = rows.filter((r) => r.kind === 'gift');
      report.giftTransfers = giftRows.length;
      for (const row of giftRows) if (!this.sends.has(row.key)) v(`gift transfer ${row.id} (${row.key}) was never sent by the soak`);

      // Top-ups.
      for (const t of this.topups.values()) {
        const row = byKey.get(`topup:${t.orderId}`);
        if (!row) {
          if (t.state === 'present') v(`top-up ${t.orderId} was acknowledged (${JSON.stringify(t.receipt)}) but is not in the ledger`);
          t.state = 'absent';
          continue;
        }
        if (legs.get(row.id)?.get(`user:${t.userId}`) !== t.amount) v(`top-up ${t.orderId}: transfer ${row.id} does not credit ${t.amount} to user ${t.userId}`);
        const stored = { transferId: row.id, credits: resultOf(row).balances[`user:${t.userId}`]!, at: row.at };
        if (t.receipt && !isDeepStrictEqual(t.receipt, stored)) v(`top-up ${t.orderId}: acknowledged as ${JSON.stringify(t.receipt)}, the ledger holds ${JSON.stringify(stored)}`);
        if (!t.receipt) t.receipt = stored;
        t.state = 'present';
      }

      // Private shows and their minutes.
      interface ShowRow { id: number; host_id: number; viewer_id: number; started_at: number | null; ended_at: number | null; end_reason: string | null }
      const showRows = db.prepare('SELECT id, host_id, viewer_id, started_at, ended_at, end_reason FROM shows ORDER BY id').all() as ShowRow[];
      report.shows = showRows.length;
      const billing = new Map<number, { hold?: Row; release?: Row; minutes: Map<number, Row> }>();
      const of = (id: number) => {
        let b = billing.get(id);
        if (!b) billing.set(id, (b = { minutes: new Map() }));
        return b;
      };
      let minutesBilled = 0;
      for (const row of rows) {
        let m: RegExpExecArray | null;
        if ((m = /^bill:show:(\d+):(\d+)$/.exec(row.key))) {
          const minute = Number(m[2]);
          of(Number(m[1])).minutes.set(minute, row);
          minutesBilled++;
          if (resultOf(row).meta.minute !== minute || row.kind !== 'bill' || row.ref !== `show:${m[1]}`) v(`transfer ${row.id} ${row.key} is not minute ${minute} of show ${m[1]}: ${row.kind} ${row.ref} ${row.result}`);
        } else if ((m = /^hold:show:(\d+)$/.exec(row.key))) of(Number(m[1])).hold = row;
        else if ((m = /^release:show:(\d+)$/.exec(row.key))) of(Number(m[1])).release = row;
        else if (row.kind === 'bill' || row.kind === 'hold' || row.kind === 'release') v(`a ${row.kind} transfer under an unexpected key: ${row.key}`);
      }
      report.minutesBilled = minutesBilled;
      const bills = db.prepare("SELECT ref, json_extract(result, '$.meta.minute') AS minute, count(*) AS n FROM ledger_transfers WHERE kind = 'bill' GROUP BY ref, minute HAVING count(*) > 1").all();
      for (const dup of bills) v(`a minute billed twice: ${JSON.stringify(dup)}`);
      const split = { cut: Math.floor((PRICE_PER_MIN * HOUSE_CUT_PCT) / 100), rebate: Math.min(Math.floor((PRICE_PER_MIN * HOUSE_CUT_PCT) / 100), Math.floor((PRICE_PER_MIN * REBATE_PCT) / 100)) };
      const startedBefore = (start: number, end: number) => (end <= start ? 0 : Math.ceil((end - start) / MINUTE));
      // A minute that starts at the very millisecond the show ends may go either way (which of the two came first).
      const tie = (start: number, end: number) => (end > start && (end - start) % MINUTE === 0 ? 1 : 0);
      const known = new Set(showRows.map((s) => s.id));
      for (const id of billing.keys()) if (!known.has(id)) v(`charges for show ${id}, which the shows table does not have`);
      for (const s of showRows) {
        const b = billing.get(s.id) ?? { minutes: new Map<number, Row>() };
        const k = b.minutes.size;
        const closesAt = this.shows.get(s.id)?.closesAt;
        const timeline = [
          s.started_at !== null ? `started ${s.started_at} (${this.when(s.started_at)})` : 'never started',
          closesAt !== undefined ? `closing countdown to ${closesAt} (${this.when(closesAt)})` : '',
          s.ended_at !== null ? `ended ${s.ended_at} ${s.end_reason} (${this.when(s.ended_at)})` : 'not ended',
        ].filter(Boolean).join(', ');
        const what = `show ${s.id} (host ${s.host_id}, viewer ${s.viewer_id}; ${timeline})`;
        for (let m = 1; m <= k; m++) if (!b.minutes.has(m)) v(`${what}: minutes billed ${[...b.minutes.keys()].sort((x, y) => x - y).join(',')}: minute ${m} missing`);
        if (k > 0 && !b.hold) v(`${what}: ${k} minutes billed without a hold`);
        if (b.release && b.minutes.has(1)) v(`${what}: the hold was released and paid minute 1`);
        const hold = accounts.get(`hold:show:${s.id}`) ?? 0;
        if (hold < 0 || hold > PRICE_PER_MIN) v(`${what}: its hold account has ${hold}`);
        for (const [m, row] of b.minutes) {
          const l = legs.get(row.id);
          const payer = m === 1 ? `hold:show:${s.id}` : `user:${s.viewer_id}`;
          const paid = m === 1 ? -PRICE_PER_MIN : -PRICE_PER_MIN + split.rebate;
          if (l?.get(payer) !== paid || l.get(`user:${s.host_id}`) !== PRICE_PER_MIN - split.cut) v(`${what}: minute ${m} (transfer ${row.id}) moved ${JSON.stringify(Object.fromEntries(l ?? []))}`);
        }
        if (!settled && s.ended_at === null && !b.hold) report.notes.push(`${what}: no hold committed when the server died`);
        if (s.started_at === null) {
          if (k > 0) v(`${what}: never started, yet ${k} minutes billed`);
        } else if (s.ended_at === null) {
          const upTo = Math.floor((this.clockSent - s.started_at) / MINUTE) + 1;
          if (k > upTo) v(`${what}: ${k} minutes billed, only ${upTo} had started by ${this.clockSent}`);
        } else {
          const started = startedBefore(s.started_at, s.ended_at) + tie(s.started_at, s.ended_at);
          if (k > started) v(`${what}: ${k} minutes billed, only ${started} had started by its end`);
        }
        if (!settled) continue;
        // The settled books: every show over, no credits held, each billed for the minutes started before its end.
        if (s.ended_at === null) v(`${what}: still on after the settle round`);
        const holdInfo = `hold ${b.hold ? `transfer ${b.hold.id} at ${b.hold.at} (${this.when(b.hold.at)})` : 'none'}, release ${b.release ? `transfer ${b.release.id} at ${b.release.at}` : 'none'}`;
        if (hold !== 0) owed(`${what}: ${hold} credits still held after the settle round; ${holdInfo}`);
        if (s.started_at !== null && s.ended_at !== null) {
          const end = s.end_reason === 'countdown' && closesAt !== undefined ? Math.min(s.ended_at, closesAt) : s.ended_at;
          const due = startedBefore(s.started_at, end);
          const late = end < s.ended_at ? ` (recorded as ended ${s.ended_at - end} ms after its countdown ran out)` : '';
          const billed = [...b.minutes.values()].map((row) => `${resultOf(row).meta.minute}@${row.at}`).join(' ');
          if (k > due + tie(s.started_at, end)) v(`${what}: ${k} minutes billed (${billed}), only ${due} started before its end${late}`);
          else if (s.end_reason !== 'no_credit' && k < due) owed(`${what}: ${k} minutes billed (${billed || 'none'}), ${due} started before its end${late}`);
        }
      }
      if (settled && audit.held !== 0 && report.unsettled.length === 0) owed(`${audit.held} credits still held after the settle round`);
      this.stored = new Map([...accounts].filter(([a]) => a.startsWith('user:')));
    } finally {
      db.close();
    }
    for (const rec of this.sends.values()) if (rec.state === 'maybe') v(`gift ${rec.ledgerKey} left undecided`);
  }
}

const debug = (line: string) => {
  if (process.env.SOAK_DEBUG) console.log(line);
};

function tail(out: string, lines = 30): string {
  return out.split('\n').slice(-lines).join('\n');
}

export function formatRound(r: RoundReport): string {
  const codes = Object.entries(r.refusedCodes).map(([c, n]) => `${c}×${n}`).join(' ');
  const head = r.kind === 'settle' ? `settle   ` : `round ${String(r.round).padStart(3)}`;
  return (
    `${head} ${r.kind === 'settle' ? 'clean stop' : `kill -9 ${r.kill}, ${r.killedAfterMs} ms into the load`}; clock +${Math.round(r.clockMs / 1000)} s` +
    ` (down ${Math.round(r.downtimeMs / 1000)} s) | sends ${r.sent}: ok ${r.acked}, refused ${r.refused}${codes ? ` (${codes})` : ''}, no reply ${r.unknown} (committed ${r.unknownCommitted})` +
    ` | resent ${r.resent}, same reply ${r.replayedSame} | ledger: ${r.transfers} transfers, ${r.giftTransfers} gifts, ${r.minutesBilled} minutes over ${r.shows} shows` +
    ` | ${r.violations.length ? `VIOLATIONS ${r.violations.length}` : 'ok'}${r.unsettled.length ? `, UNSETTLED ${r.unsettled.length}` : ''} | ${(r.realMs / 1000).toFixed(1)} s`
  );
}

export function formatSummary(s: SoakSummary): string {
  return (
    `money soak: ${s.rounds} crash rounds + settle, seed ${s.seed}, ${(s.realMs / 1000).toFixed(0)} s: ` +
    `gift sends ${s.sent} (ok ${s.acked}, refused ${s.refused}, no reply ${s.unknown} of which committed ${s.unknownCommitted}), ` +
    `resent ${s.resent} (same first reply ${s.replayedSame}, refused before the ledger ${s.replayRefused}); ` +
    `ledger ${s.transfers} transfers (${s.giftTransfers} gifts), ${s.minutesBilled} minutes billed over ${s.shows} shows; ` +
    `violations ${s.violations.length}, unsettled ${s.unsettled.length}`
  );
}
