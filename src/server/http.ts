import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
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
