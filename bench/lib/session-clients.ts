/**
 * A bench client process for bench/sessions.ts: holds a slice of the
 * clients, driven over IPC so several of them can load one server at once
 * (each process has its own descriptor limit and its own core to run on).
 *
 *   → init {url, firstUser, count, addrs, concurrency, timeoutMs, secret}  ← ready (tokens minted)
 *   → connect                      ← connected {lat, ms, cpuMs, loopP99Ms}   every client logged in (welcome received)
 *   → ping                         ← pinged {lat, ms, cpuMs, loopP99Ms}      every client answered one session.ping
 *   → drop                         ← dropped                                  sockets terminated
 *   ← fail {phase, userId, error, code}   the first client that could not connect, log in or answer; the phase stops
 *   ← closed {userId, code, reason}       a logged-in client closed by the server before `drop`
 *
 * Client i (0-based within the slice) is user `firstUser + i` (every 10th a
 * host) and connects from addrs[i % addrs.length] when addrs is not empty.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LiveClient, ServerError } from '../../src/client/index.js';
import { mintToken } from '../../src/server/auth.js';

export interface InitMsg {
  cmd: 'init';
  url: string;
  firstUser: number;
  count: number;
  addrs: string[];
  concurrency: number;
  timeoutMs: number;
  secret: string;
}
export type ToClients = InitMsg | { cmd: 'connect' } | { cmd: 'ping' } | { cmd: 'drop' };

export interface PhaseReport {
  /** Latency of each client in the phase, ms (unsorted). */
  lat: number[];
  ms: number;
  /** CPU (user + system) this process spent in the phase. */
  cpuMs: number;
  loopP99Ms: number;
}
export type FromClients =
  | { ev: 'ready'; mintMs: number }
  | ({ ev: 'connected' } & PhaseReport)
  | ({ ev: 'pinged' } & PhaseReport)
  | { ev: 'dropped' }
  | { ev: 'fail'; phase: string; userId: number; error: string; code?: number }
  | { ev: 'closed'; userId: number; code: number; reason: string };

/** Users of the bench: every 10th a host, as the old single-process bench did. */
export function benchToken(secret: string, userId: number): string {
  return mintToken(secret, {
    userId,
    role: (userId - 1) % 10 === 0 ? 'host' : 'viewer',
    profile: { nickname: `user${userId}`, avatar: `https://cdn.example/a/${userId}.png`, gender: '', level: 1 },
    ttlSec: 3600,
  });
}

function main(): void {
  const send = (m: FromClients) => process.send!(m);
  let init: InitMsg;
  let tokens: string[] = [];
  let clients: LiveClient[] = [];
  let dropping = false;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  /** Runs `fn` for every client index with `concurrency` in flight; stops at the first failure. */
  const phase = async (name: string, fn: (i: number) => Promise<void>): Promise<PhaseReport | undefined> => {
    const lat: number[] = new Array(init.count);
    let next = 0;
    let failed = false;
    loop.reset();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(init.concurrency, init.count) }, async () => {
        while (next < init.count && !failed) {
          const i = next++;
          const t = performance.now();
          try {
            await fn(i);
          } catch (err) {
            if (failed) return;
            failed = true;
            const e = err as Error;
            send({ ev: 'fail', phase: name, userId: init.firstUser + i, error: e.message || String(e), ...(e instanceof ServerError ? { code: e.code } : {}) });
            return;
          }
          lat[i] = performance.now() - t;
        }
      }),
    );
    if (failed) return undefined;
    const cpu = process.cpuUsage(cpu0);
    return { lat, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, loopP99Ms: loop.percentile(99) / 1e6 };
  };

  process.on('message', (m: ToClients) => {
    void (async () => {
      switch (m.cmd) {
        case 'init': {
          init = m;
          const t0 = performance.now();
          tokens = Array.from({ length: m.count }, (_, i) => benchToken(m.secret, m.firstUser + i));
          clients = new Array(m.count);
          send({ ev: 'ready', mintMs: performance.now() - t0 });
          break;
        }
        case 'connect': {
          const r = await phase('connect', async (i) => {
            const c = await LiveClient.connect(init.url, {
              token: tokens[i]!,
              requestTimeoutMs: init.timeoutMs,
              ...(init.addrs.length ? { localAddress: init.addrs[i % init.addrs.length]! } : {}),
            });
            clients[i] = c;
            void c.whenClosed().then(({ code, reason }) => {
              if (!dropping) send({ ev: 'closed', userId: init.firstUser + i, code, reason });
            });
          });
          if (r) send({ ev: 'connected', ...r });
          break;
        }
        case 'ping': {
          const r = await phase('heartbeat', async (i) => void (await clients[i]!.request('session.ping', {})));
          if (r) send({ ev: 'pinged', ...r });
          break;
        }
        case 'drop': {
          dropping = true;
          for (const c of clients) if (c) void c.drop();
          send({ ev: 'dropped' });
          break;
        }
      }
    })();
  });
  // The bench going away takes its clients with it.
  process.on('disconnect', () => process.exit(0));
}

if (process.send) main();
