import type { HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { ProtocolError, type ErrorName } from '../protocol/errors.js';
import type { Metrics } from './metrics.js';

/** Status lines with their reason phrases (uWS writes the string as given). */
const STATUS_LINE = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
} as const;

export type HttpStatus = keyof typeof STATUS_LINE;

export function sendJson(res: HttpResponse, status: HttpStatus, body: unknown, headers: Record<string, string> = {}): void {
  res.cork(() => {
    res.writeStatus(STATUS_LINE[status]).writeHeader('content-type', 'application/json');
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    res.end(JSON.stringify(body));
  });
}

/** HTTP refusal with the same `{code, msg}` a WebSocket client would get (BUSY also says when to retry). */
export function refuse(res: HttpResponse, status: HttpStatus, name: ErrorName, detail?: string): void {
  const err = new ProtocolError(name, detail).toWire();
  sendJson(res, status, err, err.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) });
}

export function mountHttpRoutes(app: TemplatedApp, deps: { metrics: Metrics; isReady: () => boolean }): void {
  app
    .get('/healthz', (res) => sendJson(res, 200, { status: 'ok' }))
    .get('/readyz', (res) => (deps.isReady() ? sendJson(res, 200, { status: 'ready' }) : refuse(res, 503, 'UNAVAILABLE')))
    .get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void deps.metrics.registry.metrics().then((text) => {
        if (aborted) return;
        res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', deps.metrics.registry.contentType).end(text));
      });
    })
    .any('/*', (res) => sendJson(res, 404, { code: 404, msg: 'not found' }));
}

/** uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT (a const enum in the typings, not exported at runtime). */
const LISTEN_EXCLUSIVE_PORT = 1;
/** uWS accepts (host, port, options, cb); its typings only list (port, options, cb). */
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => TemplatedApp;

/**
 * Listens on host:port exclusively: without it uWS binds with SO_REUSEPORT, and a second server on
 * the same port would silently share the traffic.
 */
export function listenExclusive(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) =>
    (app.listen as unknown as ListenWithOptions)(host, port, LISTEN_EXCLUSIVE_PORT, (socket) =>
      socket ? resolve(socket) : reject(new Error(`cannot listen on ${host}:${port}: the port is in use or not allowed`)),
    ),
  );
}
