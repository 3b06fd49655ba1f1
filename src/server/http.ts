import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ERRORS, type ErrorName } from '../protocol/errors.js';
import type { Metrics } from './metrics.js';

const STATUS_TEXT: Record<number, string> = { 200: '200 OK', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found', 503: '503 Service Unavailable' };

export function sendJson(res: HttpResponse, status: number, body: unknown): void {
  res.cork(() => {
    res.writeStatus(STATUS_TEXT[status] ?? `${status}`).writeHeader('content-type', 'application/json').end(JSON.stringify(body));
  });
}

/** HTTP refusal with the same `{code, msg}` a WebSocket client would get. */
export function refuse(res: HttpResponse, status: number, name: ErrorName, detail?: string): void {
  const { code, msg } = ERRORS[name];
  sendJson(res, status, { code, msg: detail ? `${msg}: ${detail}` : msg });
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
