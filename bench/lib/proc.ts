import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds src/ to dist/ so the server is measured as it runs in production
 * (plain node, no loader). `dir` is the checkout to build (default: this one);
 * the bench can measure another tree, e.g. a `git archive` of a commit.
 * Returns the entry to pass to startProcess (absolute when `dir` is given).
 */
export function buildServer(dir: string = ROOT): string {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { cwd: dir, stdio: 'inherit' });
  return dir === ROOT ? 'dist/main.js' : join(dir, 'dist/main.js');
}

export interface StartOptions {
  /** Called with each line the child writes to stdout (pino logs of our server). */
  onStdoutLine?(line: string): void;
  /**
   * Raise the child's soft RLIMIT_NOFILE to at least this many descriptors
   * (up to the hard limit, which an unprivileged process cannot raise):
   * the child is started through `sh -c 'ulimit -n …; exec node …'`.
   */
  nofile?: number;
  /** Pin the child to these CPUs (a `taskset -c` list such as "0" or "1-3"; Linux). */
  cpus?: string;
  /** How many warn+ lines (and stderr lines) to keep; 200 unless told. */
  keepLines?: number;
}

/**
 * What a child said that matters when a bench fails: its pino lines at level
 * ≥ 40 (warn, error, fatal), non-JSON stdout lines and its stderr, the last
 * `keepLines` of them, plus counts and how it exited.
 */
export class ServerLog {
  readonly lines: string[] = [];
  warn = 0;
  error = 0;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly name: string,
    private readonly keep = 200,
  ) {}

  /** One stdout line: kept when it is a pino line at level ≥ 40 or not a pino line at all. */
  stdout(line: string): void {
    const level = pinoLevel(line);
    if (level !== undefined && level < 40) return;
    if (level !== undefined && level >= 50) this.error++;
    else if (level !== undefined) this.warn++;
    this.push(line);
  }

  stderr(line: string): void {
    this.push(`[stderr] ${line}`);
  }

  private push(line: string): void {
    this.lines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }

  /** The kept lines, oldest first, under a heading (for an aborting bench). */
  format(): string {
    const exit = this.exit ? `, exited with ${this.exit.signal ?? this.exit.code}` : '';
    const head = `--- ${this.name}: ${this.warn} warn, ${this.error} error+ lines${exit}; last ${this.lines.length} kept (level ≥ warn, non-JSON, stderr) ---`;
    return [head, ...this.lines, `--- end of ${this.name} log ---`].join('\n');
  }
}

/** The `level` of a pino JSON line, or undefined when the line is not one. */
function pinoLevel(line: string): number | undefined {
  const m = /^\{"level":(\d+)/.exec(line) ?? (line.startsWith('{') ? /"level":(\d+)/.exec(line) : null);
  return m ? Number(m[1]) : undefined;
}

function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line) onLine(line);
  });
  stream.on('end', () => rest && onLine(rest));
}

export interface Started {
  child: ChildProcess;
  port: number;
  /** Warn+ lines and stderr of the child, for printing when a bench aborts. */
  logs: ServerLog;
}

/**
 * Spawns node on an entry (TypeScript through tsx, or built JavaScript) with
 * an IPC channel. Its stdout and stderr are always piped: warn+ pino lines,
 * non-JSON lines and stderr go to `logs` (a ring of the last ~200); stderr is
 * also echoed; BENCH_SERVER_LOGS=1 echoes every stdout line too.
 */
export function spawnNode(entry: string, env: Record<string, string>, nodeArgs: string[] = [], opts: StartOptions = {}): { child: ChildProcess; logs: ServerLog } {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const argv = [...nodeArgs, ...loader, entry];
  const echo = Boolean(process.env.BENCH_SERVER_LOGS);
  const logs = new ServerLog(entry, opts.keepLines ?? 200);
  const spawnOpts = { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] satisfies StdioOptions };
  // `exec` (and taskset's own exec) keeps the pid (and the IPC descriptor) of the shell for node.
  const pin = opts.cpus ? `taskset -c ${opts.cpus} ` : '';
  const child =
    opts.nofile || opts.cpus
      ? spawn('/bin/sh', ['-c', `${opts.nofile ? `ulimit -S -n ${nofileFor(opts.nofile)} && ` : ''}exec ${pin}"$0" "$@"`, process.execPath, ...argv], spawnOpts)
      : spawn(process.execPath, argv, spawnOpts);
  eachLine(child.stdout!, (line) => {
    if (echo) process.stdout.write(`${line}\n`);
    logs.stdout(line);
    opts.onStdoutLine?.(line);
  });
  eachLine(child.stderr!, (line) => {
    process.stderr.write(`${line}\n`);
    logs.stderr(line);
  });
  child.once('exit', (code, signal) => (logs.exit = { code, signal }));
  return { child, logs };
}

/** Starts a server entry with spawnNode and waits for its `{ready, port}` IPC message. */
export function startProcess(entry: string, env: Record<string, string>, nodeArgs: string[] = [], opts: StartOptions = {}): Promise<Started> {
  const { child, logs } = spawnNode(entry, env, nodeArgs, opts);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${entry} exited with ${signal ?? code} before it was ready\n${logs.format()}`)));
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (m.ready && m.port) resolve({ child, port: m.port, logs });
    });
  });
}

/** Node arguments that preload bench/lib/server-probe.mjs (memory figures and heap snapshots over IPC; see probe()). */
export const PROBE_ARGS = ['--import', pathToFileURL(join(ROOT, 'bench/lib/server-probe.mjs')).href];

let probeIds = 0;
/** Asks a server started with PROBE_ARGS for something (see server-probe.mjs); rejects after timeoutMs. */
export function probe<T>(child: ChildProcess, op: 'memory' | 'gc' | 'snapshot', extra: Record<string, unknown> = {}, timeoutMs = 600_000): Promise<T> {
  const id = ++probeIds;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.off('message', onMessage), reject(new Error(`server probe ${op} timed out`))), timeoutMs);
    const onMessage = (m: { probe?: number; error?: string }) => {
      if (m?.probe !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (m.error) reject(new Error(`server probe ${op}: ${m.error}`));
      else resolve(m as T);
    };
    child.on('message', onMessage);
    child.send({ probe: id, op, ...extra });
  });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** Soft and hard RLIMIT_NOFILE of this process (Linux), as children inherit them. */
export function nofileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft ?? 1024, hard: hard ?? 1024 };
}

/** The soft limit to ask for: `want`, capped at the hard limit. */
function nofileFor(want: number): number {
  const { soft, hard } = nofileLimits();
  return Math.max(soft, Math.min(want, hard));
}

/** Open descriptors of a process (Linux). */
export function fdsOf(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Resident memory by kind of mapping (Linux, /proc/<pid>/smaps), bytes:
 * `brk` the [heap] segment (the main thread's malloc: uWS sockets, SQLite,
 * node internals), `anon` other anonymous mappings (V8's heap pages, large
 * mallocs, thread arenas), `file` file-backed (code, libraries, mapped files).
 */
export function rssSplitOf(pid: number): { brk: number; anon: number; file: number } {
  const out = { brk: 0, anon: 0, file: 0 };
  let kind: keyof typeof out = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const path = head[2]!;
      kind = path === '[heap]' ? 'brk' : head[1] !== '0' && path.startsWith('/') ? 'file' : 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}

/**
 * CPU time of the whole machine so far, ms summed over cores (Linux,
 * /proc/stat): `busy` is user + nice + system time of all processes,
 * `softirq` interrupt work not charged to any process (loopback TCP is partly
 * done there).
 */
export function machineCpuMs(): { busy: number; softirq: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return { busy: (f[0]! + f[1]! + f[2]!) * 10, softirq: (f[5]! + f[6]!) * 10 };
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
