/**
 * tsx bench/lib/heap-summary.ts <snapshot> [--top 40]
 * tsx bench/lib/heap-summary.ts <before> <after> --per <N> [--top 40] [--json out.json] [--within 'nact actor,Session']
 *
 * Summarizes a V8 .heapsnapshot (Chrome DevTools format, as written by
 * v8.writeHeapSnapshot or --heapsnapshot-signal) without DevTools:
 *
 *  - by kind: every node grouped by a key — the constructor name for class
 *    instances; for plain objects `Object{first,property,names}` (so a
 *    Session and a Directory entry are told apart; small-integer properties
 *    are not heap references and do not show); `Context{captured,vars}` for
 *    closure contexts; `(closure) name`; collections (Map, Set, Array) and
 *    internal backing stores get `<-Owner.field` after them, the first strong
 *    reference to them — with count and self size;
 *  - by component: the heap partitioned along the dominator tree: a node
 *    belongs to the nearest dominator (itself included) that a COMPONENTS
 *    rule names (e.g. "nact actor", "Session"); the rest is "(unattributed)"
 *    by kind. Sizes are self sizes summed, so the components add up to the heap.
 *
 * Given two snapshots (idle, then with N connections) it prints the
 * differences, and with --per N the bytes per connection. The parser reads
 * the file into one Buffer and scans it (no JSON.parse of the whole), so
 * snapshots larger than V8's string limit work.
 */
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface HeapSnapshot {
  nodeCount: number;
  nodeFields: number;
  edgeFields: number;
  nodeTypes: string[];
  edgeTypes: string[];
  /** Flat, nodeFields per node: type, name, id, self_size, edge_count, … */
  nodes: Float64Array;
  /** Flat, edgeFields per edge: type, name_or_index, to_node (an index into `nodes`). */
  edges: Float64Array;
  strings: string[];
  fieldIndex: { type: number; name: number; selfSize: number; edgeCount: number; edgeType: number; edgeName: number; edgeTo: number };
}

/** Reads a .heapsnapshot file. */
export function readHeapSnapshot(path: string): HeapSnapshot {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(size);
  for (let off = 0; off < size; ) off += readSync(fd, buf, off, size - off, off);
  closeSync(fd);

  // The header up to "nodes" is small JSON.
  const nodesAt = buf.indexOf('"nodes":');
  if (nodesAt < 0) throw new Error(`${path}: not a heap snapshot (no "nodes")`);
  const header = JSON.parse(buf.toString('utf8', 0, nodesAt).replace(/,\s*$/, '') + '}') as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }; node_count: number; edge_count: number };
  };
  const { meta, node_count: nodeCount, edge_count: edgeCount } = header.snapshot;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;

  let pos = nodesAt;
  const readNumbers = (key: string, count: number): Float64Array => {
    pos = buf.indexOf(`"${key}":`, pos);
    if (pos < 0) throw new Error(`${path}: no "${key}"`);
    pos = buf.indexOf(0x5b /* [ */, pos) + 1;
    const out = new Float64Array(count);
    let n = 0;
    let cur = 0;
    let inNum = false;
    for (; pos < size; pos++) {
      const c = buf[pos]!;
      if (c >= 48 && c <= 57) {
        cur = cur * 10 + (c - 48);
        inNum = true;
      } else {
        if (inNum) {
          out[n++] = cur;
          cur = 0;
          inNum = false;
        }
        if (c === 0x5d /* ] */) break;
      }
    }
    if (n !== count) throw new Error(`${path}: "${key}" has ${n} numbers, expected ${count}`);
    return out;
  };
  const nodes = readNumbers('nodes', nodeCount * nodeFields);
  const edges = readNumbers('edges', edgeCount * edgeFields);

  pos = buf.indexOf('"strings":', pos);
  pos = buf.indexOf(0x5b, pos) + 1;
  const strings: string[] = [];
  for (; pos < size; pos++) {
    const c = buf[pos]!;
    if (c === 0x5d) break;
    if (c !== 0x22 /* " */) continue;
    let end = pos + 1;
    let escaped = false;
    while (end < size) {
      const d = buf[end]!;
      if (d === 0x5c /* \ */) {
        escaped = true;
        end += 2;
        continue;
      }
      if (d === 0x22) break;
      end++;
    }
    const raw = buf.toString('utf8', pos + 1, end);
    strings.push(escaped ? (JSON.parse(`"${raw}"`) as string) : raw);
    pos = end;
  }

  const f = (list: string[], name: string) => {
    const i = list.indexOf(name);
    if (i < 0) throw new Error(`${path}: no field ${name}`);
    return i;
  };
  return {
    nodeCount,
    nodeFields,
    edgeFields,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    nodes,
    edges,
    strings,
    fieldIndex: {
      type: f(meta.node_fields, 'type'),
      name: f(meta.node_fields, 'name'),
      selfSize: f(meta.node_fields, 'self_size'),
      edgeCount: f(meta.node_fields, 'edge_count'),
      edgeType: f(meta.edge_fields, 'type'),
      edgeName: f(meta.edge_fields, 'name_or_index'),
      edgeTo: f(meta.edge_fields, 'to_node'),
    },
  };
}

/**
 * Components of this server, matched against node kinds (first match wins).
 * A node belongs to the nearest dominator matching one; order matters only
 * when a kind matches two.
 */
export const COMPONENTS: Array<[RegExp, string]> = [
  // uWS.js: getUserData() is the WebSocket object itself; res.upgrade() copies the
  // userData's properties onto it (identity, resume, session, bucket, closed, ready, conn).
  [/^uWS\.WebSocket$/, 'uWS WebSocket object (= SocketData)'],
  [/^Object\{(userId,)?role,profile\}$/, 'identity (token claims)'],
  [/^Object\{nickname,avatar,gender/, 'profile (token claims)'],
  [/^Object\{send,end,subscribe,unsubscribe\}/, 'gateway Conn (4 closures)'],
  [/^Context\{ws,data/, 'gateway.open closure context'],
  [/^TokenBucket$/, 'TokenBucket'],
  [/^Promise<-uWS\.WebSocket\.ready/, 'gateway ready promise'],
  // sessions.ts Session (its one-off hidden class included: it dominates it).
  [/^Object\{(userId,)?role,profile,id,conn,live/, 'Session'],
  // actors: nact and the directory's bookkeeping.
  [/^PersistentActor$|^Actor$/, 'nact actor'],
  [/^ActorReference$|^ActorPath$|^Object\{__nact/, 'nact reference/path'],
  [/^Object\{key,ref,/, 'Directory entry'],
  [/^Object\{(userId,)?role,profile,latestSessionId/, 'user actor state'],
  [/^Pino$/, 'pino child logger'],
  [/^(Map|Set)<-Object\{online/, 'presence index'],
  [/^Map<-SessionRegistry\./, 'SessionRegistry maps'],
  [/^Map<-Directory\./, 'Directory maps'],
  [/^Immediate$/, 'nact Immediates (kept in actor.immediate)'],
  [/^Map<-ActorSystem\.child/, 'nact system children maps'],
  [/^Map<-ActorSystem\./, 'nact system maps'],
];

export interface KindRow {
  kind: string;
  count: number;
  self: number;
}

export interface Summary {
  total: number;
  nodes: number;
  byKind: Map<string, KindRow>;
  byComponent: Map<string, KindRow>;
  /** Kinds inside each named component. */
  inComponent: Map<string, Map<string, KindRow>>;
}

const COLLECTIONS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Array', 'Object', 'Promise']);

/** Groups a snapshot's nodes by kind and by component (see the file comment). */
export function summarize(s: HeapSnapshot, rules = COMPONENTS): Summary {
  const { nodes, edges, strings, nodeFields: NF, edgeFields: EF, nodeCount: N, fieldIndex: F } = s;
  const typeOf = (n: number) => s.nodeTypes[nodes[n * NF + F.type]!]!;
  const nameOf = (n: number) => strings[nodes[n * NF + F.name]!]!;
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  const elementT = s.edgeTypes.indexOf('element');
  const hiddenT = s.edgeTypes.indexOf('hidden');
  const propertyT = s.edgeTypes.indexOf('property');
  const contextT = s.edgeTypes.indexOf('context');

  // First edge of every node.
  const firstEdge = new Uint32Array(N + 1);
  for (let n = 0, e = 0; n < N; n++) {
    firstEdge[n] = e;
    e += nodes[n * NF + F.edgeCount]!;
  }
  firstEdge[N] = edges.length / EF;
  const edgeName = (e: number) => {
    const t = edges[e * EF + F.edgeType]!;
    const v = edges[e * EF + F.edgeName]!;
    return t === elementT || t === hiddenT ? `[${v}]` : strings[v]!;
  };

  // First strong retainer of each node (to name collections and backing stores by their owner).
  const retainer = new Int32Array(N).fill(-1);
  const retainerEdge = new Int32Array(N).fill(-1);
  for (let n = 0; n < N; n++) {
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e++) {
      const t = edges[e * EF + F.edgeType]!;
      if (t === weak || t === shortcut) continue;
      const to = edges[e * EF + F.edgeTo]! / NF;
      if (retainer[to] === -1) {
        retainer[to] = n;
        retainerEdge[to] = e;
      }
    }
  }

  const props = (n: number, type: number, max: number) => {
    const out: string[] = [];
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]! && out.length < max; e++) {
      if (edges[e * EF + F.edgeType] !== type) continue;
      const name = edgeName(e);
      if (name !== '__proto__' && name !== 'map') out.push(name);
    }
    return out;
  };
  const baseKind = (n: number): string => {
    const type = typeOf(n);
    const name = nameOf(n);
    switch (type) {
      case 'object':
        if (name === 'Object') return `Object{${props(n, propertyT, 8).join(',')}}`;
        if (name === 'system / Context') return `Context{${props(n, contextT, 8).join(',')}}`;
        return name;
      case 'closure':
        return `(closure) ${name || '(anonymous)'}`;
      case 'string':
      case 'concatenated string':
      case 'sliced string':
        return `(${type})`;
      case 'number':
        return '(heap number)';
      case 'code':
        return '(code)';
      default:
        return `(${type}) ${name.length > 60 ? `${name.slice(0, 60)}…` : name}`;
    }
  };
  const base: string[] = new Array(N);
  for (let n = 0; n < N; n++) base[n] = baseKind(n);
  const ownerName = (n: number) => {
    const r = retainer[n]!;
    if (r < 0) return '?';
    return `${base[r]!.replace(/^Object\{.*/, (k) => k.slice(0, 40))}.${edgeName(retainerEdge[n]!)}`;
  };
  // Collections carry their owner (`Map<-SessionRegistry.byId`); their backing stores and other
  // internal arrays carry the collection's kind, or their own owner.
  const isCollection = (n: number) => typeOf(n) === 'object' && COLLECTIONS.has(nameOf(n)) && !base[n]!.startsWith('Object{');
  const isInternal = (n: number) => {
    const type = typeOf(n);
    return type === 'array' || type === 'hidden' || type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || (type === 'object' && /^system \/ |^\(/.test(nameOf(n)) && !base[n]!.startsWith('Context'));
  };
  const kinds: string[] = new Array(N);
  for (let n = 0; n < N; n++) if (isCollection(n)) kinds[n] = `${base[n]}<-${ownerName(n)}`;
  for (let n = 0; n < N; n++) {
    if (kinds[n] !== undefined) continue;
    const r = retainer[n]!;
    kinds[n] = isInternal(n) ? (r >= 0 && isCollection(r) ? `${base[n]}<-${kinds[r]}` : `${base[n]}<-${ownerName(n)}`) : base[n]!;
  }

  // Dominator tree (Cooper, Harvey & Kennedy), from node 0, over strong edges.
  const post = new Int32Array(N).fill(-1); // postorder number
  const order = new Int32Array(N); // postorder → node
  let count = 0;
  {
    const stack = new Int32Array(N);
    const iter = new Uint32Array(N);
    const seen = new Uint8Array(N);
    let sp = 0;
    stack[sp++] = 0;
    seen[0] = 1;
    iter[0] = firstEdge[0]!;
    while (sp > 0) {
      const n = stack[sp - 1]!;
      let pushed = false;
      while (iter[n]! < firstEdge[n + 1]!) {
        const e = iter[n]!++;
        const t = edges[e * EF + F.edgeType]!;
        if (t === weak || t === shortcut) continue;
        const to = edges[e * EF + F.edgeTo]! / NF;
        if (seen[to]) continue;
        seen[to] = 1;
        iter[to] = firstEdge[to]!;
        stack[sp++] = to;
        pushed = true;
        break;
      }
      if (!pushed) {
        sp--;
        post[n] = count;
        order[count++] = n;
      }
    }
  }
  // Predecessors (strong edges between reachable nodes), CSR.
  const predStart = new Uint32Array(N + 1);
  for (let n = 0; n < N; n++) {
    if (post[n]! < 0) continue;
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e++) {
      const t = edges[e * EF + F.edgeType]!;
      if (t === weak || t === shortcut) continue;
      predStart[edges[e * EF + F.edgeTo]! / NF + 1]!++;
    }
  }
  for (let n = 0; n < N; n++) predStart[n + 1]! += predStart[n]!;
  const preds = new Int32Array(predStart[N]!);
  const fill = predStart.slice(0, N);
  for (let n = 0; n < N; n++) {
    if (post[n]! < 0) continue;
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e++) {
      const t = edges[e * EF + F.edgeType]!;
      if (t === weak || t === shortcut) continue;
      const to = edges[e * EF + F.edgeTo]! / NF;
      preds[fill[to]!++] = n;
    }
  }
  const idom = new Int32Array(N).fill(-1); // by node
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (post[a]! < post[b]!) a = idom[a]!;
      while (post[b]! < post[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = count - 2; i >= 0; i--) {
      const n = order[i]!;
      let d = -1;
      for (let p = predStart[n]!; p < predStart[n + 1]!; p++) {
        const m = preds[p]!;
        if (idom[m] === -1) continue;
        d = d === -1 ? m : intersect(m, d);
      }
      if (d !== -1 && idom[n] !== d) {
        idom[n] = d;
        changed = true;
      }
    }
  }

  // Components: top-down (reverse postorder), a node takes its own rule or its dominator's component.
  const comp: Array<string | undefined> = new Array(N);
  const ruleOf = new Map<string, string | null>();
  for (let i = count - 1; i >= 0; i--) {
    const n = order[i]!;
    const k = kinds[n]!;
    let r = ruleOf.get(k);
    if (r === undefined) {
      r = rules.find(([re]) => re.test(k))?.[1] ?? null;
      ruleOf.set(k, r);
    }
    comp[n] = r ?? (n === 0 ? undefined : comp[idom[n]!]);
  }

  const byKind = new Map<string, KindRow>();
  const byComponent = new Map<string, KindRow>();
  const inComponent = new Map<string, Map<string, KindRow>>();
  const add = (m: Map<string, KindRow>, key: string, self: number) => {
    let row = m.get(key);
    if (!row) m.set(key, (row = { kind: key, count: 0, self: 0 }));
    row.count++;
    row.self += self;
  };
  let total = 0;
  for (let n = 0; n < N; n++) {
    const self = nodes[n * NF + F.selfSize]!;
    total += self;
    add(byKind, kinds[n]!, self);
    const c = comp[n];
    add(byComponent, c ?? (post[n]! < 0 ? '(unreachable or weak only)' : `(unattributed) ${kinds[n]!.slice(0, 70)}`), self);
    if (c) {
      let m = inComponent.get(c);
      if (!m) inComponent.set(c, (m = new Map()));
      add(m, kinds[n]!, self);
    }
  }
  return { total, nodes: N, byKind, byComponent, inComponent };
}

export interface DiffRow {
  kind: string;
  count: number;
  self: number;
  perUnit?: number;
}

/** after − before, largest growth first. */
export function diff(before: Map<string, KindRow>, after: Map<string, KindRow>, per?: number): DiffRow[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const rows: DiffRow[] = [];
  for (const k of keys) {
    const a = after.get(k);
    const b = before.get(k);
    const row: DiffRow = { kind: k, count: (a?.count ?? 0) - (b?.count ?? 0), self: (a?.self ?? 0) - (b?.self ?? 0) };
    if (per) row.perUnit = row.self / per;
    rows.push(row);
  }
  return rows.sort((x, y) => y.self - x.self);
}

/** Component growth folded: rows whose per-connection share is small go into "(other)". */
export function formatRows(rows: DiffRow[], top: number, per?: number): string {
  const shown = rows.slice(0, top);
  const rest = rows.slice(top);
  const sum = (rs: DiffRow[], f: (r: DiffRow) => number) => rs.reduce((a, r) => a + f(r), 0);
  const lines = shown.map((r) => fmt(r.kind, r.count, r.self, per));
  if (rest.length) lines.push(fmt(`(${rest.length} more kinds)`, sum(rest, (r) => r.count), sum(rest, (r) => r.self), per));
  lines.push(fmt('TOTAL', sum(rows, (r) => r.count), sum(rows, (r) => r.self), per));
  return [header(per), ...lines].join('\n');
}

const header = (per?: number) =>
  `${'count'.padStart(10)} ${'self bytes'.padStart(13)}${per ? `${'per conn: n'.padStart(13)} ${'bytes'.padStart(8)}` : ''}  kind`;
function fmt(kind: string, count: number, self: number, per?: number): string {
  const p = per ? `${(count / per).toFixed(2).padStart(13)} ${(self / per).toFixed(0).padStart(8)}` : '';
  return `${String(count).padStart(10)} ${String(self).padStart(13)}${p}  ${kind}`;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { per: { type: 'string' }, top: { type: 'string', default: '40' }, json: { type: 'string' }, within: { type: 'string', default: '' } },
  });
  const top = Number(values.top);
  const per = values.per ? Number(values.per) : undefined;
  if (positionals.length === 1) {
    const s = summarize(readHeapSnapshot(positionals[0]!));
    const rows = (m: Map<string, KindRow>) => [...m.values()].sort((a, b) => b.self - a.self);
    console.log(`${positionals[0]}: ${s.nodes} nodes, ${(s.total / 1048576).toFixed(1)} MiB\n\nby component:`);
    console.log(formatRows(rows(s.byComponent), top));
    console.log('\nby kind:');
    console.log(formatRows(rows(s.byKind), top));
    return;
  }
  if (positionals.length !== 2) {
    console.error('usage: heap-summary <snapshot> | <before> <after> [--per N] [--top 40] [--json out.json]');
    process.exit(2);
  }
  const [a, b] = [summarize(readHeapSnapshot(positionals[0]!)), summarize(readHeapSnapshot(positionals[1]!))];
  const result = heapDiff(a, b, per);
  console.log(formatHeapDiff(result, top));
  // --within 'nact actor,Session': what each of those components is made of.
  for (const c of values.within.split(',').map((x) => x.trim()).filter(Boolean)) {
    console.log(`\ninside "${c}":`);
    console.log(formatRows(diff(a.inComponent.get(c) ?? new Map(), b.inComponent.get(c) ?? new Map(), per), top, per));
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
}

export interface HeapDiff {
  per: number | undefined;
  before: { nodes: number; bytes: number };
  after: { nodes: number; bytes: number };
  components: DiffRow[];
  kinds: DiffRow[];
}

export function heapDiff(a: Summary, b: Summary, per?: number): HeapDiff {
  return {
    per,
    before: { nodes: a.nodes, bytes: a.total },
    after: { nodes: b.nodes, bytes: b.total },
    components: diff(a.byComponent, b.byComponent, per),
    kinds: diff(a.byKind, b.byKind, per),
  };
}

export function formatHeapDiff(d: HeapDiff, top = 40): string {
  const mib = (x: number) => `${(x / 1048576).toFixed(1)} MiB`;
  const growth = d.after.bytes - d.before.bytes;
  return [
    `JS heap (live objects): ${mib(d.before.bytes)} → ${mib(d.after.bytes)} (+${mib(growth)}${d.per ? `, ${(growth / d.per).toFixed(0)} B per connection over ${d.per}` : ''})`,
    '',
    'growth by component (dominator tree; a node counts in the nearest dominator a rule names):',
    formatRows(d.components, top, d.per),
    '',
    'growth by kind:',
    formatRows(d.kinds, top, d.per),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
