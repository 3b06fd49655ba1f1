import { timingSafeEqual } from 'node:crypto';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ADMIN_CALLS, Adjustment, GiftBody, Grant, ItemBody, Payment, RoomNotice, type AdminCall } from '../protocol/admin-api.js';
import type { BackpackItemStore, ItemKind } from '../storage/backpack-items.js';
import { ProtocolError, toWireError, type ErrorName } from '../protocol/errors.js';
import type { GiftCatalog } from '../storage/gift-catalog.js';
import type { AuditReport } from '../storage/ledger-audit.js';
import type { OutboxBacklog } from '../storage/outbox.js';
import type { TransferDone } from '../storage/ledger.js';
import { bearerToken } from './auth.js';
import { refuse, sendJson, type HttpStatus } from './http.js';
import type { RoomService } from './rooms.js';
import { bagAccount, itemAccount, type Backpack } from './backpack.js';
import { mountModerationRoutes } from './admin-moderation.js';
import type { Moderation } from './moderation.js';
import { userAccount, type Wallet } from './wallet.js';

/**
 * Server-to-server API for the app backend (F11), under /admin, with a
 * static bearer token (LIVE_ADMIN_TOKEN). JSON in, JSON out, the same
 * {code, msg} errors as the WebSocket protocol.
 */
const MAX_BODY = 16 * 1024;

export interface AdminDeps {
  token: string;
  logger: Logger;
  rooms: RoomService;
  wallet: Wallet;
  catalog: GiftCatalog;
  items: BackpackItemStore;
  backpack: Backpack;
  moderation: Moderation;
  audit: () => AuditReport;
  now: () => number;
  outbox: { backlog(deadLimit: number): OutboxBacklog; retry(id: number): Promise<boolean> };
}

/** Dead items listed by GET /admin/outbox. */
export const OUTBOX_DEAD_LISTED = 20;

type Run = (id: number, body: unknown) => Promise<unknown>;
/** What `:id` names (the log field) and how it is parsed. */
type Target = readonly [field: string, parse: (param: string) => number];
export const ROOM: Target = ['roomId', roomIdOf];
export const USER: Target = ['userId', userIdOf];
const GIFT: Target = ['giftId', (param) => positiveId(param, 'gift id')];
const ITEM: Target = ['itemId', (param) => positiveId(param, 'item id')];
const DELIVERY: Target = ['deliveryId', (param) => positiveId(param, 'outbox item id')];
export const NONE: Target = ['id', () => 0];
/** Adds one admin route (see mountAdminRoutes). */
export type Route = (call: AdminCall, target: Target, run: Run) => void;

/** Body checks, compiled once per call. */
const checks = new Map<AdminCall, TypeCheck<TSchema>>();
function checkOf(call: AdminCall): TypeCheck<TSchema> | null {
  if (!call.body) return null;
  let check = checks.get(call);
  if (!check) checks.set(call, (check = TypeCompiler.Compile(call.body)));
  return check;
}

export function mountAdminRoutes(app: TemplatedApp, deps: AdminDeps): void {
  /**
   * A route on one room or user (`:id`): `check` validates the JSON body (null: no body). Every call is
   * logged with what it was (path, id, the body's fields but the reason text) and how it ended.
   */
  const route: Route = (call, [field, idOf], run) => {
    const { path } = call;
    const check = checkOf(call);
    app[call.method](path, (res, req) => {
      const param = req.getParameter(0) ?? '';
      if (!authorized(req, deps.token)) return refuse(res, deps.token ? 401 : 404, 'PERMISSION_DENIED', deps.token ? 'bad admin token' : 'admin API disabled');
      const contentType = req.getHeader('content-type');
      const contentLength = req.getHeader('content-length');
      // A body, when sent, must be JSON; a call without one may omit the header.
      if ((contentType || (contentLength && contentLength !== '0')) && !isJson(contentType)) {
        return refuse(res, 415, 'BAD_PARAMETER', 'the body must be application/json');
      }
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const hasBody = (contentLength !== '' && contentLength !== '0') || req.getHeader('transfer-encoding') !== '';
      (hasBody ? readBody(res) : Promise.resolve('')).then(
        async (text) => {
          let body: unknown;
          try {
            body = check ? JSON.parse(text || 'null') : undefined;
          } catch {
            return aborted || refuse(res, 400, 'BAD_PARAMETER', 'body is not JSON');
          }
          if (check && !check.Check(body)) return aborted || refuse(res, 400, 'BAD_PARAMETER', firstError(check, body));
          // JSON can carry lone surrogates ("\ud800") that no UTF-8 frame could: refuse them here.
          if (!wellFormed(body)) return aborted || refuse(res, 400, 'BAD_PARAMETER', 'strings must be valid Unicode (no lone surrogates)');
          try {
            const out = await run(idOf(param), body);
            deps.logger.info({ path, [field]: param, ...(body as object) }, 'admin call');
            if (!aborted) sendJson(res, 200, out ?? {});
          } catch (err) {
            if (!(err instanceof ProtocolError)) deps.logger.error({ err, path }, 'admin call failed');
            else deps.logger.info({ path, [field]: param, code: err.code }, 'admin call refused');
            if (aborted) return;
            const name = err instanceof ProtocolError ? err.errorName : 'INTERNAL';
            if (name === 'BUSY') return refuse(res, 503, 'BUSY', (err as Error).message.split(': ')[1]);
            sendJson(res, STATUS_OF[name] ?? 500, toWireError(err));
          }
        },
        () => aborted || refuse(res, 413, 'BAD_PARAMETER', `body over ${MAX_BODY} bytes`),
      );
    });
  };

  route(ADMIN_CALLS.roomNotice, ROOM, (roomId, body) => {
    const { kind, text } = body as Static<typeof RoomNotice>;
    return deps.rooms.ask(roomId, { t: 'notice', kind, text });
  });
  route(ADMIN_CALLS.roomClose, ROOM, (roomId) => deps.rooms.ask(roomId, { t: 'admin-close' }));
  mountModerationRoutes(route, deps);

  const receipt = (done: TransferDone, userId: number) => ({
    transferId: done.transferId,
    credits: done.balances[userAccount(userId)]!,
    replayed: done.replayed,
    at: done.at,
  });
  route(ADMIN_CALLS.topup, USER, async (userId, body) => {
    const { orderId, amount } = body as Static<typeof Payment>;
    return receipt(await deps.wallet.topUp(userId, orderId, amount), userId);
  });
  route(ADMIN_CALLS.withdraw, USER, async (userId, body) => {
    const { orderId, amount } = body as Static<typeof Payment>;
    return receipt(await deps.wallet.withdraw(userId, orderId, amount), userId);
  });
  route(ADMIN_CALLS.adjust, USER, async (userId, body) => {
    const { key, amount, reason } = body as Static<typeof Adjustment>;
    return receipt(await deps.wallet.adjust(userId, key, amount, reason), userId);
  });
  route(ADMIN_CALLS.backpack, USER, async (userId, body) => {
    const { key, giftId, vehicleId, couponId, count, reason } = body as Static<typeof Grant>;
    const named = [giftId, vehicleId, couponId].filter((id) => id !== undefined);
    if (named.length !== 1) throw new ProtocolError('BAD_PARAMETER', '/: exactly one of giftId, vehicleId, couponId');
    let done: TransferDone;
    let account: string;
    if (giftId !== undefined) {
      done = await deps.backpack.grant(userId, giftId, count, `grant:${key}`, 'granted', { reason });
      account = bagAccount(userId, giftId);
    } else {
      const [kind, id]: [ItemKind, number] = vehicleId !== undefined ? ['vehicle', vehicleId] : ['coupon', couponId!];
      done = await deps.backpack.grantItem(userId, kind, id, count, `grant:${key}`, { reason });
      account = itemAccount(userId, kind, id);
    }
    return { transferId: done.transferId, count: done.balances[account]!, replayed: done.replayed, at: done.at };
  });
  route(ADMIN_CALLS.balance, USER, async (userId) => ({ userId, credits: deps.wallet.credits(userId) }));
  route(ADMIN_CALLS.audit, NONE, async () => deps.audit());

  route(ADMIN_CALLS.putGift, GIFT, async (id, body) => {
    const g = body as Static<typeof GiftBody>;
    const gift = await deps.catalog.put({ id, name: g.name, price: g.price, image: g.image, icon: g.icon, type: g.type, sort: g.sort ?? id, active: g.active ?? true, updatedAt: deps.now() });
    return { gift };
  });
  route(ADMIN_CALLS.gifts, NONE, async () => ({ gifts: deps.catalog.all() }));
  const putItem = (kind: ItemKind) => async (id: number, body: unknown) => {
    const b = body as Static<typeof ItemBody>;
    const item = await deps.items.put({ kind, id, name: b.name, image: b.image, animation: b.animation ?? '', sort: b.sort ?? id, active: b.active ?? true, updatedAt: deps.now() });
    return { item };
  };
  route(ADMIN_CALLS.putVehicle, ITEM, putItem('vehicle'));
  route(ADMIN_CALLS.putCoupon, ITEM, putItem('coupon'));
  route(ADMIN_CALLS.items, NONE, async () => ({ items: deps.items.all() }));

  route(ADMIN_CALLS.outbox, NONE, async () => {
    const b = deps.outbox.backlog(OUTBOX_DEAD_LISTED);
    return { ...b, oldestPendingAgeMs: b.oldestPendingAt === null ? null : Math.max(0, deps.now() - b.oldestPendingAt) };
  });
  route(ADMIN_CALLS.outboxRetry, DELIVERY, async (id) => {
    if (!(await deps.outbox.retry(id))) throw new ProtocolError('OUTBOX_ITEM_NOT_FOUND');
    return {};
  });
}

/** HTTP status of a refusal, by error name (anything else: 500). */
const STATUS_OF: Partial<Record<ErrorName, HttpStatus>> = {
  INVALID_ROOM: 404,
  INSUFFICIENT_CREDIT: 409,
  KEY_REUSED: 409,
  GIFT_NOT_FOUND: 404,
  ITEM_NOT_FOUND: 404,
  OUTBOX_ITEM_NOT_FOUND: 404,
  BAD_PARAMETER: 400,
};

function firstError(check: TypeCheck<TSchema>, body: unknown): string {
  const first = check.Errors(body).First();
  return first ? `${first.path || '/'}: ${first.message}` : 'invalid body';
}

function userIdOf(param: string): number {
  return positiveId(param, 'user id');
}

function positiveId(param: string, what: string): number {
  const id = Number(param);
  if (!/^\d{1,15}$/.test(param) || !Number.isSafeInteger(id) || id < 1) throw new ProtocolError('BAD_PARAMETER', `${what} must be a positive integer`);
  return id;
}

function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return (value as string & { isWellFormed(): boolean }).isWellFormed();
  if (typeof value !== 'object' || value === null) return true;
  return Object.values(value).every(wellFormed);
}

/** `application/json`, optionally with parameters (`; charset=utf-8`). */
function isJson(contentType: string): boolean {
  return /^application\/json\s*(;.*)?$/i.test(contentType.trim());
}

function roomIdOf(param: string): number {
  const id = Number(param);
  if (!/^\d{1,15}$/.test(param) || !Number.isSafeInteger(id) || id < 1) throw new ProtocolError('INVALID_ROOM');
  return id;
}

function authorized(req: HttpRequest, token: string): boolean {
  if (!token) return false;
  const given = Buffer.from(bearerToken(req.getHeader('authorization')) ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Collects the request body (copying each chunk: uWS reuses its buffers), up to MAX_BODY. uWS calls onData only when a body comes. */
function readBody(res: HttpResponse): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > MAX_BODY) return reject(new Error('too large'));
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
