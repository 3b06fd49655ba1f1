/**
 * A bench client process of bench/gifts.ts, driven over IPC: holds the hosts,
 * senders and watchers of a slice of the rooms (a room's people all live in
 * one process) and sends gifts closed-loop, `depth` gift.send in flight per
 * sender.
 *
 *   → init (ClientInit)  ← ready     tokens minted, every host opened its room, every sender/watcher entered it
 *   → go                             senders start (combo streaks of one gift, some single sends)
 *   → mark                           the measured window starts (counters reset)
 *   → stop               ← window    the window's figures; senders send nothing new
 *                        ← drained   once every request was answered (or after timeoutMs): totals of the whole run
 *   → quit                           sockets dropped, process exits
 *
 * The hot path avoids the typed client: raw `ws` sockets, requests encoded
 * with the project's codec, replies read with load-conn's readReply() (re,
 * ok, err.code without decoding `d`), pushes counted by their op (the first
 * key of a push frame) without decoding them.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decode, encode } from '../../src/protocol/codec.js';
import { mintToken } from '../../src/server/auth.js';
import { pool, sleep } from './load.js';
import { readReply, readReplySlow, reply } from './load-conn.js';
import { LatHist, type ClientInit, type FromClient, type ToClient, type Totals } from './gifts-stats.js';

const send = (m: FromClient) => process.send!(m);

interface Conn {
  ws: WebSocket;
  /** Setup requests (room.open, room.enter) answered with their decoded `d`. */
  setup: Map<number, { resolve(d: unknown): void; reject(e: Error): void }>;
}

interface Sender {
  conn: Conn;
  userId: number;
  roomId: number;
  inflight: number;
  comboId: string | undefined;
  giftIdx: number;
  left: number;
  streaks: number;
}

let init: ClientInit;
let nextId = 1;
let sending = false;
let measuring = false;
let closing = false;
/** gift.send in flight: request id → sender, send time, credits. */
const pending = new Map<number, { s: Sender; at: number; credits: number }>();
const win = { acks: 0, credits: 0, hist: new LatHist(), pushes: new Map<string, number>(), errors: new Map<string, number>() };
const total: Totals = { acks: 0, credits: 0, errors: {}, unanswered: 0, closed: 0 };
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** The op of a push frame: `op` is the first key the server writes (`{op, d, seq|ch}`). */
function pushOp(b: Buffer): string {
  // fixmap, then the fixstr "op", then the op as a fixstr or str8
  if (b[1] === 0xa2 && b[2] === 0x6f && b[3] === 0x70) {
    const h = b[4]!;
    if (h >= 0xa0 && h < 0xc0) return b.toString('latin1', 5, 5 + (h & 0x1f));
    if (h === 0xd9) return b.toString('latin1', 6, 6 + b[5]!);
  }
  const f = decode(b) as { op?: unknown };
  return typeof f?.op === 'string' ? f.op : '?';
}

function onFrame(conn: Conn, b: Buffer): void {
  let r: number;
  try {
    r = readReply(b);
  } catch {
    r = readReplySlow(b);
  }
  if (r === 0) {
    if (measuring) bump(win.pushes, pushOp(b));
    return;
  }
  const setup = conn.setup.get(reply.re);
  if (setup) {
    conn.setup.delete(reply.re);
    const f = decode(b) as { ok: boolean; d?: unknown; err?: { code: number; msg: string } };
    return f.ok ? setup.resolve(f.d) : setup.reject(new Error(`${f.err?.code} ${f.err?.msg}`));
  }
  const p = pending.get(reply.re);
  if (!p) return;
  pending.delete(reply.re);
  p.s.inflight--;
  if (reply.ok) {
    total.acks++;
    total.credits += p.credits;
    if (measuring) {
      win.acks++;
      win.credits += p.credits;
      win.hist.add(performance.now() - p.at);
    }
  } else {
    const code = String(reply.code);
    total.errors[code] = (total.errors[code] ?? 0) + 1;
    if (measuring) bump(win.errors, code);
  }
  pump(p.s);
}

function connect(userId: number, role: 'host' | 'viewer'): Promise<Conn> {
  const token = mintToken(init.secret, {
    userId,
    role,
    profile: { nickname: `user${userId}`, avatar: `https://cdn.example/a/${userId}.png`, gender: '', level: 1 },
    ttlSec: 3600,
  });
  const ws = new WebSocket(init.url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  const conn: Conn = { ws, setup: new Map() };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`user ${userId}: no welcome`))), init.timeoutMs);
    let welcomed = false;
    ws.on('message', (data: Buffer) => {
      if (welcomed) return onFrame(conn, data);
      if ((decode(data) as { op?: string }).op !== 'session.welcome') return;
      welcomed = true;
      clearTimeout(timer);
      resolve(conn);
    });
    ws.on('unexpected-response', (_req, res) => (clearTimeout(timer), res.resume(), reject(new Error(`user ${userId}: upgrade refused, HTTP ${res.statusCode}`))));
    ws.on('error', (err) => (clearTimeout(timer), reject(err)));
    ws.on('close', (code) => {
      clearTimeout(timer);
      if (!welcomed) return reject(new Error(`user ${userId}: closed before welcome (${code})`));
      if (!closing) total.closed++;
      for (const s of conn.setup.values()) s.reject(new Error(`closed (${code})`));
    });
  });
}

function request<T>(conn: Conn, op: string, d: unknown): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    conn.setup.set(id, { resolve: resolve as (d: unknown) => void, reject });
    conn.ws.send(encode({ op, id, d }));
  });
}

/** Next streak: a gift, a fresh comboId (unique per sender), a length; or a single send. */
function newStreak(s: Sender): void {
  s.giftIdx = (s.userId + s.streaks) % init.gifts.length;
  s.streaks++;
  if (Math.random() * 100 < init.singlePct) {
    s.comboId = undefined;
    s.left = 1;
  } else {
    s.comboId = `u${s.userId}c${s.streaks}`;
    s.left = init.streakMin + Math.floor(Math.random() * (init.streakMax - init.streakMin + 1));
  }
}

function sendGift(s: Sender): void {
  if (s.left <= 0) newStreak(s);
  s.left--;
  const gift = init.gifts[s.giftIdx]!;
  const id = nextId++;
  const d: Record<string, unknown> = { giftId: gift.giftId, roomId: s.roomId };
  if (init.count !== 1) d.count = init.count;
  if (s.comboId) d.comboId = s.comboId;
  if (init.keys) d.key = `g${id}`;
  pending.set(id, { s, at: performance.now(), credits: gift.price * init.count });
  s.inflight++;
  s.conn.ws.send(encode({ op: 'gift.send', id, d }));
}

function pump(s: Sender): void {
  while (sending && s.inflight < init.depth && s.conn.ws.readyState === WebSocket.OPEN) sendGift(s);
}

function main(): void {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const conns: Conn[] = [];
  const senders: Sender[] = [];
  let cpu0 = process.cpuUsage();
  let t0 = 0;

  process.on('message', (m: ToClient) => {
    void (async () => {
      switch (m.cmd) {
        case 'init': {
          init = m;
          const started = performance.now();
          const c0 = process.cpuUsage();
          const roomIds = await pool(m.rooms.length, m.concurrency, async (i) => {
            const host = await connect(m.rooms[i]!.hostId, 'host');
            conns.push(host);
            const people = m.rooms[i]!.senderIds.length + m.rooms[i]!.watcherIds.length;
            return (await request<{ roomId: number }>(host, 'room.open', { title: `gifts ${i}`, seatLimit: Math.min(10_000, people + 10) })).roomId;
          });
          const people = m.rooms.flatMap((r, i) => [...r.senderIds.map((id) => ({ id, i, sends: true })), ...r.watcherIds.map((id) => ({ id, i, sends: false }))]);
          await pool(people.length, m.concurrency, async (k) => {
            const p = people[k]!;
            const conn = await connect(p.id, 'viewer');
            conns.push(conn);
            await request(conn, 'room.enter', { roomId: roomIds[p.i]! });
            if (p.sends) senders.push({ conn, userId: p.id, roomId: roomIds[p.i]!, inflight: 0, comboId: undefined, giftIdx: 0, left: 0, streaks: 0 });
          });
          const cpu = process.cpuUsage(c0);
          send({ ev: 'ready', rooms: m.rooms.length, senders: senders.length, sockets: conns.length, connectMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 });
          break;
        }
        case 'go':
          sending = true;
          for (const s of senders) pump(s);
          break;
        case 'mark':
          win.acks = win.credits = 0;
          win.hist = new LatHist();
          win.pushes.clear();
          win.errors.clear();
          measuring = true;
          loop.reset();
          loop.enable();
          cpu0 = process.cpuUsage();
          t0 = performance.now();
          break;
        case 'stop': {
          measuring = false;
          sending = false;
          const ms = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          loop.disable();
          send({
            ev: 'window',
            ms,
            acks: win.acks,
            credits: win.credits,
            hist: win.hist.toSparse(),
            maxMs: win.hist.max,
            pushes: Object.fromEntries(win.pushes),
            errors: Object.fromEntries(win.errors),
            cpuMs: (cpu.user + cpu.system) / 1000,
            // The histogram counts the 10 ms sampling interval itself: only what exceeds it is delay.
            loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10),
            inflight: pending.size,
          });
          const until = performance.now() + init.timeoutMs;
          while (pending.size > 0 && performance.now() < until) await sleep(20);
          send({ ev: 'drained', ...total, unanswered: pending.size });
          break;
        }
        case 'quit':
          closing = true;
          for (const c of conns) c.ws.terminate();
          setTimeout(() => process.exit(0), 100);
          break;
      }
    })().catch((err: unknown) => send({ ev: 'fail', error: err instanceof Error ? err.message : String(err) }));
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.send) main();
