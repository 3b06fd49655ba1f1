import { Kind, Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { decodeMarked, type DecodeError, type Decoded, type WireMark, type WirePath } from './codec.js';
import { ProtocolError, type ErrorName, type WireError } from './errors.js';
import { OPS, type OpName } from './ops/index.js';
import { SafeInt } from './schemas.js';

/** Request: `{op, id, d}`. `id` is chosen by the client, unique per connection, echoed as `re`. */
export const RequestEnvelope = Type.Object(
  {
    op: Type.String({ minLength: 1, maxLength: 64 }),
    id: SafeInt({ minimum: 1 }),
    // a map when present (checked in parseRequest, which says "/d must be a map")
    d: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type RequestEnvelope = Static<typeof RequestEnvelope>;

export type ReplyEnvelope =
  | { re: number; ok: true; d: unknown }
  | { re: number; ok: false; err: WireError };

/** Session-stream pushes carry `seq`; control pushes (welcome, kicked) do not. */
export interface PushEnvelope {
  op: string;
  d: unknown;
  seq?: number;
  /** Room-topic pushes: the channel they were published on, e.g. "room/12"; `seq` then counts per channel. */
  ch?: string;
}

const envelopeCheck = TypeCompiler.Compile(RequestEnvelope);
const requestChecks = new Map<string, { schema: TSchema; check: TypeCheck<TSchema> }>(
  Object.entries(OPS).map(([name, def]) => [name, { schema: def.request, check: TypeCompiler.Compile(def.request) }]),
);

export function isOpName(op: string): op is OpName {
  return requestChecks.has(op);
}

/** A request that passed every check at the edge: known op, typed data. */
export interface ValidRequest {
  op: OpName;
  id: number;
  d: unknown;
}

/**
 * Decodes and validates one incoming frame. Throws RequestError carrying the
 * request id when one could be read (0 otherwise) so the caller can answer:
 * 902 for anything wrong with the frame or the envelope (a float `id`
 * included), 901 for an unknown op, 700 naming the field for `d`.
 */
export function parseRequest(bytes: Uint8Array): ValidRequest {
  let decoded: Decoded;
  try {
    decoded = decodeMarked(bytes);
  } catch (err) {
    throw new RequestError('MALFORMED_FRAME', (err as DecodeError).message, (err as DecodeError).requestId ?? 0);
  }
  const { value: raw, marks, requestId } = decoded;
  if (!envelopeCheck.Check(raw)) {
    throw new RequestError('MALFORMED_FRAME', firstError(envelopeCheck, raw), requestId);
  }
  // A float `id` (even 9.0) passed the Integer check above as the number 9.
  if (marks.length > 0 && marks.some((m) => m.path.length === 1 && m.path[0] === 'id')) {
    throw new RequestError('MALFORMED_FRAME', '/id Expected integer, got a float', 0);
  }
  const { op, id } = raw;
  const entry = requestChecks.get(op);
  if (!entry) throw new RequestError('UNKNOWN_OP', op, id);
  const d = raw.d === undefined ? {} : raw.d; // absent; nil is not absent
  if (typeof d !== 'object' || d === null || Array.isArray(d) || d instanceof Uint8Array) {
    throw new RequestError('BAD_PARAMETER', '/d must be a map', id);
  }
  if (!entry.check.Check(d)) throw new RequestError('BAD_PARAMETER', firstError(entry.check, d), id);
  if (marks.length > 0) {
    const inD = marks.filter((m) => m.path[0] === 'd').map((m) => ({ kind: m.kind, path: m.path.slice(1) }));
    const bad = wireMismatch(entry.schema, d, inD);
    if (bad) throw new RequestError('BAD_PARAMETER', bad, id);
  }
  return { op: op as OpName, id, d };
}

/**
 * What a schema check cannot see: a value written as float32/float64 is a
 * JavaScript number, so TypeBox takes a whole one (5.0) for an Integer; a bin
 * is a Uint8Array, which TypeBox's Object check accepts (it is a non-array
 * object). Given the marks of the decoded value, returns the first marked
 * value whose schema does not take that MessagePack type ("/path why"), or
 * undefined. Call it after the value passed the schema check.
 *
 * A float is taken where the schema is a Number (or a non-integer numeric
 * Literal), a bin where it is a Uint8Array; Any/Unknown take anything. In a
 * union, the branches the value matches decide: one that takes the type is
 * enough. Schema kinds this walk does not know refuse (a future schema kind
 * must be taught here before it can hold floats or bins).
 */
export function wireMismatch(schema: TSchema, value: unknown, marks: readonly WireMark[]): string | undefined {
  for (const m of marks) {
    if (!takes(schema, value, m.path, 0, m.kind)) {
      const why = m.kind === 'float' ? 'Expected integer, got a float' : 'Expected no binary data here, got a bin';
      return `${pointer(m.path)} ${why}`;
    }
  }
  return undefined;
}

function takes(schema: TSchema, value: unknown, path: WirePath, i: number, kind: WireMark['kind']): boolean {
  const k = schema[Kind] as string;
  if (k === 'Any' || k === 'Unknown') return true;
  if (k === 'Union') return (schema.anyOf as TSchema[]).some((s) => Value.Check(s, value) && takes(s, value, path, i, kind));
  if (k === 'Intersect') return (schema.allOf as TSchema[]).every((s) => takes(s, value, path, i, kind));
  if (i === path.length) {
    if (kind === 'bin') return k === 'Uint8Array';
    return k === 'Number' || (k === 'Literal' && typeof schema.const === 'number' && !Number.isInteger(schema.const));
  }
  const seg = path[i]!;
  const child = (value as Record<string | number, unknown> | null | undefined)?.[seg];
  if (k === 'Object' && typeof seg === 'string') {
    const props = schema.properties as Record<string, TSchema>;
    if (Object.hasOwn(props, seg)) return takes(props[seg]!, child, path, i + 1, kind);
    const extra = schema.additionalProperties as TSchema | boolean | undefined;
    return typeof extra === 'object' ? takes(extra, child, path, i + 1, kind) : true; // a key the schema does not describe
  }
  if (k === 'Record' && typeof seg === 'string') {
    for (const [pattern, s] of Object.entries(schema.patternProperties as Record<string, TSchema>)) {
      if (new RegExp(pattern).test(seg)) return takes(s, child, path, i + 1, kind);
    }
    const extra = schema.additionalProperties as TSchema | boolean | undefined;
    return typeof extra === 'object' ? takes(extra, child, path, i + 1, kind) : true;
  }
  if (k === 'Array' && typeof seg === 'number') return takes(schema.items as TSchema, child, path, i + 1, kind);
  if (k === 'Tuple' && typeof seg === 'number') {
    const item = (schema.items as TSchema[] | undefined)?.[seg];
    return item !== undefined && takes(item, child, path, i + 1, kind);
  }
  return false;
}

/** A JSON Pointer, as TypeBox writes error paths. */
function pointer(path: WirePath): string {
  return path.map((seg) => `/${String(seg).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('') || '/';
}

/** A refused request, with the id to answer to (0 when none could be read). */
export class RequestError extends ProtocolError {
  constructor(
    name: ErrorName,
    detail: string,
    readonly requestId: number,
  ) {
    super(name, detail);
  }
}

function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const first = check.Errors(value).First();
  if (!first) return 'invalid';
  return `${first.path || '/'} ${first.message}`;
}
