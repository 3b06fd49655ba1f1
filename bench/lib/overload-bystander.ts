/**
 * The bystander of bench/overload.ts in a process of its own: one more user
 * on its own connection sending session.whoami every BYSTANDER_MS, so its
 * latencies are the server's answer times to a light request of an idle
 * user, not the load client's event loop. Started by Bystander (below) with
 * `node --import tsx` and driven over IPC:
 *
 *   env BYSTANDER_URL, BYSTANDER_TOKEN, BYSTANDER_MS, BYSTANDER_TIMEOUT_MS
 *                                   ← ready | fail {error}
 *   → step {warmupMs, measureMs}    pokes for warmupMs + measureMs (counted in
 *                                   the last measureMs), then waits for its
 *                                   requests to settle (≤ timeout + 2 s)
 *                                   ← step {sent, sentAll, pending, ok, p50, p99, max, failed}
 *   → recover {maxMs}               whoami until 3 in a row answer within 50 ms
 *                                   ← recover {ms: time it took, or null}
 * It exits when the bench goes away (IPC disconnect).
 */
import type { ChildProcess } from 'node:child_process';
import { LiveClient, ServerError } from '../../src/client/index.js';
import { Histogram, round, sleep } from './load.js';
import { spawnNode } from './proc.js';

export interface BystanderStep {
  /** Requests sent in the measured window / in the whole step. */
  sent: number;
  sentAll: number;
  /** Still unanswered when it stopped waiting. */
  pending: number;
  ok: number;
  p50: number;
  p99: number;
  max: number;
  /** Outcomes other than ok of the window's requests ('908', 'timeout', 'closed', …). */
  failed: Record<string, number>;
}
type FromBystander = { ev: 'ready' } | { ev: 'fail'; error: string } | ({ ev: 'step' } & BystanderStep) | { ev: 'recover'; ms: number | null };
type ToBystander = { cmd: 'step'; warmupMs: number; measureMs: number } | { cmd: 'recover'; maxMs: number };

/** Outcome of a LiveClient request that failed: a server error code, 'timeout', 'closed' or 'other'. */
export function classify(err: unknown): string {
  if (err instanceof ServerError) return String(err.code);
  const m = err instanceof Error ? err.message : String(err);
  if (m.endsWith('timed out')) return 'timeout';
  if (m.startsWith('connection closed')) return 'closed';
  return 'other';
}

async function child(): Promise<void> {
  const send = (m: FromBystander) => process.send!(m);
  process.on('disconnect', () => process.exit(0));
  const everyMs = Number(process.env.BYSTANDER_MS);
  const timeoutMs = Number(process.env.BYSTANDER_TIMEOUT_MS);
  let client: LiveClient | undefined;
  // An upgrade refused for load (503 with 908) is tried again, as an app would.
  for (let attempt = 1; !client; attempt++) {
    try {
      client = await LiveClient.connect(process.env.BYSTANDER_URL!, { token: process.env.BYSTANDER_TOKEN!, requestTimeoutMs: timeoutMs });
    } catch (err) {
      if (err instanceof ServerError && (err.code === 908 || err.code === 503) && attempt < 20) {
        await sleep(200 + Math.random() * 300);
        continue;
      }
      send({ ev: 'fail', error: `${(err as Error).message}` });
      return void setTimeout(() => process.exit(1), 100);
    }
  }
  send({ ev: 'ready' });

  const step = async (warmupMs: number, measureMs: number): Promise<BystanderStep> => {
    const hist = new Histogram();
    const failed: Record<string, number> = {};
    let measuring = false;
    let sent = 0;
    let sentAll = 0;
    let pending = 0;
    const poke = () => {
      if (client.closed) return;
      const m = measuring;
      if (m) sent++;
      sentAll++;
      pending++;
      const t = performance.now();
      client.request('session.whoami', {}).then(
        () => (pending--, m && hist.add(performance.now() - t)),
        (err: unknown) => (pending--, m && (failed[classify(err)] = (failed[classify(err)] ?? 0) + 1)),
      );
    };
    const timer = setInterval(poke, everyMs);
    await sleep(warmupMs);
    measuring = true;
    await sleep(measureMs);
    measuring = false;
    clearInterval(timer);
    const until = performance.now() + timeoutMs + 2000;
    while (pending > 0 && performance.now() < until) await sleep(20);
    return { sent, sentAll, pending, ok: hist.count, p50: round(hist.percentile(50)), p99: round(hist.percentile(99)), max: round(hist.max), failed };
  };

  const recover = async (maxMs: number): Promise<number | null> => {
    const t0 = performance.now();
    let fast = 0;
    while (performance.now() < t0 + maxMs && !client.closed) {
      const t = performance.now();
      const ok = await client.request('session.whoami', {}).then(
        () => true,
        () => false,
      );
      fast = ok && performance.now() - t < 50 ? fast + 1 : 0;
      if (fast >= 3) return performance.now() - t0;
      await sleep(50);
    }
    return null;
  };

  process.on('message', (m: ToBystander) => {
    if (m.cmd === 'step') void step(m.warmupMs, m.measureMs).then((r) => send({ ev: 'step', ...r }));
    else if (m.cmd === 'recover') void recover(m.maxMs).then((ms) => send({ ev: 'recover', ms }));
  });
}

/** The bench's side: spawns the bystander process and asks it for one step / recovery at a time. */
export class Bystander {
  private waiting: { ev: string; resolve(m: FromBystander): void; reject(e: Error): void } | undefined;
  private exit: string | undefined;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromBystander) => {
      const w = this.waiting;
      if (w && (m.ev === w.ev || m.ev === 'fail')) {
        this.waiting = undefined;
        if (m.ev === 'fail') w.reject(new Error(`bystander: ${m.error}`));
        else w.resolve(m);
      }
    });
    child.once('exit', (code, signal) => {
      this.exit = `the bystander process exited (code ${code}, signal ${signal})`;
      this.waiting?.reject(new Error(this.exit));
      this.waiting = undefined;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(url: string, token: string, everyMs: number, timeoutMs: number): Promise<Bystander> {
    const env = { BYSTANDER_URL: url, BYSTANDER_TOKEN: token, BYSTANDER_MS: String(everyMs), BYSTANDER_TIMEOUT_MS: String(timeoutMs) };
    const { child } = spawnNode('bench/lib/overload-bystander.ts', env);
    const b = new Bystander(child);
    try {
      await b.ask('ready', undefined, 30_000);
    } catch (err) {
      b.stop();
      throw err;
    }
    return b;
  }

  private ask(ev: FromBystander['ev'], msg: ToBystander | undefined, timeoutMs: number): Promise<FromBystander> {
    if (this.exit) return Promise.reject(new Error(this.exit));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.waiting = undefined, reject(new Error(`bystander: no ${ev} report within ${timeoutMs} ms`))), timeoutMs);
      this.waiting = { ev, resolve: (m) => (clearTimeout(timer), resolve(m)), reject: (e) => (clearTimeout(timer), reject(e)) };
      if (msg) this.child.send(msg);
    });
  }

  /** Pokes for warmupMs + measureMs from now; resolves once its requests settled. */
  step(warmupMs: number, measureMs: number, timeoutMs: number): Promise<BystanderStep> {
    return this.ask('step', { cmd: 'step', warmupMs, measureMs }, warmupMs + measureMs + timeoutMs + 10_000) as Promise<BystanderStep & { ev: 'step' }>;
  }

  /** ms until three whoami in a row were answered within 50 ms (null: not within maxMs). */
  async recover(maxMs: number): Promise<number | null> {
    const m = (await this.ask('recover', { cmd: 'recover', maxMs }, maxMs + 15_000)) as { ms: number | null };
    return m.ms;
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

if (process.env.BYSTANDER_URL && process.send) void child();
