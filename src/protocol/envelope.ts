import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { decode, DecodeError } from './codec.js';
import { ProtocolError, type ErrorName, type WireError } from './errors.js';
import { OPS, type OpName } from './ops/index.js';
import { SafeInt } from './schemas.js';

/** Request: `{op, id, d}`. `id` is chosen by the client, unique per connection, echoed as `re`. */
export const RequestEnvelope = Type.Object(
  {
    op: Type.String({ minLength: 1, maxLength: 64 }),
    id: SafeInt({ minimum: 1 }),
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
const requestChecks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(OPS).map(([name, def]) => [name, TypeCompiler.Compile(def.request)]),
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
 * Decodes and validates one incoming frame. Throws ProtocolError carrying the
 * request id when one could be read (0 otherwise) so the caller can answer.
 */
export function parseRequest(bytes: Uint8Array): ValidRequest {
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (err) {
    throw new RequestError('MALFORMED_FRAME', (err as DecodeError).message, idOf((err as DecodeError).value));
  }
  if (!envelopeCheck.Check(raw)) {
    throw new RequestError('MALFORMED_FRAME', firstError(envelopeCheck, raw), idOf(raw));
  }
  const { op, id } = raw;
  const check = requestChecks.get(op);
  if (!check) throw new RequestError('UNKNOWN_OP', op, id);
  const d = raw.d ?? {};
  if (!check.Check(d)) throw new RequestError('BAD_PARAMETER', firstError(check, d), id);
  return { op: op as OpName, id, d };
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

function idOf(raw: unknown): number {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : 0;
}

function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const first = check.Errors(value).First();
  if (!first) return 'invalid';
  return `${first.path || '/'} ${first.message}`;
}
