import { Kind, type TSchema } from '@sinclair/typebox';
import { decode, encode, MAX_DEPTH } from './codec.js';
import type { OpDef } from './define.js';
import { ERRORS, type ErrorName } from './errors.js';
import { OPS } from './ops/index.js';
import { Profile } from './schemas.js';
import { errRef, table } from './docs-schema.js';

/**
 * The wire-level sections of docs/protocol.md: connecting (the upgrade, the
 * token's claims, refusals) and frames and encoding (what MessagePack the
 * server takes), rendered from the same definitions the server checks.
 */

export function connecting(): string {
  const refusals: Array<[number, ErrorName, string]> = [
    [401, 'BAD_TOKEN', 'token missing, malformed, not signed with the right key, or a claim breaks the rules above: get a new token'],
    [401, 'TOKEN_EXPIRED', 'token expired: refresh it, then reconnect'],
    [403, 'ORIGIN_NOT_ALLOWED', 'the `Origin` header is not on the allow list (browsers only)'],
    [400, 'BAD_PARAMETER', '`resume`/`last_seq` malformed: both or neither, `last_seq` a non-negative integer'],
    [503, 'UNAVAILABLE', 'server starting or shutting down: retry with backoff'],
    [503, 'BUSY', 'overloaded (too many logins or requests in progress): retry after `retryAfterMs` plus some random jitter (the `Retry-After` header says the same in whole seconds); nothing was created'],
  ];
  return [
    '## Connecting',
    [
      '- Open a WebSocket to the path `/ws` of the server (use `wss://` in production).',
      '- Authenticate with an HS256 JWT issued by the app backend: send it as ' +
        '`Authorization: Bearer <token>` on the upgrade request, or, for clients that cannot set headers, as the ' +
        'query parameter `?token=<token>`. The user id, role and public profile of the connection come from the token. ' +
        `Its claims are checked exactly; a token breaking any of these rules is refused with ${ERRORS.BAD_TOKEN.code} BAD_TOKEN:`,
      ...tokenRules().map((rule) => `  - ${rule}`),
      '- Query parameters: `token` (see above), `resume` and `last_seq` (see [resume](#sessions-pushes-and-resume)).',
      '- A refused upgrade is a plain HTTP answer (no WebSocket) with a JSON body `{"code": <int>, "msg": "<text>"}` ' +
        `(plus \`retryAfterMs\` with ${ERRORS.BUSY.code}); ` +
        '`msg` may carry a detail after `": "`. Switch on `code`:',
    ].join('\n'),
    table(
      ['HTTP status', 'Code', 'Name', 'Message', 'Meaning'],
      refusals.map(([status, name, meaning]) => [String(status), String(ERRORS[name].code), name, ERRORS[name].msg, meaning]),
    ),
  ].join('\n\n');
}

/** The claims of a login token, as src/server/auth.ts checks them (its limits are the Profile schema's). */
function tokenRules(): string[] {
  const { nickname, avatar, level } = Profile.properties;
  return [
    '`sub`: the user id as a JSON **string** of 1–15 decimal digits without a leading zero, e.g. `"709"`. ' +
      'Not a number, boolean or array; no sign, spaces, fraction, exponent or hex (`709`, `"709.0"`, `"0x2c5"`, `"7.09e2"`, `" 709 "`, `"0709"` are all refused).',
    '`role`: exactly `"host"` or `"viewer"`.',
    '`exp`: required, an integer number of seconds since the epoch. A token whose `exp` has passed is refused with ' +
      `${ERRORS.TOKEN_EXPIRED.code} TOKEN_EXPIRED instead. \`nbf\`, when present, must be a number not in the future.`,
    `\`nick\` (at most ${nickname.maxLength} UTF-16 code units) and \`avatar\` (a URL, at most ${avatar.maxLength}): optional strings ` +
      'without lone surrogates; `gender`: optional, `""`, `"male"` or `"female"`; ' +
      `\`level\`: optional, an integer ${level.minimum}–${level.maximum}. Absent means \`""\` (or 0 for \`level\`). ` +
      'A claim that is present but malformed or too long is refused, never truncated or clamped.',
    'The payload must be valid UTF-8 JSON. Other claims (`iat`, `iss`, `jti` …) are ignored.',
  ];
}

export function encoding(): string {
  const notes = codecNotes();
  const { MALFORMED_FRAME: bad, BAD_PARAMETER: param } = ERRORS;
  return [
    '## Frames and encoding',
    [
      '- Binary WebSocket frames only (a text frame is answered with ' + `${errRef('MALFORMED_FRAME')}).`,
      `- Each frame is exactly one complete MessagePack value: one envelope map. Nothing may follow it in the frame (${bad.code}).`,
      '- Allowed MessagePack types: nil, false/true, int (every format: fixint, uint8–64, int8–64), float32/float64, ' +
        'str, bin, array, map. Refused with ' + `${errRef('MALFORMED_FRAME')}: every extension type — fixext 1–16 ` +
        '(0xd4–0xd8) and ext 8/16/32 (0xc7–0xc9), which covers the timestamp extension −1, msgpackr records and ' +
        'structured clone — and the never-used byte 0xc1.',
      '- **str** (map keys and values alike) must be valid UTF-8: no overlong forms, no encoded surrogates ' +
        `(U+D800–U+DFFF), nothing above U+10FFFF, no cut-off sequence; otherwise ${bad.code}. Nothing is repaired ` +
        '(no U+FFFD replacement).',
      `- **Map keys** must be str, each at most once in its map: a key of another type or a repeated key is refused with ${bad.code}.`,
      `- **Integers** must be safe integers, −(2^53 − 1) … 2^53 − 1, in any int format (a small value written as uint64/int64 is fine). Larger integers are refused (${bad.code}).`,
      `- **Floats** holding NaN or ±Infinity are refused (${bad.code}). A float32/float64 is a float even when its value ` +
        'is whole (`5.0`): where an integer is expected it is refused — as the envelope `id` with ' +
        `${bad.code}, inside \`d\` with ${param.code} naming the field (\`/countdownSec Expected integer, got a float\`). ` +
        'Write integers in an int format. Fields documented as `number` (or `any`) take floats and integers.',
      `- **bin** is taken only by fields documented as \`binary (bin)\` (or \`any\`); an object or string field does not take it: a bin there is refused with ${param.code} naming the field (and \`d\` itself as a bin, see [Envelope](#envelope)).`,
      `- Request fields that take floats: ${requestFieldsOf(['Number', 'Any', 'Unknown'])}. Request fields that take bin: ${requestFieldsOf(['Uint8Array', 'Any', 'Unknown'])}.`,
      `- Values nest at most ${MAX_DEPTH} levels deep (${bad.code}).`,
      '- Map key order does not matter. String length limits count UTF-16 code units (as JavaScript does).',
      `- Requests must match the op's schema exactly: a missing, extra or mistyped field is refused with ${errRef('BAD_PARAMETER')}, the message naming the field path (e.g. \`/userIds/0 Expected integer\`).`,
      '- Replies and pushes may gain new fields over time: ignore fields you do not know.',
      ...notes,
    ].join('\n'),
  ].join('\n\n');
}

/** The request fields (`op` `/path`) whose schema is one of these kinds, or "none". */
function requestFieldsOf(kinds: string[]): string {
  const found: string[] = [];
  const walk = (op: string, schema: TSchema, path: string): void => {
    const kind = schema[Kind] as string;
    if (kinds.includes(kind)) found.push(`\`${op}\` \`${path || '/'}\``);
    for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) walk(op, child, `${path}/${key}`);
    for (const child of [schema.items, ...(schema.anyOf ?? []), ...(schema.allOf ?? [])].flat()) {
      if (child && typeof child === 'object') walk(op, child as TSchema, kind === 'Array' ? `${path}/<n>` : path);
    }
  };
  for (const [name, def] of Object.entries(OPS as Record<string, OpDef>)) walk(name, def.request, '');
  return found.length ? found.join(', ') : 'none';
}

/** What the codec really does with 64-bit integers, probed so the doc stays true when it changes. */
function codecNotes(): string[] {
  const notes: string[] = [];
  const int64Five = Uint8Array.of(0xd3, 0, 0, 0, 0, 0, 0, 0, 5);
  let acceptsWideInts = true;
  try {
    acceptsWideInts = decode(int64Five) === 5;
  } catch {
    acceptsWideInts = false;
  }
  if (!acceptsWideInts) {
    notes.push(
      '- **Send integers in their smallest MessagePack format** (fixint, int8–32, uint8–32). The 64-bit formats ' +
        '(0xcf uint64, 0xd3 int64) are currently refused with ' + `${ERRORS.MALFORMED_FRAME.code}, even for small values.`,
    );
  }
  if (encode(2 ** 40)[0] === 0xcb) {
    notes.push(
      '- **Integers beyond 32 bits (such as millisecond timestamps) currently arrive as float64** holding an ' +
        'integral value. Decode integer fields leniently: accept every MessagePack int format and an integral float64.',
    );
  }
  return notes;
}
