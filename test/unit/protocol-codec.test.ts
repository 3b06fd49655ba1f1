import { Packr } from 'msgpackr';
import t from 'tap';
import { decode, DecodeError, encode, MAX_DEPTH } from '../../src/protocol/codec.js';
import { parseRequest, RequestError } from '../../src/protocol/envelope.js';
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
 * Kotlin library reads it: proves what we encode is plain MessagePack.
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
      o[k] = read();
    }
    return o;
  };
  const read = (): unknown => {
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
      case 0xca: return view.getFloat32(take(4));
      case 0xcb: return view.getFloat64(take(8));
      case 0xcc: return view.getUint8(take(1));
      case 0xcd: return view.getUint16(take(2));
      case 0xce: return view.getUint32(take(4));
      case 0xcf: return Number(view.getBigUint64(take(8)));
      case 0xd0: return view.getInt8(take(1));
      case 0xd1: return view.getInt16(take(2));
      case 0xd2: return view.getInt32(take(4));
      case 0xd3: return Number(view.getBigInt64(take(8)));
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
  refusesDecode(t, f64(2 ** 53), 'float64 holding 2^53');
  refusesDecode(t, f64(1e300), 'float64 holding a huge integer');
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
  t.same(parseRequest(encode({ op: 'session.ping', id: 2, d: null })).d, {}, 'nil counts as omitted');
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
  refused(t, { op: 'presence.query', id: 6, d: { userIds: [1, 1] } }, BAD_PARAMETER.code, 6, 'duplicates');
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
