import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_SECRET } from './server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  /** With LIVE_TEST_CLOCK_START set: moves the server's fake clock forward. */
  advance(ms: number): Promise<number>;
}

/** Runs src/main.ts as a real process (so it can be killed -9) and waits for its ready message. */
export function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, LIVE_HOST: '127.0.0.1', LIVE_PORT: '0', LIVE_TOKEN_SECRET: TEST_SECRET, LIVE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c));
  child.stderr?.on('data', (c: Buffer) => (out += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (!m.ready || !m.port) return;
      clearTimeout(timer);
      const advance = (ms: number) =>
        new Promise<number>((done) => {
          const onMessage = (r: { advanced?: number }) => {
            if (typeof r.advanced !== 'number') return;
            child.off('message', onMessage);
            done(r.advanced);
          };
          child.on('message', onMessage);
          child.send({ advance: ms });
        });
      resolve({ child, port: m.port, url: `ws://127.0.0.1:${m.port}/ws`, output: () => out, advance });
    });
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
