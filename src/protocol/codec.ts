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
  // Byte strings must not be views into the transport's buffer, which uWS frees.
  copyBuffers: true,
});

/** Nesting deeper than this is refused: no envelope of ours needs it. */
export const MAX_DEPTH = 16;

export class DecodeError extends Error {
  /** The decoded value when the bytes were MessagePack but not plain data (lets callers read a request id). */
  value?: unknown;
}

export function encode(value: unknown): Buffer {
  return packr.pack(value);
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
