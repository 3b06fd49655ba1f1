import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Builds src/ to dist/ so the server is measured as it runs in production (plain node, no loader). */
export function buildServer(): string {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  return 'dist/main.js';
}

export interface StartOptions {
  /** Called with each line the child writes to stdout (pino logs of our server); stdout is then piped, not ignored. */
  onStdoutLine?(line: string): void;
}

/** Starts an entry (TypeScript through tsx, or built JavaScript) as a child process and waits for its `{ready, port}` IPC message. */
export function startProcess(entry: string, env: Record<string, string>, nodeArgs: string[] = [], opts: StartOptions = {}): Promise<{ child: ChildProcess; port: number }> {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const stdout = process.env.BENCH_SERVER_LOGS ? 'inherit' : opts.onStdoutLine ? 'pipe' : 'ignore';
  const child = spawn(process.execPath, [...nodeArgs, ...loader, entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
  });
  if (stdout === 'pipe' && child.stdout && opts.onStdoutLine) {
    const onLine = opts.onStdoutLine;
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line) onLine(line);
    });
  }
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)));
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (m.ready && m.port) resolve({ child, port: m.port });
    });
  });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** Resident memory of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU time (user+system) of a process in ms (Linux, 100 ticks/s). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
