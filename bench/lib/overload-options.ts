/**
 * The command line of bench/overload.ts (see the comment at its top) and the
 * request mix it describes: the options, checked, as constants.
 */
import { parseArgs } from 'node:util';

export const { values } = parseArgs({
  options: {
    conns: { type: 'string', default: '400' },
    rooms: { type: 'string', default: '10' },
    mix: { type: 'string', default: 'whoami:5,viewers:3,presence:2' },
    capacity: { type: 'string' },
    'ramp-start': { type: 'string', default: '500' },
    'ramp-factor': { type: 'string', default: '1.25' },
    'ramp-seconds': { type: 'string', default: '3' },
    'ramp-max': { type: 'string', default: '50000' },
    'p99-ms': { type: 'string', default: '100' },
    steps: { type: 'string', default: '0.5,1,1.5,2,3,4' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '10000' },
    recover: { type: 'string', default: '30' },
    'bystander-ms': { type: 'string', default: '100' },
    targets: { type: 'string', default: 'ours,bare' },
    'rate-limit': { type: 'string', default: 'raise' },
    env: { type: 'string', multiple: true, default: [] },
    server: { type: 'string' },
    out: { type: 'string' },
    // Writes a V8 CPU profile of our server to bench/results/prof/ (open in Chrome DevTools).
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    'npx tsx bench/overload.ts [--capacity N | --ramp-start 500 --ramp-factor 1.25 --ramp-seconds 3 --p99-ms 100]\n' +
      '  [--steps 0.5,1,1.5,2,3,4] [--seconds 10] [--warmup 1] [--conns 400] [--rooms 10] [--mix whoami:5,viewers:3,presence:2]\n' +
      '  [--timeout 10000] [--recover 30] [--bystander-ms 100] [--targets ours,bare] [--rate-limit raise|default]\n' +
      '  [--env LIVE_X=1 ...] [--server path/to/built/main.js] [--out file.json] [--profile]\n' +
      'See the comment at the top of bench/overload.ts.',
  );
  process.exit(0);
}

export const num = (name: string, v: string | undefined, min = 0): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number ≥ ${min}, got "${v}"`);
  return n;
};
export const CONNS = num('conns', values.conns, 1);
export const ROOMS = num('rooms', values.rooms, 1);
export const SECONDS = num('seconds', values.seconds, 0.5);
export const WARMUP = num('warmup', values.warmup);
export const TIMEOUT_MS = num('timeout', values.timeout, 100);
export const RECOVER_S = num('recover', values.recover);
export const BYSTANDER_MS = num('bystander-ms', values['bystander-ms'], 10);
export const RAMP_START = num('ramp-start', values['ramp-start'], 1);
export const RAMP_FACTOR = num('ramp-factor', values['ramp-factor'], 1.01);
export const RAMP_SECONDS = num('ramp-seconds', values['ramp-seconds'], 0.5);
export const RAMP_MAX = num('ramp-max', values['ramp-max'], 1);
export const P99_MS = num('p99-ms', values['p99-ms'], 1);
export const CAPACITY = values.capacity === undefined ? undefined : num('capacity', values.capacity, 1);
export const STEPS = values.steps.split(',').map((s) => num('steps', s.trim(), 0.01));
export const TARGETS = values.targets.split(',').map((t) => t.trim());
for (const t of TARGETS) if (t !== 'ours' && t !== 'bare') throw new Error(`--targets: ours and/or bare, got "${t}"`);
if (values['rate-limit'] !== 'raise' && values['rate-limit'] !== 'default') throw new Error('--rate-limit: raise or default');
export const RAISE_RATE_LIMIT = values['rate-limit'] === 'raise';
if (ROOMS > CONNS) throw new Error('--rooms must not exceed --conns');
export const EXTRA_ENV: Record<string, string> = {};
for (const kv of values.env.flatMap((e) => e.split(','))) {
  const eq = kv.indexOf('=');
  if (eq < 1) throw new Error(`--env: expected KEY=VALUE, got "${kv}"`);
  EXTRA_ENV[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
}

// ---------------------------------------------------------------- request mix

export const HOST_BASE = 1; // hosts: users 1..ROOMS
export const BYSTANDER_ID = 999;
export const LOAD_BASE = 1001; // load connections: users 1001..1000+CONNS

/** What a load connection sends, per kind: the op and its data for that connection. */
export interface ConnInfo {
  roomId: number;
  presenceIds: number[];
}
export const OP_KINDS = {
  whoami: { op: 'session.whoami', d: (_c: ConnInfo) => ({}) },
  viewers: { op: 'room.viewers', d: (c: ConnInfo) => ({ roomId: c.roomId, page: 1, pageSize: 20 }) },
  presence: { op: 'presence.query', d: (c: ConnInfo) => ({ userIds: c.presenceIds }) },
  ping: { op: 'session.ping', d: (_c: ConnInfo) => ({}) },
} as const;
export type OpKind = keyof typeof OP_KINDS;

export const MIX: Array<{ kind: OpKind; weight: number }> = values.mix.split(',').map((part) => {
  const [kind, w] = part.split(':').map((s) => s.trim()) as [string, string | undefined];
  if (!(kind in OP_KINDS)) throw new Error(`--mix: unknown op "${kind}" (${Object.keys(OP_KINDS).join(', ')})`);
  return { kind: kind as OpKind, weight: num('mix', w ?? '1', 0) };
});
/** The mix as a repeating sequence of indices into MIX, interleaved (smooth weighted round robin) so that each op is spread evenly. */
export const MIX_SEQ: number[] = (() => {
  const total = MIX.reduce((a, m) => a + m.weight, 0);
  if (!(total > 0)) throw new Error('--mix: weights must add up to more than 0');
  const scale = MIX.every((m) => Number.isInteger(m.weight)) ? 1 : 100 / total;
  const w = MIX.map((m) => Math.round(m.weight * scale));
  const n = w.reduce((a, b) => a + b, 0);
  const cur = w.map(() => 0);
  const seq: number[] = [];
  for (let k = 0; k < n; k++) {
    let best = 0;
    for (let i = 0; i < w.length; i++) {
      cur[i]! += w[i]!;
      if (cur[i]! > cur[best]!) best = i;
    }
    cur[best]! -= n;
    seq.push(best);
  }
  return seq;
})();
export const MIX_LABEL = (() => {
  const total = MIX.reduce((a, m) => a + m.weight, 0);
  return MIX.map((m) => `${OP_KINDS[m.kind].op} ${Math.round((100 * m.weight) / total)} %`).join(', ');
})();

/** 20 distinct user ids for presence.query: load users around this one, some of them never connected. */
export function presenceIdsFor(i: number): number[] {
  const ids = new Set<number>();
  for (let j = 0; ids.size < 20; j++) ids.add(LOAD_BASE + ((i + j * 17) % (CONNS + 50)));
  return [...ids];
}
