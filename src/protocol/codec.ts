import { Packr, Unpackr } from 'msgpackr';
import { scanMsgpack, type WireMark } from './msgpack-scan.js';

/**
 * MessagePack as any Swift/Kotlin/C++ library writes it: no msgpackr records,
 * no structured clone, no extension types. Untrusted bytes are walked by a
 * structural pre-scan (msgpack-scan.ts) before msgpackr decodes them, so only
 * plain JSON-like data (null, boolean, finite safe numbers, valid strings,
 * byte strings, arrays, plain objects) ever leaves this module.
 */
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
});

const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  mapsAsObjects: true,
  moreTypes: false,
  // Some Swift/Kotlin encoders write small values in 64-bit form: read those as
  // numbers (the pre-scan has refused anything beyond 2^53 by then).
  int64AsType: 'auto' as 'number', // supported at runtime, missing from msgpackr's typings
  // Byte strings must not be views into the transport's buffer, which uWS frees.
  copyBuffers: true,
});

export { MAX_DEPTH } from './msgpack-scan.js';
export type { WireMark, WirePath } from './msgpack-scan.js';

export class DecodeError extends Error {
  constructor(
    message: string,
    /** The request id read from the frame (see ScanResult.requestId), 0 when none could be read. */
    readonly requestId = 0,
  ) {
    super(message);
  }
}

/** A decoded frame with what its JavaScript value does not show. */
export interface Decoded {
  value: unknown;
  /** Paths of the values written as float32/float64 or bin (empty in the usual case). */
  marks: readonly WireMark[];
  /** The top-level `id`, as ScanResult.requestId. */
  requestId: number;
}

const NO_MARKS: readonly WireMark[] = Object.freeze([]);

/**
 * msgpackr writes integers beyond 32 bits as float64, which strictly typed
 * decoders (msgpack-java's unpackLong, Swift's Int) refuse; such integers
 * (timestamps, large ids) are handed to it as BigInt so they go out as int64.
 * It also writes a lone UTF-16 surrogate as invalid UTF-8, which every strict
 * reader (ours included) refuses, so string values that are not well-formed
 * go out with U+FFFD in place of the lone surrogate. (Keys are not checked:
 * they are the server's own field names.)
 */
export function encode(value: unknown): Buffer {
  return packr.pack(forTheWire(value));
}

const INT32_LIMIT = 0x1_0000_0000;

/** String.prototype.isWellFormed/toWellFormed (Node 20), missing from the ES2022 typings. */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

function forTheWire(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isInteger(value) && (value >= INT32_LIMIT || value < -0x8000_0000) ? BigInt(value) : value;
  }
  if (typeof value === 'string') {
    return (value as unknown as WellFormed).isWellFormed() ? value : (value as unknown as WellFormed).toWellFormed();
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = forTheWire(value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    const before = (value as Record<string, unknown>)[key];
    const v = forTheWire(before);
    if (v !== before) (out ??= { ...(value as Record<string, unknown>) })[key] = v;
  }
  return out ?? value;
}

/**
 * Decodes one MessagePack value from untrusted bytes, or throws DecodeError.
 * The result is plain data only: null, boolean, finite numbers (integers
 * safe), valid strings, Uint8Array, arrays and plain objects with unique keys.
 */
export function decode(bytes: Uint8Array): unknown {
  return decodeMarked(bytes).value;
}

/**
 * decode(), keeping where floats and byte strings were (a float32 holding 5.0
 * decodes to the number 5; the schema step needs to know it was a float).
 * The pre-scan (msgpack-scan.ts) refuses everything that is not plain before
 * msgpackr runs, so msgpackr only ever sees nil, booleans, ints, floats, str,
 * bin, arrays and maps with unique str keys.
 */
export function decodeMarked(bytes: Uint8Array): Decoded {
  const scan = scanMsgpack(bytes);
  if (scan.error !== undefined) throw new DecodeError(scan.error, scan.requestId);
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    throw new DecodeError(`not MessagePack: ${(err as Error).message}`, scan.requestId);
  }
  return { value, marks: scan.marks ?? NO_MARKS, requestId: scan.requestId };
}
