/**
 * npm run bench:rooms [-- --rooms 20 --viewers 200 --rate 10,max --seconds 10]
 *
 * Room fan-out: R rooms, each with 1 host and V viewers connected; the host of
 * each room sends chat lines and every viewer records the end-to-end latency
 * (send → reception, one monotonic clock: senders and receivers all live in
 * this process). The same load runs, in the same invocation, against
 *   (1) our server (dist/main.js, rate limits raised so they do not bite),
 *   (2) a bare uWebSockets.js pub/sub server (bench/baselines/bare-uws-pubsub.ts): the ceiling,
 *   (3) Socket.IO with the msgpack parser (bench/baselines/socketio-rooms.ts): what users would pick instead.
 *
 * --rate takes a comma-separated list of modes, run one after the other on the same connections:
 *   <n>     open loop: each room's host sends n lines/s, whether or not they arrive;
 *   max<w>  closed loop: each room keeps w lines in flight (sent, not yet
 *           received by all its viewers; plain `max` takes --window) and sends
 *           the next one as soon as a line has reached every viewer: the
 *           delivered-rate ceiling of server + bench client together (a line
 *           not complete after 5 s is given up). max1 is "send when the
 *           previous line has reached everyone".
 * Pick the fixed rate so that the bench client is not saturated (its CPU % and
 * event-loop delay are printed): otherwise latency measures the client's queue.
 * Each mode: --warmup seconds of load, then --seconds measured, then up to
 * --drain seconds for the measured lines still on their way.
 *
 * Not a test: the bench client shares the machine's CPU with the server.
 * Results go to bench/results/rooms-<date>.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { io as ioConnect, type Socket as IoSocket } from 'socket.io-client';
import * as msgpackParser from 'socket.io-msgpack-parser';
import WebSocket from 'ws';
import { LiveClient, ServerError } from '../src/client/index.js';
import { decode, encode } from '../src/protocol/codec.js';
import { mint, TEST_SECRET } from '../test/helpers/server.js';
import { Histogram, pool, round, sleep } from './lib/load.js';
import { buildServer, cpuMsOf, ROOT, rssOf, startProcess, stopProcess, type ServerLog } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '20' },
    viewers: { type: 'string', default: '200' },
    rate: { type: 'string', default: '10,max' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    drain: { type: 'string', default: '3' },
    window: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '200' },
    targets: { type: 'string', default: 'ours,bare,socketio' },
    // Socket.IO viewers: a minimal ws + msgpack-parser client (raw), or socket.io-client itself (official, heavier on the bench process).
    'sio-client': { type: 'string', default: 'raw' },
    // Writes a V8 CPU profile of our server to bench/results/prof/ (open in Chrome DevTools).
    profile: { type: 'boolean', default: false },
  },
});
const R = Number(values.rooms);
const V = Number(values.viewers);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const DRAIN = Number(values.drain);
const WINDOW = Number(values.window);
const CONCURRENCY = Number(values.concurrency);
const SIO_CLIENT = values['sio-client'];
if (SIO_CLIENT !== 'raw' && SIO_CLIENT !== 'official') throw new Error('--sio-client: raw or official');
/** A fixed rate (lines/s per room), or closed loop with `window` lines in flight per room. */
type Mode = { rate: number } | { window: number };
const MODES: Mode[] = values.rate.split(',').map((raw) => {
  const m = raw.trim();
  const max = /^max(\d+)?$/.exec(m);
  if (max) {
    const window = max[1] ? Number(max[1]) : WINDOW;
    if (window < 1) throw new Error(`--rate: a window of at least 1 line, got "${m}"`);
    return { window };
  }
  if (!(Number(m) > 0)) throw new Error(`--rate: expected lines/s per room, "max" or "max<window>", got "${m}"`);
  return { rate: Number(m) };
});
const labelOf = (mode: Mode) => ('rate' in mode ? `${mode.rate}/s per room` : `max, window ${mode.window}`);
const TARGETS = values.targets.split(',').map((t) => t.trim());
const STALE_MS = 5000;
for (const [name, n] of Object.entries({ rooms: R, viewers: V, seconds: SECONDS, window: WINDOW, concurrency: CONCURRENCY })) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
}

// ---------------------------------------------------------------- measurement

interface Counters {
  epoch: number;
  /** Lines sent (all phases) and in the measured window. */
  sent: number;
  sentMeasured: number;
  /** Viewer receptions: all, arriving inside the measured window, and of lines sent in it. */
  recv: number;
  recvWindow: number;
  recvMeasured: number;
  hist: Histogram;
  acks: number;
  ackErrors: Map<string, number>;
  /** Max mode: lines given up after STALE_MS without reaching every viewer. */
  stale: number;
}

let counters: Counters = newCounters(0);
let measuring = false;
let sending = false;
let maxMode = false;
let window = 1;
let win0 = Infinity;
let win1 = Infinity;

function newCounters(epoch: number): Counters {
  return { epoch, sent: 0, sentMeasured: 0, recv: 0, recvWindow: 0, recvMeasured: 0, hist: new Histogram(), acks: 0, ackErrors: new Map(), stale: 0 };
}

function ackError(what: string): void {
  counters.ackErrors.set(what, (counters.ackErrors.get(what) ?? 0) + 1);
}

interface Room {
  idx: number;
  host: Host;
  seq: number;
  sentInMode: number;
  /** Fixed rate: this room's first line is sent this long after the mode starts (rooms are spread over one period). */
  offsetMs: number;
  /** Max mode: lines sent and not yet received by every viewer. */
  inflight: Map<number, { left: number; at: number }>;
}

/** Every line's text: `<m|w><epoch> <seq> <performance.now() at send>`. */
function sendLine(room: Room): void {
  const seq = ++room.seq;
  const at = performance.now();
  room.host.send(`${measuring ? 'm' : 'w'}${counters.epoch} ${seq} ${at.toFixed(3)}`, () => {
    // A refused line never arrives: free its place in the window.
    if (room.inflight.delete(seq)) pump(room);
  });
  room.sentInMode++;
  counters.sent++;
  if (measuring) counters.sentMeasured++;
  if (maxMode) room.inflight.set(seq, { left: V, at });
}

/** What each viewer does with each chat line it decoded. */
function onLine(room: Room, text: string): void {
  const now = performance.now();
  const c = counters;
  c.recv++;
  if (now >= win0 && now < win1) c.recvWindow++;
  const sp1 = text.indexOf(' ');
  const sp2 = text.indexOf(' ', sp1 + 1);
  const tag = text.slice(0, sp1);
  if (tag.charCodeAt(0) === 109 /* m */ && Number(tag.slice(1)) === c.epoch) {
    c.recvMeasured++;
    c.hist.add(now - Number(text.slice(sp2 + 1)));
  }
  if (room.inflight.size) {
    const seq = Number(text.slice(sp1 + 1, sp2));
    const line = room.inflight.get(seq);
    if (line && --line.left === 0) {
      room.inflight.delete(seq);
      pump(room);
    }
  }
}

function pump(room: Room): void {
  while (sending && maxMode && room.inflight.size < window) sendLine(room);
}

// ---------------------------------------------------------------- targets

interface Host {
  /** The room id on the server. */
  roomId: number;
  /** Sends a chat line; `failed` runs if the server refuses it. */
  send(text: string, failed: () => void): void;
  close(): void;
}

interface Viewer {
  closed(): boolean;
  close(): void;
}

interface Target {
  name: string;
  start(): Promise<{ pid: number; port: number; stop(): Promise<void> }>;
  host(port: number, idx: number): Promise<Host>;
  viewer(port: number, room: Room, userId: number): Promise<Viewer>;
  /** Work done before the clock starts (ours: the tokens the app backend would have issued). */
  prepare?(users: number): void;
}

const serverLog = { warn: 0, error: 0, samples: [] as string[] };
/** Every server started, to print what it said at warn and above if the bench aborts. */
const serverLogs: ServerLog[] = [];

/** (1) Ours: LiveClient, tokens, room.open / room.enter, chat.send requests. */
function ours(dbDir: string): Target {
  const url = (port: number) => `ws://127.0.0.1:${port}/ws`;
  const tokens = new Map<number, string>();
  const token = (userId: number, role: 'host' | 'viewer') => tokens.get(userId) ?? mint(userId, role);
  return {
    name: 'live-room-server',
    prepare(users) {
      // Clients arrive with tokens from the app backend: signing them is not part of connecting.
      for (let id = 1; id <= users; id++) tokens.set(id, mint(id, id <= R ? 'host' : 'viewer'));
    },
    async start() {
      const { child, port, logs } = await startProcess(
        buildServer(),
        {
          LIVE_HOST: '127.0.0.1',
          LIVE_PORT: '0',
          LIVE_DB_PATH: join(dbDir, 'live.db'),
          LIVE_TOKEN_SECRET: TEST_SECRET,
          LIVE_LOG_LEVEL: 'warn',
          // Rate limits raised to their maxima so they do not bite (chat is capped at 1000/s per user by config).
          LIVE_CHAT_PER_S: '1000',
          LIVE_CHAT_BURST: '1000',
          LIVE_RATE_PER_S: '100000',
          LIVE_RATE_BURST: '100000',
          LIVE_ROOM_DEFAULT_SEATS: String(Math.min(10_000, V + 10)),
        },
        values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/prof')}`] : [],
        {
          onStdoutLine(line) {
            let level = 0;
            try {
              level = (JSON.parse(line) as { level?: number }).level ?? 0;
            } catch {
              /* not JSON */
            }
            if (level >= 50) serverLog.error++;
            else if (level >= 40) serverLog.warn++;
            if (level >= 40 && serverLog.samples.length < 5) serverLog.samples.push(line.slice(0, 300));
          },
        },
      );
      serverLogs.push(logs);
      return { pid: child.pid!, port, stop: () => stopProcess(child) };
    },
    async host(port, idx) {
      const c = await LiveClient.connect(url(port), { token: token(idx + 1, 'host'), requestTimeoutMs: 60_000 });
      const view = await c.request('room.open', { title: `bench room ${idx}`, seatLimit: Math.min(10_000, V + 10) });
      return {
        roomId: view.roomId,
        send(text, failed) {
          c.request('chat.send', { text }).then(
            () => void counters.acks++,
            (err: Error) => {
              ackError(err instanceof ServerError ? `${err.code} ${err.message}` : err.message);
              failed();
            },
          );
        },
        close: () => void c.drop(),
      };
    },
    // Viewers are minimal clients (like the bare and Socket.IO ones): a ws socket that logs in with its
    // token, waits for the welcome, sends room.enter, and decodes only the frames it needs — the reply and
    // chat lines — so the bench process does not spend its CPU decoding the room's entry notices.
    async viewer(port, room, userId) {
      // Listeners go on before the socket opens: the welcome may arrive in the same packet as the upgrade's answer.
      const ws = new WebSocket(`${url(port)}?token=${encodeURIComponent(token(userId, 'viewer'))}`);
      ws.binaryType = 'nodebuffer';
      let closed = false;
      ws.on('close', () => (closed = true));
      await new Promise<void>((resolve, reject) => {
        let welcomed = false;
        ws.on('message', (data: Buffer) => {
          if (!welcomed) {
            welcomed = true;
            ws.send(encode({ op: 'room.enter', id: 1, d: { roomId: room.host.roomId } }));
          } else if (data.includes(CHAT_OP)) {
            onLine(room, (decode(data) as { d: { text: string } }).d.text);
          } else if (data.includes(REPLY_KEY)) {
            const reply = decode(data) as { re?: number; ok?: boolean; err?: { code: number; msg: string } };
            if (reply.re !== 1) return;
            if (reply.ok) resolve();
            else reject(new Error(`room.enter refused: ${reply.err?.code} ${reply.err?.msg}`));
          }
        });
        ws.once('error', reject);
        ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()} before entering`)));
      });
      return { closed: () => closed, close: () => ws.terminate() };
    },
  };
}

/** What a viewer looks for in a frame before decoding it: a chat line's op, a reply's key. */
const CHAT_OP = Buffer.from('chat.message');
const REPLY_KEY = Buffer.from([0xa2, 0x72, 0x65]); // fixstr "re"

/** Opens a `ws` socket (as LiveClient does) and resolves once it is open. */
function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** (2) Bare uWS pub/sub: `ws` clients decoding every frame with our codec. */
function bare(): Target {
  const url = (port: number, room: number, role: string, user: number) => `ws://127.0.0.1:${port}/ws?room=${room}&role=${role}&user=${user}`;
  return {
    name: 'bare uWebSockets.js',
    async start() {
      const { child, port } = await startProcess('bench/baselines/bare-uws-pubsub.ts', {});
      return { pid: child.pid!, port, stop: () => stopProcess(child) };
    },
    async host(port, idx) {
      const roomId = idx + 1;
      const ws = await openWs(url(port, roomId, 'host', idx + 1));
      let nextId = 1;
      const failures = new Map<number, () => void>();
      ws.on('message', (data: Buffer) => {
        const frame = decode(data) as { re?: number; ok?: boolean; err?: { code: number; msg: string } };
        if (typeof frame.re !== 'number') return; // its own chat.message
        const failed = failures.get(frame.re);
        failures.delete(frame.re);
        if (frame.ok) counters.acks++;
        else (ackError(`${frame.err?.code} ${frame.err?.msg}`), failed?.());
      });
      return {
        roomId,
        send(text, failed) {
          const id = nextId++;
          failures.set(id, failed);
          ws.send(encode({ op: 'chat.send', id, d: { text } }));
        },
        close: () => ws.terminate(),
      };
    },
    async viewer(port, room, userId) {
      const ws = await openWs(url(port, room.host.roomId, 'viewer', userId));
      let closed = false;
      ws.on('close', () => (closed = true));
      ws.on('message', (data: Buffer) => {
        const frame = decode(data) as { op?: string; d?: { text: string } };
        if (frame.op === 'chat.message') onLine(room, frame.d!.text);
      });
      return { closed: () => closed, close: () => ws.terminate() };
    },
  };
}

/** (3) Socket.IO: socket.io-client with the msgpack parser, websocket transport only. */
function socketio(): Target {
  const connect = (port: number, room: number, role: string, user: number) =>
    new Promise<IoSocket>((resolve, reject) => {
      const s = ioConnect(`http://127.0.0.1:${port}`, {
        transports: ['websocket'],
        parser: msgpackParser,
        forceNew: true,
        reconnection: false,
        timeout: 60_000,
        query: { room: String(room), role, user: String(user) },
      });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  return {
    name: 'Socket.IO',
    async start() {
      const { child, port } = await startProcess('bench/baselines/socketio-rooms.ts', {});
      return { pid: child.pid!, port, stop: () => stopProcess(child) };
    },
    async host(port, idx) {
      const roomId = idx + 1;
      const s = await connect(port, roomId, 'host', idx + 1);
      return {
        roomId,
        send(text, failed) {
          s.emit('chat.send', { text }, (reply: { msgId?: number; error?: string }) => {
            if (reply?.msgId) counters.acks++;
            else (ackError(String(reply?.error)), failed());
          });
        },
        close: () => void s.disconnect(),
      };
    },
    async viewer(port, room, userId) {
      if (SIO_CLIENT === 'raw') return rawSocketIoViewer(port, room, userId);
      const s = await connect(port, room.host.roomId, 'viewer', userId);
      let closed = false;
      s.on('disconnect', () => (closed = true));
      s.on('chat.message', (d: { text: string }) => onLine(room, d.text));
      return { closed: () => closed, close: () => void s.disconnect() };
    },
  };
}

/**
 * A minimal Socket.IO viewer (the default, --sio-client raw): a `ws` socket
 * speaking Engine.IO 4 (open, ping → pong) and decoding every frame with the
 * msgpack parser's own Decoder, as socket.io-client does, without its
 * per-socket Manager, Engine.IO client and emitter layers. It does the same
 * work per message as the clients of (1) and (2), so the bench client's cost
 * does not weigh on Socket.IO's numbers more than on the others'.
 */
function rawSocketIoViewer(port: number, room: Room, userId: number): Promise<Viewer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&room=${room.host.roomId}&role=viewer&user=${userId}`);
    ws.binaryType = 'nodebuffer';
    let closed = false;
    const viewer: Viewer = { closed: () => closed, close: () => ws.terminate() };
    const decoder = new msgpackParser.Decoder();
    decoder.on('decoded', (packet: { type: number; data?: unknown }) => {
      if (packet.type === msgpackParser.PacketType.EVENT) {
        const [event, d] = packet.data as [string, { text: string }];
        if (event === 'chat.message') onLine(room, d.text);
      } else if (packet.type === msgpackParser.PacketType.CONNECT) {
        resolve(viewer);
      } else if (packet.type === msgpackParser.PacketType.CONNECT_ERROR) {
        reject(new Error(`Socket.IO refused the connection: ${JSON.stringify(packet.data)}`));
      }
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return decoder.add(data);
      const text = data.toString();
      if (text === '2') ws.send('3'); // Engine.IO ping → pong
      else if (text[0] === '0') ws.send((sioEncoder.encode({ type: msgpackParser.PacketType.CONNECT, nsp: '/' }) as unknown as Buffer[])[0]!); // open → join namespace /
    });
    ws.once('error', reject);
    ws.on('close', () => (closed = true));
  });
}

const sioEncoder = new msgpackParser.Encoder();

// ---------------------------------------------------------------- run

interface ModeResult {
  target: string;
  mode: string;
  windowSec: number;
  linesPerSec: number;
  offeredPerSec: number;
  deliveredPerSec: number;
  completePct: number;
  p50: number;
  p99: number;
  max: number;
  serverCpuPct: number;
  /** Server CPU time per delivered message. */
  serverUsPerMsg: number;
  serverRssMiB: number;
  benchCpuPct: number;
  benchLoopDelayP99: number;
  acks: number;
  ackErrors: Record<string, number>;
  stale: number;
  viewersClosed: number;
}

let epoch = 0;

async function runMode(target: string, mode: Mode, rooms: Room[], viewers: Viewer[], pid: number): Promise<ModeResult> {
  counters = newCounters(++epoch);
  maxMode = 'window' in mode;
  if ('window' in mode) window = mode.window;
  measuring = false;
  win0 = win1 = Infinity;
  for (const room of rooms) {
    room.sentInMode = 0;
    room.inflight.clear();
    room.offsetMs = 'rate' in mode ? (room.idx / rooms.length) * (1000 / mode.rate) : 0;
  }
  const label = labelOf(mode);
  console.error(`${target}: ${label}: ${WARMUP} s warm-up, ${SECONDS} s measured`);
  sending = true;
  const t0 = performance.now();
  let timer: NodeJS.Timeout;
  if (!('rate' in mode)) {
    for (const room of rooms) pump(room);
    // Lines that never reach every viewer (a dropped frame, a closed socket) must not stall their room.
    timer = setInterval(() => {
      const cutoff = performance.now() - STALE_MS;
      for (const room of rooms) {
        for (const [seq, line] of room.inflight) if (line.at < cutoff) (room.inflight.delete(seq), counters.stale++);
        pump(room);
      }
    }, 250);
  } else {
    const rate = mode.rate;
    timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      for (const room of rooms) {
        const due = Math.floor(((elapsed - room.offsetMs) * rate) / 1000) + 1;
        while (sending && room.sentInMode < due) sendLine(room);
      }
    }, 2);
  }
  await sleep(WARMUP * 1000);

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = cpuMsOf(pid);
  const bench0 = process.cpuUsage();
  measuring = true;
  win0 = performance.now();
  await sleep(SECONDS * 1000);
  win1 = performance.now();
  measuring = false;
  sending = false;
  const cpu1 = cpuMsOf(pid);
  const bench = process.cpuUsage(bench0);
  loop.disable();
  const rss = rssOf(pid);
  clearInterval(timer);

  // Measured lines still on their way.
  const drainUntil = performance.now() + DRAIN * 1000;
  const expected = () => counters.sentMeasured * V;
  while (performance.now() < drainUntil && counters.recvMeasured < expected()) await sleep(20);
  const c = counters;
  const windowMs = win1 - win0;
  const perSec = (n: number) => Math.round((n * 1000) / windowMs);
  const viewersClosed = viewers.filter((v) => v.closed()).length;
  // Let the last acks and stray frames settle before the next mode.
  for (const room of rooms) room.inflight.clear();
  await sleep(500);
  return {
    target,
    mode: label,
    windowSec: round(windowMs / 1000),
    linesPerSec: perSec(c.sentMeasured),
    offeredPerSec: perSec(c.sentMeasured * V),
    deliveredPerSec: perSec(c.recvWindow),
    completePct: expected() ? round((100 * c.recvMeasured) / expected(), 2) : 0,
    p50: round(c.hist.percentile(50)),
    p99: round(c.hist.percentile(99)),
    max: round(c.hist.max),
    serverCpuPct: Math.round((100 * (cpu1 - cpu0)) / windowMs),
    serverUsPerMsg: c.recvWindow ? round(((cpu1 - cpu0) * 1000) / c.recvWindow, 1) : 0,
    serverRssMiB: round(rss / 1024 / 1024, 1),
    benchCpuPct: Math.round((100 * (bench.user + bench.system)) / 1000 / windowMs),
    // The histogram counts the 10 ms sampling interval itself: only what exceeds it is delay.
    benchLoopDelayP99: round(Math.max(0, loop.percentile(99) / 1e6 - 10)),
    acks: c.acks,
    ackErrors: Object.fromEntries(c.ackErrors),
    stale: c.stale,
    viewersClosed,
  };
}

interface TargetRun {
  target: string;
  connectSec: number;
  /** CPU of the bench client and of the server while connecting (100 = one core). */
  connectClientCpuPct: number;
  connectServerCpuPct: number;
  rssIdleMiB: number;
  modes: ModeResult[];
}

async function runTarget(t: Target): Promise<TargetRun> {
  const server = await t.start();
  try {
    console.error(`${t.name}: connecting ${R} hosts and ${R * V} viewers, ${CONCURRENCY} at a time`);
    t.prepare?.(R + R * V);
    const cpu0 = process.cpuUsage();
    const server0 = cpuMsOf(server.pid);
    const started = performance.now();
    const hosts = await pool(R, CONCURRENCY, (i) => t.host(server.port, i));
    const rooms: Room[] = hosts.map((host, idx) => ({ idx, host, seq: 0, sentInMode: 0, offsetMs: 0, inflight: new Map() }));
    const viewers = await pool(R * V, CONCURRENCY, (i) => t.viewer(server.port, rooms[i % R]!, R + 1 + i));
    const connectSec = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const connectClientCpuPct = Math.round((cpu.user + cpu.system) / 10 / connectSec / 1000);
    const connectServerCpuPct = Math.round((cpuMsOf(server.pid) - server0) / 10 / connectSec);
    console.error(`${t.name}: connected in ${connectSec.toFixed(1)} s (bench client ${connectClientCpuPct} % CPU, server ${connectServerCpuPct} %)`);
    // Entry pushes (room.user_entered to every member) settle before the load starts.
    await sleep(1000);
    global.gc?.();
    const rssIdleMiB = round(rssOf(server.pid) / 1024 / 1024, 1);
    const modes: ModeResult[] = [];
    for (const mode of MODES) modes.push(await runMode(t.name, mode, rooms, viewers, server.pid));
    for (const v of viewers) v.close();
    for (const h of hosts) h.close();
    return { target: t.name, connectSec: round(connectSec), connectClientCpuPct, connectServerCpuPct, rssIdleMiB, modes };
  } finally {
    await server.stop();
  }
}

async function main() {
  const dbDir = mkdtempSync(join(tmpdir(), 'live-bench-rooms-'));
  const all: Record<string, () => Target> = { ours: () => ours(dbDir), bare, socketio };
  const runs: TargetRun[] = [];
  try {
    for (const name of TARGETS) {
      const make = all[name];
      if (!make) throw new Error(`--targets: unknown target ${name} (ours, bare, socketio)`);
      runs.push(await runTarget(make()));
      await sleep(1000);
    }
  } finally {
    rmSync(dbDir, { recursive: true, force: true });
  }

  console.log(
    `\nrooms bench: ${R} rooms × (1 host + ${V} viewers) = ${R * (V + 1)} sockets, ${SECONDS} s measured after ${WARMUP} s warm-up; ` +
      `server and bench client share one ${process.platform} host with ${(await import('node:os')).cpus().length} cores; ` +
      `Socket.IO viewers: ${SIO_CLIENT === 'raw' ? 'minimal ws + msgpack-parser client' : 'socket.io-client'}\n`,
  );
  console.table(
    runs.map((r) => ({ target: r.target, 'connect s': r.connectSec, 'client CPU %': r.connectClientCpuPct, 'server CPU %': r.connectServerCpuPct, 'idle RSS MiB': r.rssIdleMiB })),
  );
  const byTarget = (name: string, mode: string) => runs.find((r) => r.target === name)?.modes.find((m) => m.mode === mode);
  for (const mode of MODES) {
    const label = labelOf(mode);
    const rows = runs.map((r) => r.modes.find((m) => m.mode === label)!).filter(Boolean);
    console.log(`\nmode: ${label}${'window' in mode ? ' (lines in flight per room): the delivered rate is the ceiling of server + bench client' : ''}`);
    console.table(
      rows.map((m) => ({
        target: m.target,
        'lines/s': m.linesPerSec,
        'offered msg/s': m.offeredPerSec,
        'delivered msg/s': m.deliveredPerSec,
        'complete %': m.completePct,
        'p50 ms': m.p50,
        'p99 ms': m.p99,
        'max ms': m.max,
        'server CPU %': m.serverCpuPct,
        'server µs/msg': m.serverUsPerMsg,
        'server RSS MiB': m.serverRssMiB,
        'bench CPU %': m.benchCpuPct,
        'bench loop p99 ms': m.benchLoopDelayP99,
      })),
    );
    for (const m of rows) {
      const notes = [
        Object.keys(m.ackErrors).length ? `send errors ${JSON.stringify(m.ackErrors)}` : '',
        m.stale ? `${m.stale} lines given up` : '',
        m.viewersClosed ? `${m.viewersClosed} viewers closed` : '',
      ].filter(Boolean);
      if (notes.length) console.log(`  ${m.target}: ${notes.join('; ')}`);
    }
    const o = byTarget('live-room-server', label);
    const b = byTarget('bare uWebSockets.js', label);
    const s = byTarget('Socket.IO', label);
    const ratio = (a: number | undefined, z: number | undefined) => (a === undefined || z === undefined || z === 0 ? 'n/a' : `${round(a / z)}×`);
    if (o) {
      console.log(
        `ours / bare: delivered ${ratio(o.deliveredPerSec, b?.deliveredPerSec)}, p99 ${ratio(o.p99, b?.p99)} (${o.p99} vs ${b?.p99 ?? '-'} ms), ` +
          `server µs/msg ${ratio(o.serverUsPerMsg, b?.serverUsPerMsg)}; ` +
          `ours / Socket.IO: delivered ${ratio(o.deliveredPerSec, s?.deliveredPerSec)}, p99 ${ratio(o.p99, s?.p99)} (${o.p99} vs ${s?.p99 ?? '-'} ms), ` +
          `server µs/msg ${ratio(o.serverUsPerMsg, s?.serverUsPerMsg)}`,
      );
      if ('rate' in mode) {
        console.log(`  (fixed rate: delivered ratios are 1× whenever every target keeps up; compare completeness, latency and server CPU. Goal: p99 < 50 ms: ${o.p99 < 50 ? 'met' : 'not met'})`);
      } else if (b && s) {
        const met = o.deliveredPerSec >= 0.7 * b.deliveredPerSec && o.deliveredPerSec >= 3 * s.deliveredPerSec;
        console.log(`  (goal: ours ≥ 0.7× bare and ≥ 3× Socket.IO delivered: ${met ? 'met' : 'not met'})`);
      }
    }
  }
  if (serverLog.warn || serverLog.error) {
    console.log(`\nour server logged ${serverLog.warn} warnings and ${serverLog.error} errors, e.g.:\n  ${serverLog.samples.join('\n  ')}`);
  }
  const file = join(ROOT, 'bench/results', `rooms-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        rooms: R,
        viewers: V,
        modes: MODES.map(labelOf),
        seconds: SECONDS,
        warmup: WARMUP,
        window: WINDOW,
        concurrency: CONCURRENCY,
        sioClient: SIO_CLIENT,
        serverLog,
        results: runs,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`written ${file}`);
  process.exit(0);
}

void main().catch((err) => {
  console.error(err);
  // What the servers said at warn and above explains most aborts (a 1011 login failure, a crash).
  for (const logs of serverLogs) console.error(logs.format());
  process.exit(1);
});
