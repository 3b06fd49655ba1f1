import { Packr, Unpackr } from 'msgpackr';

/**
 * MessagePack as any Swift/Kotlin/C++ library writes it: no msgpackr records,
 * no structured clone, no extension types. Decoded values are then walked so
 * only plain JSON-like data (null, boolean, finite safe numbers, strings,
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
  // numbers; anything beyond 2^53 still arrives as a BigInt and is refused below.
  int64AsType: 'auto' as 'number', // supported at runtime, missing from msgpackr's typings
  // Byte strings must not be views into the transport's buffer, which uWS frees.
  copyBuffers: true,
});

/** Nesting deeper than this is refused: no envelope of ours needs it. */
export const MAX_DEPTH = 16;

export class DecodeError extends Error {
  /** The decoded value when the bytes were MessagePack but not plain data (lets callers read a request id). */
  value?: unknown;
}

/**
 * msgpackr writes integers beyond 32 bits as float64, which strictly typed
 * decoders (msgpack-java's unpackLong, Swift's Int) refuse; such integers
 * (timestamps, large ids) are handed to it as BigInt so they go out as int64.
 */
export function encode(value: unknown): Buffer {
  return packr.pack(wideIntsAsBigInt(value));
}

const INT32_LIMIT = 0x1_0000_0000;

function wideIntsAsBigInt(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isInteger(value) && (value >= INT32_LIMIT || value < -0x8000_0000) ? BigInt(value) : value;
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = wideIntsAsBigInt(value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    const before = (value as Record<string, unknown>)[key];
    const v = wideIntsAsBigInt(before);
    if (v !== before) (out ??= { ...(value as Record<string, unknown>) })[key] = v;
  }
  return out ?? value;
}

/** Decodes one MessagePack value from untrusted bytes, or throws DecodeError. */
export function decode(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    throw new DecodeError(`not MessagePack: ${(err as Error).message}`);
  }
  try {
    assertPlain(value, 0);
  } catch (err) {
    (err as DecodeError).value = value;
    throw err;
  }
  return value;
}

function assertPlain(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new DecodeError('nested too deeply');
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new DecodeError('NaN or Infinity');
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) throw new DecodeError('integer beyond 2^53');
      return;
    case 'object':
      break;
    default:
      // bigint (64-bit integers beyond 2^53), undefined, functions, symbols
      throw new DecodeError(`unsupported value of type ${typeof value}`);
  }
  if (value === null || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const item of value) assertPlain(item, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    throw new DecodeError('extension types are not accepted');
  }
  for (const key in value) assertPlain((value as Record<string, unknown>)[key], depth + 1);
}
