// Encoding rules shared by the journal engine's writes and reads.

export class DuplicateSequenceError extends Error {
  readonly code = 'DUPLICATE_SEQUENCE';
  constructor(
    readonly kind: 'event' | 'snapshot',
    readonly key: string,
    readonly seq: number,
  ) {
    super(`duplicate ${kind} ${key}#${seq}: (key, seq) is already stored`);
    this.name = 'DuplicateSequenceError';
  }
}

export const CODEC = { useRecords: false, structuredClone: false, variableMapSize: true } as const;
// Tags are stored as SEP-delimited text (SEP before and after each) so one prepared
// statement can test "has every requested tag" with instr().
const SEP = '\x1f';

export function encodeTags(tags: readonly string[]): string {
  for (const tag of tags) {
    if (tag.includes(SEP)) throw new Error(`tag ${JSON.stringify(tag)} contains the reserved character U+001F`);
  }
  return tags.length === 0 ? '' : SEP + tags.join(SEP) + SEP;
}

export function decodeTags(text: string): string[] {
  return text === '' ? [] : text.slice(1, -1).split(SEP);
}

export function checkSeq(seq: unknown): number {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new Error(`sequenceNumber must be a non-negative safe integer, got ${String(seq)}`);
  }
  return seq;
}

export function isPrimaryKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Any constraint (unique, check, foreign key…): the statement failed, the database is fine. */
export function isConstraintViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}
