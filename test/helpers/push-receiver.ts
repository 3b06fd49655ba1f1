import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PushDelivery } from '../../src/server/push-outbox.js';
import { waitFor } from './server.js';

/** One request the receiver got; `answer` sends its status once (`answered` 0: the client had gone, nobody heard it). */
export interface ReceivedPush {
  body: PushDelivery;
  headers: IncomingHttpHeaders;
  answered: number | null;
  /** The client went away (timed out) before an answer. */
  gone: boolean;
  answer(status: number): void;
}

/** What to do with a request: answer at once with a status, or hold it until the test answers. */
export type ReceiverRule = (push: PushDelivery) => number | 'hold';

/**
 * A real local push gateway (node:http on port 0) whose behaviour each test
 * sets per request: fail (5xx), refuse (4xx), never answer, answer late.
 */
export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  rule: ReceiverRule = () => 200;
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PushDelivery;
      const push: ReceivedPush = { body, headers: req.headers, answered: null, gone: false, answer: (status) => respond(push, res, status) };
      res.on('close', () => {
        if (push.answered === null) push.gone = true;
      });
      this.received.push(push);
      const what = this.rule(body);
      if (what !== 'hold') push.answer(what);
    });
  });

  static async start(): Promise<PushReceiver> {
    const r = new PushReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/push`;
  }

  /** Ids in the order they were answered 2xx (what the gateway took). */
  get accepted(): number[] {
    return this.received.filter((p) => p.answered !== null && p.answered >= 200 && p.answered < 300).map((p) => p.body.id);
  }

  of(userId: number): ReceivedPush[] {
    return this.received.filter((p) => p.body.userId === userId);
  }

  async waitForCount(n: number, what = `${n} requests at the receiver`): Promise<ReceivedPush> {
    await waitFor(() => this.received.length >= n, what);
    return this.received[n - 1]!;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function respond(push: ReceivedPush, res: ServerResponse, status: number): void {
  if (push.answered !== null) return;
  const gone = push.gone || !res.socket || res.socket.destroyed;
  push.answered = gone ? 0 : status;
  if (gone) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
}
