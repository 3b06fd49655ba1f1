import WebSocket from 'ws';
import { decode, encode } from '../protocol/codec.js';
import type { PushDataOf, ReplyOf, RequestOf } from '../protocol/define.js';
import type { WireError } from '../protocol/errors.js';
import type { OpName, Ops, PushName, Pushes } from '../protocol/ops/index.js';

/**
 * Typed client of the live room server: connect with a token, request → a
 * promise of the reply, push subscription, and resume after a dropped
 * connection. Tests and bench use it; it also documents the protocol by example.
 */
export type Welcome = PushDataOf<Pushes['session.welcome']>;

export class ServerError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    /** With 908 BUSY: wait at least this long (plus jitter) before retrying. */
    readonly retryAfterMs?: number,
  ) {
    super(msg);
  }
}

export interface ConnectOptions {
  token: string;
  /** Resume this session, asking for the pushes after `lastSeq` (and the room pushes after `roomSeq`). */
  resume?: { sessionId: string; lastSeq: number; roomSeq?: number };
  /** Send the token as `?token=` instead of the Authorization header. */
  tokenInQuery?: boolean;
  /** Reconnect and resume by itself after an unexpected close. */
  autoResume?: boolean;
  requestTimeoutMs?: number;
  /** Local (source) address to connect from, e.g. `127.0.0.2` (load tests spread clients over several to get more ephemeral ports). */
  localAddress?: string;
}

type PushHandler = (d: unknown, seq: number | undefined) => void;

interface Pending {
  resolve(d: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class LiveClient {
  private ws!: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Set<PushHandler>>();
  private closedByUser = false;
  /** Seq of the newest session push received; sent back on resume. */
  lastSeq = 0;
  /** The newest room push received (channel and its seq); sent back on resume. */
  roomSeq: { ch: string; seq: number } | undefined;
  welcome!: Welcome;
  /** Close code and reason of the last close. */
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: Array<(c: { code: number; reason: string }) => void> = [];

  private constructor(
    private readonly url: string,
    private readonly opts: ConnectOptions,
  ) {}

  /** Connects and waits for the welcome. */
  static async connect(url: string, opts: ConnectOptions): Promise<LiveClient> {
    const client = LiveClient.create(url, opts);
    await client.start();
    return client;
  }

  /** A client not yet connected, so push handlers can be attached before the first frame. */
  static create(url: string, opts: ConnectOptions): LiveClient {
    return new LiveClient(url, opts);
  }

  start(): Promise<void> {
    return this.open(this.opts.resume);
  }

  get sessionId(): string {
    return this.welcome.sessionId;
  }

  request<K extends OpName>(op: K, d: RequestOf<Ops[K]>): Promise<ReplyOf<Ops[K]>> {
    return this.requestRaw(op, d) as Promise<ReplyOf<Ops[K]>>;
  }

  /** Sends any envelope as given (tests use it for wrong shapes). */
  requestRaw(op: string, d: unknown, id = this.nextId++): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${op} timed out`));
      }, this.opts.requestTimeoutMs ?? 10_000);
      this.pending.set(id, { resolve, reject, timer });
      // An absent `d` means {}; nil would be refused (700).
      this.sendBytes(encode(d === undefined ? { op, id } : { op, id, d }));
    });
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  on<K extends PushName>(op: K, handler: (d: PushDataOf<Pushes[K]>, seq: number | undefined) => void): () => void {
    let set = this.handlers.get(op);
    if (!set) this.handlers.set(op, (set = new Set()));
    set.add(handler as PushHandler);
    return () => set.delete(handler as PushHandler);
  }

  /** Resolves with the next push of this op (rejects after timeoutMs). */
  next<K extends PushName>(op: K, timeoutMs = 10_000): Promise<PushDataOf<Pushes[K]>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (off(), reject(new Error(`no ${op} within ${timeoutMs} ms`))), timeoutMs);
      const off = this.on(op, (d) => {
        clearTimeout(timer);
        off();
        resolve(d);
      });
    });
  }

  /** Resolves when the socket closes, with its close code and reason. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): Promise<{ code: number; reason: string }> {
    this.closedByUser = true;
    this.ws.close(1000);
    return this.whenClosed();
  }

  /** Drops the connection without a close handshake (as a lost network does). */
  drop(): Promise<{ code: number; reason: string }> {
    this.closedByUser = true;
    this.ws.terminate();
    return this.whenClosed();
  }

  private open(resume?: { sessionId: string; lastSeq: number; roomSeq?: number }): Promise<void> {
    const params = new URLSearchParams();
    if (resume) {
      params.set('resume', resume.sessionId);
      params.set('last_seq', String(resume.lastSeq));
      if (resume.roomSeq !== undefined) params.set('room_seq', String(resume.roomSeq));
    }
    if (this.opts.tokenInQuery) params.set('token', this.opts.token);
    const qs = params.toString();
    const headers: Record<string, string> = this.opts.tokenInQuery ? {} : { authorization: `Bearer ${this.opts.token}` };
    this.closed = undefined;
    this.ws = new WebSocket(`${this.url}${qs ? `?${qs}` : ''}`, { headers, ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}) });
    this.ws.binaryType = 'nodebuffer';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        reject(new Error('no welcome from the server'));
      }, this.opts.requestTimeoutMs ?? 10_000);
      // A close before the welcome (refused login, server failure) fails the connect.
      this.ws.once('close', (code, reason) => {
        clearTimeout(timer);
        reject(new ServerError(code, reason.toString() || 'closed before welcome'));
      });
      const onWelcome = this.on('session.welcome', (w) => {
        clearTimeout(timer);
        onWelcome();
        this.welcome = w;
        // The pushes after `lastSeq - replayed` follow right away.
        this.lastSeq = w.lastSeq - w.replayed;
        resolve();
      });
      this.ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => {
          const err = safeJson(body);
          reject(new ServerError(err?.code ?? res.statusCode ?? 0, err?.msg ?? `HTTP ${res.statusCode}`, err?.retryAfterMs));
        });
      });
      this.ws.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      this.ws.on('message', (data) => this.onFrame(data as Buffer));
      this.ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
    });
  }

  private onFrame(bytes: Buffer): void {
    let frame: { re?: number; ok?: boolean; d?: unknown; err?: WireError; op?: string; seq?: number; ch?: string };
    try {
      frame = decode(bytes) as typeof frame;
    } catch (err) {
      // A frame this client cannot read must not throw out of the socket's event handler.
      return this.emit('$bad-frame', { error: (err as Error).message, bytes }, undefined);
    }
    if (typeof frame.re === 'number') {
      const p = this.pending.get(frame.re);
      if (!p) return this.emit('$orphan-reply', frame, undefined);
      this.pending.delete(frame.re);
      clearTimeout(p.timer);
      if (frame.ok) p.resolve(frame.d);
      else p.reject(new ServerError(frame.err?.code ?? 0, frame.err?.msg ?? 'error', frame.err?.retryAfterMs));
      return;
    }
    if (typeof frame.op === 'string') {
      if (typeof frame.seq === 'number') {
        // Room pushes count on their own channel (`ch`), session pushes on the session.
        if (typeof frame.ch === 'string') this.roomSeq = { ch: frame.ch, seq: frame.seq };
        else this.lastSeq = Math.max(this.lastSeq, frame.seq);
      }
      this.emit(frame.op, frame.d, frame.seq);
    }
  }

  private emit(op: string, d: unknown, seq: number | undefined): void {
    for (const h of this.handlers.get(op) ?? []) h(d, seq);
  }

  private onClose(code: number, reason: string): void {
    this.closed = { code, reason };
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection closed (${code})`));
    }
    this.pending.clear();
    this.closeWaiters.splice(0).forEach((w) => w({ code, reason }));
    const final = code === 4042 || code === 1008;
    if (this.opts.autoResume && !this.closedByUser && !final && this.welcome) {
      const resume = { sessionId: this.welcome.sessionId, lastSeq: this.lastSeq, ...(this.roomSeq ? { roomSeq: this.roomSeq.seq } : {}) };
      setTimeout(() => void this.open(resume).catch(() => {}), 100);
    }
  }
}

function safeJson(text: string): { code?: number; msg?: string; retryAfterMs?: number } | undefined {
  try {
    return JSON.parse(text) as { code?: number; msg?: string; retryAfterMs?: number };
  } catch {
    return undefined;
  }
}
