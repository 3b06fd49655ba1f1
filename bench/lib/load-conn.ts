/**
 * A cheap load connection for open-loop benches (bench/overload.ts): a raw
 * `ws` socket per user, requests sent from pre-encoded templates and replies
 * read without decoding them. Per request nothing is allocated here but the
 * frame `ws` builds: no promise, no timer, no Map entry, no Error for a
 * refusal (the caller keeps in-flight requests in typed arrays, see
 * load-engine.ts).
 *
 * - Templates: each request kind is encoded once with the project's codec
 *   (src/protocol/codec.ts) as `{op, d, id}` with a placeholder id written as
 *   a uint32, so sending patches the last 4 bytes with the real id (`ws`
 *   masks a Buffer into a new frame synchronously, the template can be reused
 *   at once).
 * - Replies: readReply() walks the MessagePack map for `re`, `ok` and
 *   `err.code` only, skipping `d` without building it; a frame it cannot read
 *   is decoded with the codec instead.
 */
import WebSocket from 'ws';
import { decode, encode } from '../../src/protocol/codec.js';

/** What readReply() read: the last reply's id (`re`), `ok` and, for an error, `err.code` (0 when absent). */
export const reply = { re: 0, ok: false, code: 0 };

let pos = 0;

function readUint(b: Buffer, p: number): number {
  const h = b[p]!;
  if (h < 0x80) return (pos = p + 1), h;
  if (h >= 0xe0) return (pos = p + 1), h - 0x100;
  switch (h) {
    case 0xcc: return (pos = p + 2), b[p + 1]!;
    case 0xcd: return (pos = p + 3), b.readUInt16BE(p + 1);
    case 0xce: return (pos = p + 5), b.readUInt32BE(p + 1);
    case 0xcf: return (pos = p + 9), Number(b.readBigUInt64BE(p + 1));
    case 0xd0: return (pos = p + 2), b.readInt8(p + 1);
    case 0xd1: return (pos = p + 3), b.readInt16BE(p + 1);
    case 0xd2: return (pos = p + 5), b.readInt32BE(p + 1);
    case 0xd3: return (pos = p + 9), Number(b.readBigInt64BE(p + 1));
    default: throw new RangeError(`not an integer: 0x${h.toString(16)}`);
  }
}

/** Skips one MessagePack value at p; returns the position after it. */
function skip(b: Buffer, p: number): number {
  let todo = 1;
  while (todo-- > 0) {
    const h = b[p]!;
    if (h === undefined) throw new RangeError('truncated');
    if (h < 0x80 || h >= 0xe0 || h === 0xc0 || h === 0xc2 || h === 0xc3) p += 1;
    else if (h < 0x90) (todo += 2 * (h & 0x0f)), (p += 1);
    else if (h < 0xa0) (todo += h & 0x0f), (p += 1);
    else if (h < 0xc0) p += 1 + (h & 0x1f);
    else
      switch (h) {
        case 0xc4: case 0xd9: p += 2 + b[p + 1]!; break;
        case 0xc5: case 0xda: p += 3 + b.readUInt16BE(p + 1); break;
        case 0xc6: case 0xdb: p += 5 + b.readUInt32BE(p + 1); break;
        case 0xc7: p += 3 + b[p + 1]!; break;
        case 0xc8: p += 4 + b.readUInt16BE(p + 1); break;
        case 0xc9: p += 6 + b.readUInt32BE(p + 1); break;
        case 0xca: case 0xd2: case 0xce: p += 5; break;
        case 0xcb: case 0xcf: case 0xd3: p += 9; break;
        case 0xcc: case 0xd0: p += 2; break;
        case 0xcd: case 0xd1: p += 3; break;
        case 0xd4: p += 3; break;
        case 0xd5: p += 4; break;
        case 0xd6: p += 6; break;
        case 0xd7: p += 10; break;
        case 0xd8: p += 18; break;
        case 0xdc: todo += b.readUInt16BE(p + 1); p += 3; break;
        case 0xdd: todo += b.readUInt32BE(p + 1); p += 5; break;
        case 0xde: todo += 2 * b.readUInt16BE(p + 1); p += 3; break;
        case 0xdf: todo += 2 * b.readUInt32BE(p + 1); p += 5; break;
        default: throw new RangeError(`bad MessagePack byte 0x${h.toString(16)}`);
      }
  }
  return p;
}

/** Size of the map at p (pos moves past its header), or -1 when p holds no map. */
function mapHeader(b: Buffer, p: number): number {
  const h = b[p]!;
  if (h >= 0x80 && h < 0x90) return (pos = p + 1), h & 0x0f;
  if (h === 0xde) return (pos = p + 3), b.readUInt16BE(p + 1);
  if (h === 0xdf) return (pos = p + 5), b.readUInt32BE(p + 1);
  return -1;
}

/** A short key at p as one number (length and up to 4 bytes) so it compares without a string; pos moves past it. */
function key(b: Buffer, p: number): number {
  const h = b[p]!;
  let len: number;
  if (h >= 0xa0 && h < 0xc0) (len = h & 0x1f), p++;
  else if (h === 0xd9) (len = b[p + 1]!), (p += 2);
  else throw new RangeError('key is not a short string');
  pos = p + len;
  if (len > 4) return -1;
  let k = len;
  for (let i = 0; i < len; i++) k = k * 256 + b[p + i]!;
  return k;
}
const k = (s: string) => [...s].reduce((a, c) => a * 256 + c.charCodeAt(0), s.length);
const K_RE = k('re');
const K_OK = k('ok');
const K_ERR = k('err');
const K_CODE = k('code');
const K_OP = k('op');

/**
 * Reads a reply frame's `re`, `ok` and `err.code` into `reply`. Returns 1 for
 * a reply, 0 for anything else (a push: `op` comes first); throws on a frame
 * it cannot walk (the caller then decodes it with the codec: readReplySlow).
 */
export function readReply(b: Buffer): number {
  let n = mapHeader(b, 0);
  if (n < 0) return 0;
  let p = pos;
  let okSeen = false;
  reply.re = 0;
  reply.ok = false;
  reply.code = 0;
  while (n-- > 0) {
    const kk = key(b, p);
    p = pos;
    if (kk === K_RE) (reply.re = readUint(b, p)), (p = pos);
    else if (kk === K_OK) {
      reply.ok = b[p] === 0xc3;
      okSeen = true;
      p++;
      if (reply.ok && reply.re) return 1; // the rest is `d`: not needed
    } else if (kk === K_ERR) {
      let m = mapHeader(b, p);
      p = m < 0 ? skip(b, p) : pos;
      while (m-- > 0) {
        const ek = key(b, p);
        p = pos;
        if (ek === K_CODE) (reply.code = readUint(b, p)), (p = pos);
        else p = skip(b, p);
      }
    } else if (kk === K_OP) return 0;
    else p = skip(b, p);
  }
  return okSeen && reply.re > 0 ? 1 : 0;
}

/** readReply() through the codec, for a frame the walker refused. */
export function readReplySlow(b: Buffer): number {
  try {
    const f = decode(b) as { re?: unknown; ok?: unknown; err?: { code?: unknown } };
    if (typeof f?.re !== 'number' || typeof f.ok !== 'boolean') return 0;
    reply.re = f.re;
    reply.ok = f.ok;
    reply.code = typeof f.err?.code === 'number' ? f.err.code : 0;
    return 1;
  } catch {
    return 0;
  }
}

const PLACEHOLDER_ID = 0xfffffffe;

/** A request encoded once with the codec, `id` last as a uint32 to patch in place. */
export function template(op: string, d: unknown): Buffer {
  const bytes = Buffer.from(encode({ op, d, id: PLACEHOLDER_ID })); // a copy: msgpackr reuses its buffer
  const n = bytes.length;
  if (bytes[n - 5] !== 0xce || bytes.readUInt32BE(n - 4) !== PLACEHOLDER_ID) throw new Error(`cannot patch the id of a ${op} request`);
  return bytes;
}

export interface LoadConnOptions {
  token: string;
  timeoutMs: number;
  /** Every reply frame (after the welcome): readReply() has filled `reply`. */
  onReply(): void;
  onClose(code: number): void;
}

/** One user's socket. `send(t, id)` sends template t with the given request id. */
export class LoadConn {
  closed: { code: number } | undefined;
  private constructor(readonly ws: WebSocket) {}

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Connects, waits for the welcome (any non-reply frame first), then hands frames to onReply. */
  static connect(url: string, o: LoadConnOptions): Promise<LoadConn> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${o.token}` }, perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    const conn = new LoadConn(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (ws.terminate(), reject(new Error('no welcome from the server'))), o.timeoutMs);
      let welcomed = false;
      ws.on('message', (data: Buffer) => {
        if (welcomed) {
          let r: number;
          try {
            r = readReply(data);
          } catch {
            r = readReplySlow(data);
          }
          if (r === 1) o.onReply();
          return;
        }
        const f = decode(data) as { op?: string };
        if (f?.op !== 'session.welcome') return;
        welcomed = true;
        clearTimeout(timer);
        resolve(conn);
      });
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode }));
        res.resume();
      });
      ws.on('error', (err) => (clearTimeout(timer), reject(err)));
      ws.on('close', (code) => {
        clearTimeout(timer);
        conn.closed = { code };
        if (!welcomed) reject(new Error(`closed before welcome (${code})`));
        else o.onClose(code);
      });
    });
  }

  send(t: Buffer, id: number): void {
    t.writeUInt32BE(id, t.length - 4);
    this.ws.send(t);
  }

  drop(): void {
    this.ws.terminate();
  }
}
