import { timingSafeEqual } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ProtocolError, toWireError } from '../protocol/errors.js';
import { bearerToken } from './auth.js';
import { refuse, sendJson } from './http.js';
import type { RoomService } from './rooms.js';

/**
 * Server-to-server API for the app backend (F11), under /admin, with a
 * static bearer token (LIVE_ADMIN_TOKEN). JSON in, JSON out, the same
 * {code, msg} errors as the WebSocket protocol.
 */
const MAX_BODY = 16 * 1024;

const Notice = Type.Object(
  { kind: Type.Union([Type.Literal('system'), Type.Literal('toast')]), text: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);
const noticeCheck = TypeCompiler.Compile(Notice);

export interface AdminDeps {
  token: string;
  logger: Logger;
  rooms: RoomService;
}

export function mountAdminRoutes(app: TemplatedApp, deps: AdminDeps): void {
  /** A POST route on one room: `check` validates the JSON body (null: no body). */
  const route = (path: string, check: TypeCheck<TSchema> | null, run: (roomId: number, body: unknown) => Promise<unknown>) =>
    app.post(path, (res, req) => {
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
          if (check && !check.Check(body)) return aborted || refuse(res, 400, 'BAD_PARAMETER');
          // JSON can carry lone surrogates ("\ud800") that no UTF-8 frame could: refuse them here.
          if (!wellFormed(body)) return aborted || refuse(res, 400, 'BAD_PARAMETER', 'strings must be valid Unicode (no lone surrogates)');
          try {
            const out = await run(roomIdOf(param), body);
            deps.logger.info({ path, roomId: param }, 'admin call');
            if (!aborted) sendJson(res, 200, out ?? {});
          } catch (err) {
            if (!(err instanceof ProtocolError)) deps.logger.error({ err, path }, 'admin call failed');
            if (aborted) return;
            const name = err instanceof ProtocolError ? err.errorName : 'INTERNAL';
            if (name === 'BUSY') return refuse(res, 503, 'BUSY', (err as Error).message.split(': ')[1]);
            sendJson(res, name === 'INVALID_ROOM' ? 404 : 500, toWireError(err));
          }
        },
        () => aborted || refuse(res, 413, 'BAD_PARAMETER', `body over ${MAX_BODY} bytes`),
      );
    });

  route('/admin/rooms/:id/notice', noticeCheck, (roomId, body) => {
    const { kind, text } = body as Static<typeof Notice>;
    return deps.rooms.ask(roomId, { t: 'notice', kind, text });
  });
  route('/admin/rooms/:id/close', null, (roomId) => deps.rooms.ask(roomId, { t: 'admin-close' }));
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
