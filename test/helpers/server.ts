import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { FakeClock } from '../../src/clock.js';
import { LiveClient, type ConnectOptions } from '../../src/client/index.js';
import type { Role } from '../../src/protocol/define.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { mintToken } from '../../src/server/auth.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';

export const TEST_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface TestServer {
  server: RunningServer;
  config: Config;
  clock: FakeClock;
  url: string;
  http: string;
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>;
  token(userId: number, role?: Role, opts?: { ttlSec?: number; issuedAt?: number; nickname?: string }): string;
  connect(userId: number, role?: Role, opts?: Partial<ConnectOptions>): Promise<LiveClient>;
  /** Drops a client's connection and waits until the server has detached its session. */
  drop(client: LiveClient): Promise<void>;
}

/** Resolves once `cond()` holds, checking after each turn of the event loop; fails after timeoutMs. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Runs `probe` (a request, say) again and again until `ok` holds for its result; fails after timeoutMs. */
export async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((err: unknown) => err as T);
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Baseline config for tests and bench: loopback, port 0, a temp database. */
export function testConfig(dir: string, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}),
    host: '127.0.0.1',
    port: 0,
    dbPath: join(dir, 'live.db'),
    tokenSecret: TEST_SECRET,
    logLevel: 'debug',
    // The adaptive in-flight limit reads real time: on a busy machine it would shed in tests
    // that are about something else. Its behaviour is tested with an injected clock (server-shedding).
    shedTargetMs: 60_000,
    ...overrides,
  };
}

export function mint(userId: number, role: Role = 'viewer', opts: { ttlSec?: number; issuedAt?: number; nickname?: string } = {}) {
  return mintToken(TEST_SECRET, {
    userId,
    role,
    profile: { nickname: opts.nickname ?? `user${userId}`, avatar: `https://cdn.example/a/${userId}.png`, gender: '', level: 1 },
    ttlSec: opts.ttlSec ?? 3600,
    issuedAt: opts.issuedAt,
  });
}

/** Starts the real server on a free port with a temp database and a fake clock; stops it after the test. */
export async function startTestServer(t: Test, overrides: Partial<Config> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'live-test-'));
  const config = testConfig(dir, overrides);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const clock = new FakeClock(Date.now());
  const server = await startServer(config, { logger: createLogger(config.logLevel, sink), clock });
  const clients: LiveClient[] = [];
  t.teardown(async () => {
    // A failing test shows what the server said: the last log lines, as JSON.
    if (!t.passing()) t.comment(logs.slice(-40).map((l) => JSON.stringify(l)).join('\n'));
    for (const c of clients) if (!c.closed) c.drop().catch(() => {});
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  return {
    server,
    config,
    clock,
    url,
    http: `http://127.0.0.1:${server.port}`,
    logs,
    token: (userId, role = 'viewer', opts) => mint(userId, role, opts),
    async connect(userId, role = 'viewer', opts = {}) {
      const client = await LiveClient.connect(url, { token: await mint(userId, role), ...opts });
      clients.push(client);
      return client;
    },
    async drop(client) {
      const session = server.sessions.ofUser(client.welcome.userId);
      await client.drop();
      await waitFor(() => !session || session.conn === null, 'the server to detach the session');
    },
  };
}
