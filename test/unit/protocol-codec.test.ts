import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Packr } from 'msgpackr';
import t from 'tap';
import { decode, decodeMarked, DecodeError, encode, MAX_DEPTH } from '../../src/protocol/codec.js';
import { parseRequest, RequestError, wireMismatch } from '../../src/protocol/envelope.js';
import { ERRORS } from '../../src/protocol/errors.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const f64 = (n: number) => {
  const b = new Uint8Array(9);
  b[0] = 0xcb;
  new DataView(b.buffer).setFloat64(1, n);
  return b;
};
const u64 = (n: bigint, marker = 0xcf) => {
  const b = new Uint8Array(9);
  b[0] = marker;
  new DataView(b.buffer).setBigUint64(1, BigInt.asUintN(64, n));
  return b;
};

/**
 * A strict reader of standard MessagePack (no extensions), the way a Swift or
 * Kotlin library reads it, with the rules of docs/protocol.md (valid UTF-8,
 * unique str keys, safe integers, finite floats, depth): proves what we
 * encode is plain MessagePack, and is the oracle of the corruption test.
 */
function referenceDecode(buf: Uint8Array): unknown {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const take = (n: number) => {
    if (pos + n > buf.length) throw new Error('truncated');
    const start = pos;
    pos += n;
    return start;
  };
  const str = (n: number) => new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(take(n), pos));
  const arr = (n: number) => Array.from({ length: n }, () => read());
  const map = (n: number) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = read();
      if (typeof k !== 'string') throw new Error('non-string key');
      if (Object.hasOwn(o, k)) throw new Error('duplicate key');
      Object.defineProperty(o, k, { value: read(), enumerable: true, writable: true, configurable: true });
    }
    return o;
  };
  let depth = -1;
  const read = (): unknown => {
    depth++;
    try {
      return readValue();
    } finally {
      depth--;
    }
  };
  const safe = (n: number) => {
    if (!Number.isSafeInteger(n)) throw new Error('beyond 2^53');
    return n;
  };
  const finite = (n: number) => {
    if (!Number.isFinite(n)) throw new Error('NaN or Infinity');
    return n;
  };
  const readValue = (): unknown => {
    if (depth > MAX_DEPTH) throw new Error('too deep');
    const b = buf[take(1)]!;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return map(b & 0x0f);
    if (b <= 0x9f) return arr(b & 0x0f);
    if (b <= 0xbf) return str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return buf.slice(take(view.getUint8(take(1))), pos);
      case 0xc5: return buf.slice(take(view.getUint16(take(2))), pos);
      case 0xc6: return buf.slice(take(view.getUint32(take(4))), pos);
      case 0xca: return finite(view.getFloat32(take(4)));
      case 0xcb: return finite(view.getFloat64(take(8)));
      case 0xcc: return view.getUint8(take(1));
      case 0xcd: return view.getUint16(take(2));
      case 0xce: return view.getUint32(take(4));
      case 0xcf: return safe(Number(view.getBigUint64(take(8))));
      case 0xd0: return view.getInt8(take(1));
      case 0xd1: return view.getInt16(take(2));
      case 0xd2: return view.getInt32(take(4));
      case 0xd3: return safe(Number(view.getBigInt64(take(8))));
      case 0xd9: return str(view.getUint8(take(1)));
      case 0xda: return str(view.getUint16(take(2)));
      case 0xdb: return str(view.getUint32(take(4)));
      case 0xdc: return arr(view.getUint16(take(2)));
      case 0xdd: return arr(view.getUint32(take(4)));
      case 0xde: return map(view.getUint16(take(2)));
      case 0xdf: return map(view.getUint32(take(4)));
      default: throw new Error(`not plain MessagePack: 0x${b.toString(16)}`);
    }
  };
  const value = read();
  if (pos !== buf.length) throw new Error('trailing bytes');
  return value;
}

/** The assertions the helpers need; every subtest's `t` has them. */
type Asserts = Pick<typeof t, 'ok' | 'equal' | 'same' | 'fail'>;

function refusesDecode(t: Asserts, frame: Uint8Array, what = 'refused'): void {
  try {
    decode(frame);
  } catch (err) {
    t.ok(err instanceof DecodeError, `${what}: DecodeError (${(err as Error).message.slice(0, 60)})`);
    return;
  }
  t.fail(`${what}: accepted`);
}

const sample = {
  op: 'room.user_entered',
  id: 17,
  d: {
    nested: { deeper: { list: [1, [2, [3]], { k: 'v' }] } },
    text: 'héllo 🎁 直播 \u0000 end',
    long: 'x'.repeat(300),
    bytes: Uint8Array.from([0, 1, 2, 254, 255]),
    ints: [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31)],
    big: [2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
    floats: [1.5, -0.25, 3.141592653589793, 1e-300],
    nothing: null,
    yes: true,
    no: false,
    empty: {},
    none: [],
  },
};

t.test('envelopes round trip', async (t) => {
  const envelopes = [
    { op: 'presence.query', id: 1, d: { userIds: [1, 2, 3] } },
    { re: 1, ok: true, d: { statuses: [{ userId: 1, status: 'online' }] } },
    { re: 0, ok: false, err: { code: 902, msg: 'malformed frame' } },
    { op: 'presence.changed', d: { userId: 5, status: 'live' }, seq: 42 },
    sample,
  ];
  for (const e of envelopes) t.same(decode(encode(e)), e, JSON.stringify(e).slice(0, 40));
});

t.test('byte strings come back as copied Uint8Arrays', async (t) => {
  const frame = encode({ b: Uint8Array.from([9, 8, 7]) });
  const out = decode(frame) as { b: Uint8Array };
  t.ok(out.b instanceof Uint8Array);
  t.same([...out.b], [9, 8, 7]);
  frame.fill(0);
  t.same([...out.b], [9, 8, 7], 'not a view into the frame, which uWS frees');
});

t.test('what we encode is plain MessagePack any library can read', async (t) => {
  const back = referenceDecode(encode(sample)) as typeof sample;
  t.same({ ...back, d: { ...back.d, bytes: [...(back.d.bytes as Uint8Array)] } }, {
    ...sample,
    d: { ...sample.d, bytes: [...sample.d.bytes] },
  });
  t.equal(encode({ op: 'x', id: 1, d: {} })[0], 0x83, 'a 3-key map is a fixmap');
  t.equal(encode({})[0], 0x80, 'an empty map is a fixmap');
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  t.equal(encode(keys(15))[0], 0x8f, '15 keys still fit a fixmap');
  t.equal(encode(keys(16))[0], 0xde, '16 keys take a map16');
  t.equal(encode([1, 2])[0], 0x92, 'fixarray');
  t.equal(encode('ab')[0], 0xa2, 'fixstr');
  t.same(encode({ u: undefined }), bytes(0x81, 0xa1, 0x75, 0xc0), 'undefined is written as nil');
});

t.test('integers beyond 2^53 are refused', async (t) => {
  refusesDecode(t, u64(2n ** 53n + 1n), 'uint64 2^53+1');
  refusesDecode(t, u64(2n ** 64n - 1n), 'uint64 max');
  refusesDecode(t, u64(-(2n ** 53n) - 1n, 0xd3), 'int64 -2^53-1');
  refusesDecode(t, new Packr().pack(2n ** 60n), 'a BigInt packed by msgpackr');
});

t.test('NaN and Infinity are refused', async (t) => {
  refusesDecode(t, f64(NaN), 'NaN');
  refusesDecode(t, f64(Infinity), '+Infinity');
  refusesDecode(t, f64(-Infinity), '-Infinity');
  refusesDecode(t, bytes(0xca, 0x7f, 0xc0, 0, 0), 'float32 NaN');
  refusesDecode(t, bytes(0x81, 0xa1, 0x61, ...f64(NaN)), 'NaN inside a map');
});

t.test('extension types are refused', async (t) => {
  refusesDecode(t, bytes(0xd6, 0xff, 0, 0, 0, 1), 'timestamp 32 (ext -1)');
  refusesDecode(t, bytes(0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1), 'timestamp 64 (ext -1)');
  refusesDecode(t, new Packr().pack(new Date(0)), 'a Date as msgpackr writes it');
  refusesDecode(t, bytes(0xd4, 0x01, 0x00), 'fixext 1, type 1');
  refusesDecode(t, bytes(0xd5, 0x10, 0x00, 0x00), 'fixext 2, type 16');
  refusesDecode(t, bytes(0xc7, 0x03, 0x05, 1, 2, 3), 'ext 8, type 5');
  refusesDecode(t, new Packr({ structuredClone: true }).pack(new Set([1])), 'a Set');
  refusesDecode(t, new Packr({ moreTypes: true }).pack(new Uint16Array([1])), 'a typed array');
  refusesDecode(t, new Packr({ moreTypes: true }).pack(/re/), 'a RegExp');
  refusesDecode(t, bytes(0x91, 0xd4, 0x01, 0x00), 'an extension inside an array');
});

t.test('0xc1 (never used) is refused', async (t) => {
  refusesDecode(t, bytes(0xc1));
  refusesDecode(t, bytes(0x81, 0xa1, 0x61, 0xc1), 'inside a map');
});

t.test('nesting deeper than MAX_DEPTH is refused', async (t) => {
  const nested = (n: number) => {
    const frame = new Uint8Array(n + 1).fill(0x91);
    frame[n] = 0x00;
    return frame;
  };
  t.doesNotThrow(() => decode(nested(MAX_DEPTH)), `${MAX_DEPTH} levels`);
  refusesDecode(t, nested(MAX_DEPTH + 1), `${MAX_DEPTH + 1} levels`);
  const maps = (n: number) => bytes(...Array.from({ length: n }, () => [0x81, 0xa1, 0x61]).flat(), 0x00);
  t.doesNotThrow(() => decode(maps(MAX_DEPTH)));
  refusesDecode(t, maps(MAX_DEPTH + 1), 'nested maps too');
  refusesDecode(t, nested(200_000), 'absurd nesting is a DecodeError, not a crash');
});

t.test('trailing, truncated and empty input is refused', async (t) => {
  refusesDecode(t, bytes(0x01, 0x02), 'two values');
  refusesDecode(t, bytes(...encode({ a: 1 }), 0xc0), 'a map and then nil');
  refusesDecode(t, bytes(), 'empty');
  refusesDecode(t, bytes(0x92, 0x01), 'array short of an item');
  refusesDecode(t, bytes(0xa5, 0x61, 0x62), 'string short of bytes');
  refusesDecode(t, bytes(0xcb, 0x3f, 0xf0), 'float64 short of bytes');
  refusesDecode(t, bytes(0xc4, 0x05, 1), 'bin short of bytes');
  const full = encode(sample);
  for (let cut = 1; cut < full.length; cut += 7) {
    refusesDecode(t, full.subarray(0, cut), `cut at ${cut}`);
  }
});

t.test('__proto__ and constructor keys do not pollute Object.prototype', async (t) => {
  const key = (s: string) => [0xa0 + s.length, ...Buffer.from(s)];
  const frame = bytes(0x82, ...key('__proto__'), 0x81, ...key('polluted'), 0xc3, ...key('constructor'), 0x81, ...key('prototype'), 0x81, ...key('polluted'), 0xc3);
  const out = decode(frame) as Record<string, unknown>;
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'plain objects are untouched');
  t.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  t.equal(Object.getPrototypeOf(out), Object.prototype, 'the result is a plain object');
  t.equal((out as { polluted?: unknown }).polluted, undefined, 'the result did not get a new prototype');
  t.equal(Object.getPrototypeOf(decode(encode(JSON.parse('{"__proto__":{"x":1}}')))), Object.prototype);
});

t.test('64-bit formats holding small integers are read as numbers', async (t) => {
  t.equal(decode(u64(5n)), 5, 'uint64 5');
  t.equal(decode(u64(-5n, 0xd3)), -5, 'int64 -5');
  t.equal(decode(u64(BigInt(Number.MAX_SAFE_INTEGER))), Number.MAX_SAFE_INTEGER);
});

t.test('integers beyond 32 bits are written as integers, not float64', async (t) => {
  const int64 = [0xcf, 0xd3];
  t.ok(int64.includes(encode(Date.now())[0]!), 'a millisecond timestamp is a 64-bit integer');
  t.ok(int64.includes(encode(-Date.now())[0]!), 'negative too');
  t.ok(int64.includes(encode(Number.MAX_SAFE_INTEGER)[0]!));
  t.equal(encode(2 ** 31)[0], 0xce, 'uint32 stays uint32');
  t.equal(encode(1.5)[0], 0xcb, 'real floats stay float64');
  const nested = { t: Date.now(), list: [1, 2 ** 40, { deep: -(2 ** 40) }] };
  t.same(decode(encode(nested)), nested, 'round trip through int64 is exact');
  t.equal(typeof nested.t, 'number', 'the caller value is not modified');
});

// ---- parseRequest -----------------------------------------------------------

function refused(t: Asserts, value: unknown, code: number, requestId: number, what: string): RequestError | undefined {
  const frame = value instanceof Uint8Array ? value : encode(value);
  try {
    parseRequest(frame);
  } catch (err) {
    t.ok(err instanceof RequestError, `${what}: a RequestError`);
    const e = err as RequestError;
    t.equal(e.code, code, `${what}: code ${code}`);
    t.equal(e.requestId, requestId, `${what}: requestId ${requestId}`);
    t.same(Object.keys(e.toWire()).sort(), ['code', 'msg'], `${what}: wire shape {code,msg}`);
    return e;
  }
  t.fail(`${what}: accepted`);
  return undefined;
}

const { BAD_PARAMETER, MALFORMED_FRAME, UNKNOWN_OP } = ERRORS;

t.test('a valid request is returned typed', async (t) => {
  t.same(parseRequest(encode({ op: 'presence.query', id: 7, d: { userIds: [1, 2] } })), {
    op: 'presence.query',
    id: 7,
    d: { userIds: [1, 2] },
  });
  t.same(parseRequest(encode({ d: { userIds: [3] }, id: Number.MAX_SAFE_INTEGER, op: 'presence.subscribe' })).id, Number.MAX_SAFE_INTEGER, 'any key order, the largest id');
});

t.test('d defaults to {} when omitted', async (t) => {
  t.same(parseRequest(encode({ op: 'session.ping', id: 1 })), { op: 'session.ping', id: 1, d: {} });
  refused(t, { op: 'presence.query', id: 3 }, BAD_PARAMETER.code, 3, 'omitted d where fields are required');
});

t.test('unknown op → 901 with the request id', async (t) => {
  const e = refused(t, { op: 'room.nope', id: 9, d: {} }, UNKNOWN_OP.code, 9, 'unknown op');
  t.match(e?.message, /room\.nope/);
  refused(t, { op: '__proto__', id: 10 }, UNKNOWN_OP.code, 10, '__proto__ as op');
  refused(t, { op: 'toString', id: 11 }, UNKNOWN_OP.code, 11, 'toString as op');
});

t.test('wrong field types → 700 naming the field', async (t) => {
  let e = refused(t, { op: 'presence.query', id: 4, d: { userIds: ['a'] } }, BAD_PARAMETER.code, 4, 'string in int array');
  t.match(e?.message, /\/userIds\/0/);
  e = refused(t, { op: 'presence.query', id: 5, d: { userIds: 1 } }, BAD_PARAMETER.code, 5, 'int for array');
  t.match(e?.message, /\/userIds/);
  refused(t, { op: 'presence.query', id: 6, d: { userIds: [1.5] } }, BAD_PARAMETER.code, 6, 'float for integer');
  refused(t, { op: 'presence.query', id: 6, d: { userIds: [0] } }, BAD_PARAMETER.code, 6, 'below minimum');
  refused(t, { op: 'presence.query', id: 6, d: { userIds: [] } }, BAD_PARAMETER.code, 6, 'too few items');
  refused(t, { op: 'presence.query', id: 6, d: { userIds: Array.from({ length: 101 }, (_, i) => i + 1) } }, BAD_PARAMETER.code, 6, 'too many items');
  refused(t, { op: 'presence.query', id: 6, d: [1] }, BAD_PARAMETER.code, 6, 'd is an array');
});

t.test('extra fields in d → 700', async (t) => {
  refused(t, { op: 'presence.query', id: 8, d: { userIds: [1], extra: 1 } }, BAD_PARAMETER.code, 8, 'extra field');
  refused(t, { op: 'session.ping', id: 8, d: { extra: 1 } }, BAD_PARAMETER.code, 8, 'field on an empty request');
});

t.test('missing or bad id → 902', async (t) => {
  refused(t, { op: 'session.ping', d: {} }, MALFORMED_FRAME.code, 0, 'missing id');
  for (const id of [0, -1, 1.5, '7', null, true, [1]]) {
    refused(t, { op: 'session.ping', id, d: {} }, MALFORMED_FRAME.code, 0, `id ${JSON.stringify(id)}`);
  }
  const op = [0xa2, ...Buffer.from('op'), 0xac, ...Buffer.from('session.ping')];
  refused(t, bytes(0x82, ...op, 0xa2, ...Buffer.from('id'), ...f64(2 ** 53)), MALFORMED_FRAME.code, 0, 'id 2^53');
  refused(t, bytes(0x82, ...op, 0xa2, ...Buffer.from('id'), ...u64(2n ** 60n)), MALFORMED_FRAME.code, 0, 'id 2^60 as uint64');
});

t.test('frames that are not a request map → 902 with request id 0', async (t) => {
  refused(t, ['session.ping', 1, {}], MALFORMED_FRAME.code, 0, 'an array');
  refused(t, 'session.ping', MALFORMED_FRAME.code, 0, 'a string');
  refused(t, 42, MALFORMED_FRAME.code, 0, 'a number');
  refused(t, null, MALFORMED_FRAME.code, 0, 'nil');
  refused(t, { id: 3 }, MALFORMED_FRAME.code, 3, 'no op');
  refused(t, { op: '', id: 3 }, MALFORMED_FRAME.code, 3, 'empty op');
  refused(t, { op: 7, id: 3 }, MALFORMED_FRAME.code, 3, 'op not a string');
  refused(t, bytes(0xc1), MALFORMED_FRAME.code, 0, 'not MessagePack');
  refused(t, bytes(0x81, 0xa2, 0x69, 0x64, 0x01, 0x00), MALFORMED_FRAME.code, 0, 'trailing bytes');
});

t.test('extra envelope keys → 902', async (t) => {
  refused(t, { op: 'session.ping', id: 5, d: {}, x: 1 }, MALFORMED_FRAME.code, 5, 'extra key');
  refused(t, { op: 'session.ping', id: 5, re: 5 }, MALFORMED_FRAME.code, 5, 'a reply key');
});

// ---- strictness: what the docs promise, frames written byte by byte ----------

const utf8 = (text: string) => [...Buffer.from(text, 'utf8')];
/** A MessagePack str (fixstr, str8 or str16) holding these raw bytes, valid UTF-8 or not. */
const strOf = (raw: number[]) =>
  raw.length < 32 ? [0xa0 | raw.length, ...raw] : raw.length < 256 ? [0xd9, raw.length, ...raw] : [0xda, raw.length >> 8, raw.length & 0xff, ...raw];
const s = (text: string) => strOf(utf8(text));
const f32 = (n: number) => {
  const b = new Uint8Array(5);
  b[0] = 0xca;
  new DataView(b.buffer).setFloat32(1, n);
  return [...b];
};
const f64b = (n: number) => [...f64(n)];
/** A fixmap of raw key and value bytes (keys need not be strings). */
const map = (...entries: Array<[number[], number[]]>) => [0x80 | entries.length, ...entries.flatMap(([k, v]) => [...k, ...v])];
/** A request envelope by hand: `id` and `d` are raw MessagePack bytes; `d` left out when undefined. */
const req = (op: string, id: number[], d?: number[]) =>
  Uint8Array.from(map([s('op'), s(op)], [s('id'), id], ...(d ? ([[s('d'), d]] as Array<[number[], number[]]>) : [])));
const FLOATS = [
  ['float32', f32],
  ['float64', f64b],
] as const;

t.test('a float where an integer belongs is refused, even a whole one: id → 902, a field of d → 700 naming it', async (t) => {
  for (const [kind, float] of FLOATS) {
    refused(t, req('session.ping', float(9)), MALFORMED_FRAME.code, 0, `id 9.0 as ${kind}`);
    refused(t, req('session.ping', float(2 ** 53)), MALFORMED_FRAME.code, 0, `id 2^53 as ${kind}`);
    let e = refused(t, req('room.close', [0x05], map([s('countdownSec'), float(5)])), BAD_PARAMETER.code, 5, `countdownSec 5.0 as ${kind}`);
    t.match(e?.message, /^bad parameter: \/countdownSec .*float/, 'names the field and says why');
    e = refused(t, req('room.enter', [0x06], map([s('roomId'), float(2)])), BAD_PARAMETER.code, 6, `roomId 2.0 as ${kind}`);
    t.match(e?.message, /\/roomId /);
    e = refused(t, req('room.like', [0x07], map([s('count'), float(2)])), BAD_PARAMETER.code, 7, `count 2.0 as ${kind}`);
    t.match(e?.message, /\/count /);
    e = refused(t, req('presence.query', [0x08], map([s('userIds'), [0x92, 0x01, ...float(2)]])), BAD_PARAMETER.code, 8, `userIds[1] 2.0 as ${kind}`);
    t.match(e?.message, /\/userIds\/1 /);
  }
  // the same requests with integers pass
  t.same(parseRequest(req('room.close', [0x05], map([s('countdownSec'), [0x05]]))), { op: 'room.close', id: 5, d: { countdownSec: 5 } });
  t.same(parseRequest(req('room.like', [0xcd, 0x01, 0x00], map([s('count'), [0xd0, 0x02]]))), { op: 'room.like', id: 256, d: { count: 2 } }, 'int16 id, int8 field');
  t.same(parseRequest(req('session.ping', u64ofSmall(9))), { op: 'session.ping', id: 9, d: {} }, 'uint64 id holding 9');
  // decode() itself keeps floats: it has no schema; floats are numbers there
  t.equal(decode(Uint8Array.from(f32(1.5))), 1.5);
  t.equal(decode(f64(2 ** 53)), 2 ** 53, 'a float64 is a float, whatever its value');
});

function u64ofSmall(n: number): number[] {
  return [...u64(BigInt(n))];
}

t.test('float marks follow the schema: Number takes floats, Integer does not, unions by the branch that matches', async (t) => {
  const at = (schema: TSchema, frame: number[]) => {
    const { value, marks } = decodeMarked(Uint8Array.from(frame));
    return wireMismatch(schema, value, marks);
  };
  const one = (schema: TSchema) => Type.Object({ x: schema });
  const x = (v: number[]) => map([s('x'), v]);
  for (const [kind, float] of FLOATS) {
    t.equal(at(one(Type.Number()), x(float(2))), undefined, `Number takes a whole ${kind}`);
    t.equal(at(one(Type.Number({ minimum: 0 })), x(float(1.5))), undefined, `Number takes ${kind} 1.5`);
    t.match(at(one(Type.Integer()), x(float(2))), /^\/x .*float/, `Integer refuses a whole ${kind}`);
    t.match(at(one(Type.Optional(Type.Integer())), x(float(2))), /^\/x /, 'optional integer too');
    t.match(at(one(Type.Union([Type.Integer(), Type.Null()])), x(float(2))), /^\/x /, 'integer-or-null refuses a float');
    t.equal(at(one(Type.Union([Type.Integer(), Type.Number()])), x(float(2))), undefined, 'integer-or-number takes it');
    t.equal(at(one(Type.Unknown()), x(float(2))), undefined, 'Unknown takes anything');
    t.match(at(Type.Object({ a: Type.Array(Type.Object({ b: Type.Integer() })) }), map([s('a'), [0x92, ...map([s('b'), [0x01]]), ...map([s('b'), float(2)])]])), /^\/a\/1\/b /, 'nested path');
    const tagged = Type.Union([
      Type.Object({ t: Type.Literal('i'), v: Type.Integer() }),
      Type.Object({ t: Type.Literal('n'), v: Type.Number() }),
    ]);
    t.match(at(tagged, map([s('t'), s('i')], [s('v'), float(2)])), /^\/v /, 'the integer branch of a tagged union refuses');
    t.equal(at(tagged, map([s('t'), s('n')], [s('v'), float(2)])), undefined, 'the number branch takes it');
    t.equal(at(Type.Object({ x: Type.Integer() }), x([0x02])), undefined, 'an int is fine');
  }
});

t.test('extension types are refused, msgpackr records and structured clone included', async (t) => {
  const record = new Packr({ useRecords: true }).pack({ op: 'session.ping', id: 3, d: {} });
  refusesDecode(t, record, 'a msgpackr record frame');
  refused(t, record, MALFORMED_FRAME.code, 0, 'a record as a request');
  const dRecord = [...new Packr({ useRecords: true }).pack({ countdownSec: 5 })];
  // a record is an ext header with its payload after it: what follows is no longer MessagePack, so no id is read
  refused(t, req('room.close', [0x04], dRecord), MALFORMED_FRAME.code, 0, 'a record as d');
  refused(t, Uint8Array.from(map([s('op'), s('room.close')], [s('d'), dRecord], [s('id'), [0x04]])), MALFORMED_FRAME.code, 0, 'a record as d, before id');
  const exts: Array<[string, number[]]> = [
    ['fixext 1 (0xd4)', [0xd4, 0x01, 0x00]],
    ['fixext 2 (0xd5)', [0xd5, 0x01, 0x00, 0x00]],
    ['fixext 4, timestamp 32 (0xd6)', [0xd6, 0xff, 0, 0, 0, 1]],
    ['fixext 8, timestamp 64 (0xd7)', [0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1]],
    ['fixext 16 (0xd8)', [0xd8, 0x01, ...new Array(16).fill(0)]],
    ['ext 8 (0xc7)', [0xc7, 0x03, 0x05, 1, 2, 3]],
    ['ext 16 (0xc8)', [0xc8, 0x00, 0x01, 0x05, 1]],
    ['ext 32 (0xc9)', [0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 1]],
    ['ext 8, timestamp 96', [0xc7, 0x0c, 0xff, ...new Array(12).fill(0)]],
  ];
  for (const [what, ext] of exts) {
    refused(t, req('chat.send', [0x0b], map([s('text'), ext])), MALFORMED_FRAME.code, 11, `${what} in d`);
    refusesDecode(t, Uint8Array.from(ext), what);
  }
  refused(t, Uint8Array.from(map([s('op'), s('session.ping')], [s('id'), [0x0c]], [s('x'), [0xd6, 0xff, 0, 0, 0, 1]])), MALFORMED_FRAME.code, 12, 'ext as an extra envelope value');
  refused(t, new Packr({ structuredClone: true }).pack({ op: 'session.ping', id: 13, d: new Map() }), MALFORMED_FRAME.code, 0, 'structured clone');
});

t.test('invalid UTF-8 in any str is refused (902), keys included', async (t) => {
  const bad: Array<[string, number[]]> = [
    ['lone continuation byte', [0x80, 0x41]],
    ['0xff 0xfe then A', [0xff, 0xfe, 0x41]],
    ['overlong "/" (0xc0 0xaf)', [0xc0, 0xaf]],
    ['overlong NUL (0xc0 0x80)', [0xc0, 0x80]],
    ['UTF-16 surrogate D800 as UTF-8', [0xed, 0xa0, 0x80]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['cut multi-byte sequence at the end', [0x41, 0xe4, 0xb8]],
    ['invalid byte in a long string', [...utf8('x'.repeat(100)), 0xff]],
  ];
  for (const [what, raw] of bad) {
    refused(t, req('room.open', [0x0e], map([s('title'), strOf(raw)])), MALFORMED_FRAME.code, 14, `${what} in a value`);
    refused(t, req('room.open', [0x0e], map([strOf(raw), s('T')])), MALFORMED_FRAME.code, 14, `${what} in a key of d`);
    refusesDecode(t, Uint8Array.from(strOf(raw)), what);
  }
  refused(t, Uint8Array.from(map([strOf([0x6f, 0xff]), s('session.ping')], [s('id'), [0x0f]])), MALFORMED_FRAME.code, 15, 'in an envelope key');
  refused(t, req('chat.send', [0x10], map([s('text'), [0xda, 0x00, 0x03, 0xe4, 0xb8, 0x41]])), MALFORMED_FRAME.code, 16, 'str16');
  // a multi-byte character split over two strs is two invalid strs
  const split = utf8('直');
  refusesDecode(t, Uint8Array.from([0x92, ...strOf(split.slice(0, 1)), ...strOf(split.slice(1))]), 'a character split over two strs');
  t.same(parseRequest(req('room.open', [0x11], map([s('title'), s('直播 héllo 🎁')]))).d, { title: '直播 héllo 🎁' }, 'valid UTF-8 passes');
  t.same(decode(Uint8Array.from(s('é'.repeat(200)))), 'é'.repeat(200), 'a long valid string');
});

t.test('map keys must be strings and unique in their map (902)', async (t) => {
  const keys: Array<[string, number[]]> = [
    ['positive int', [0x01]],
    ['negative int', [0xff]],
    ['nil', [0xc0]],
    ['true', [0xc3]],
    ['float', f64b(1)],
    ['bin', [0xc4, 0x01, 0x61]],
    ['array', [0x91, ...s('a')]],
    ['map', map([s('a'), [0x01]])],
  ];
  for (const [what, key] of keys) {
    refused(t, req('room.open', [0x12], map([s('title'), s('T')], [key, [0x01]])), MALFORMED_FRAME.code, 18, `${what} key in d`);
    refusesDecode(t, Uint8Array.from(map([key, [0x01]])), `${what} key`);
  }
  refused(t, Uint8Array.from(map([s('op'), s('session.ping')], [s('id'), [0x13]], [[0x01], [0x01]])), MALFORMED_FRAME.code, 19, 'int key in the envelope');
  refused(t, req('chat.send', [0x14], map([s('text'), s('a')], [s('text'), s('b')])), MALFORMED_FRAME.code, 20, 'duplicate key in d');
  refused(t, Uint8Array.from(map([s('op'), s('session.ping')], [s('id'), [0x15]], [s('id'), [0x16]])), MALFORMED_FRAME.code, 0, 'duplicate id: no request id to answer to');
  refused(t, Uint8Array.from(map([s('op'), s('session.ping')], [s('op'), s('session.whoami')], [s('id'), [0x17]])), MALFORMED_FRAME.code, 23, 'duplicate op');
  const big = (dup: boolean) => {
    const n = 40;
    const entries = Array.from({ length: n }, (_, i) => [...s(`k${dup && i === n - 1 ? 0 : i}`), i]);
    return Uint8Array.from([0xde, 0x00, n, ...entries.flat()]);
  };
  t.doesNotThrow(() => decode(big(false)), '40 distinct keys (map16)');
  refusesDecode(t, big(true), 'a duplicate among 40 keys');
  refusesDecode(t, Uint8Array.from([0x92, ...map([s('a'), [1]], [s('a'), [2]])]), 'a duplicate key inside an array');
  t.same(decode(Uint8Array.from([0x92, ...map([s('a'), [1]]), ...map([s('a'), [2]])])), [{ a: 1 }, { a: 2 }], 'the same key in two maps is fine');
  t.same(decode(Uint8Array.from(map([s('a'), map([s('a'), [1]])]))), { a: { a: 1 } }, 'and in nested maps');
});

t.test('d, when present, must be a map (700 "/d must be a map"); absent d is {}', async (t) => {
  const notMaps: Array<[string, number[]]> = [
    ['nil', [0xc0]],
    ['empty bin', [0xc4, 0x00]],
    ['bin', [0xc4, 0x02, 0x01, 0x02]],
    ['empty array', [0x90]],
    ['array', [0x91, 0x01]],
    ['string', s('x')],
    ['empty string', s('')],
    ['int', [0x00]],
    ['float', f64b(0)],
    ['false', [0xc2]],
  ];
  for (const [what, d] of notMaps) {
    for (const op of ['room.close', 'session.ping', 'presence.query']) {
      const e = refused(t, req(op, [0x18], d), BAD_PARAMETER.code, 24, `${op} with d ${what}`);
      t.match(e?.message, /^bad parameter: \/d must be a map$/);
    }
  }
  t.same(parseRequest(req('room.close', [0x19])), { op: 'room.close', id: 25, d: {} }, 'absent d is {}');
  t.same(parseRequest(req('room.close', [0x19], map())), { op: 'room.close', id: 25, d: {} }, 'an empty map');
});

t.test('bin is refused wherever the schema does not ask for bytes (700): an object schema is not satisfied by a Uint8Array', async (t) => {
  refused(t, req('chat.send', [0x1a], map([s('text'), [0xc4, 0x01, 0x61]])), BAD_PARAMETER.code, 26, 'bin for a string');
  refused(t, req('presence.query', [0x1a], map([s('userIds'), [0xc4, 0x01, 0x01]])), BAD_PARAMETER.code, 26, 'bin for an array');
  const at = (schema: TSchema, frame: number[]) => {
    const { value, marks } = decodeMarked(Uint8Array.from(frame));
    return wireMismatch(schema, value, marks);
  };
  const loose = Type.Object({ meta: Type.Optional(Type.Object({ x: Type.Optional(Type.String()) }, { additionalProperties: false })) });
  const frame = map([s('meta'), [0xc4, 0x00]]);
  t.ok(TypeCompiler.Compile(loose).Check(decode(Uint8Array.from(frame))), 'TypeBox alone lets an empty Uint8Array through an object schema');
  t.match(at(loose, frame), /^\/meta .*bin/, 'refused with the field path');
  t.equal(at(Type.Object({ meta: Type.Uint8Array() }), frame), undefined, 'a Uint8Array field takes bin');
  t.equal(at(Type.Object({ meta: Type.Unknown() }), frame), undefined, 'Unknown takes anything');
  t.match(at(Type.Object({ l: Type.Array(Type.Object({})) }), map([s('l'), [0x91, 0xc4, 0x00]])), /^\/l\/0 /, 'inside an array');
});

t.test('corrupted frames: decode() accepts exactly what a strict reference reader accepts, with the same value', async (t) => {
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const seeds = [
    encode(sample),
    encode({ op: 'chat.send', id: 77, d: { text: 'héllo 直播 🎁' } }),
    encode({ op: 'presence.query', id: 3, d: { userIds: [1, 2 ** 40, 3] } }),
    Uint8Array.from(req('room.close', [0x05], map([s('countdownSec'), f32(5)], [s('x'), f64b(-0.5)], [s('b'), [0xc4, 0x01, 0x07]]))),
  ];
  const interesting = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xdc, 0xde, 0xe0, 0xff, 0xed, 0xf4];
  const mismatches: string[] = [];
  let accepted = 0;
  for (let round = 0; round < 4000; round++) {
    const frame = Uint8Array.from(seeds[round % seeds.length]!);
    for (let k = 1 + rand(3); k > 0; k--) frame[rand(frame.length)] = rand(2) ? interesting[rand(interesting.length)]! : rand(256);
    let ours: unknown;
    let ref: unknown;
    let oursOk = true;
    let refOk = true;
    try {
      ours = decode(frame);
    } catch (err) {
      if (!(err instanceof DecodeError)) mismatches.push(`${Buffer.from(frame).toString('hex')}: threw ${String(err)}`);
      oursOk = false;
    }
    try {
      ref = referenceDecode(frame);
    } catch {
      refOk = false;
    }
    if (oursOk !== refOk) mismatches.push(`${Buffer.from(frame).toString('hex')}: ours ${oursOk ? 'accepts' : 'refuses'}, reference ${refOk ? 'accepts' : 'refuses'}`);
    else if (oursOk) {
      accepted++;
      const norm = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? [...x] : x));
      if (norm(ours) !== norm(ref)) mismatches.push(`${Buffer.from(frame).toString('hex')}: values differ`);
    }
  }
  t.same(mismatches.slice(0, 5), [], 'no disagreement');
  t.ok(accepted > 100 && accepted < 3900, `both accepted ${accepted} of 4000 and refused the rest`);
});

t.test('what we encode is valid UTF-8 even when a string holds a lone surrogate', async (t) => {
  const out = encode({ text: 'a\ud800b', list: ['\udc00', 'ok 🎁'], nested: { s: '\ud83d' } });
  t.same(decode(out), { text: 'a\ufffdb', list: ['\ufffd', 'ok 🎁'], nested: { s: '\ufffd' } }, 'lone surrogates go out as U+FFFD');
  t.doesNotThrow(() => referenceDecode(out), 'a strict reader reads it');
  const value = { text: 'a\ud800b' };
  encode(value);
  t.equal(value.text, 'a\ud800b', 'the caller value is not modified');
});
