import { isUtf8 } from 'node:buffer';
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Role } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import { Profile } from '../protocol/schemas.js';

/**
 * Login tokens are HS256 JWTs minted by the app's backend with the shared
 * secret. The claims read, each checked exactly (anything else → 720
 * BAD_TOKEN; the README and docs/protocol.md state the same rules):
 *
 * - `sub`: the user id as a JSON string of 1–15 decimal digits, no leading
 *   zero (no sign, spaces, fraction, exponent, hex, array, number or boolean);
 * - `role`: exactly "host" or "viewer";
 * - `exp`: an integer number of seconds since the epoch, in the future
 *   (expired → 24 TOKEN_EXPIRED); `nbf`, when present, a number not in the future;
 * - the public profile shown to others, each optional (absent → "" or 0) but
 *   refused when present and malformed (never truncated or clamped):
 *   `nick` a string of at most 64 UTF-16 code units, `avatar` a string of at
 *   most 512, both well-formed Unicode (no lone surrogates); `gender` "",
 *   "male" or "female"; `level` an integer 0–1000.
 *
 * The payload must be valid UTF-8. Other claims (iat, iss, jti …) are ignored.
 *
 * Verification is synchronous on purpose: the WebSocket upgrade is then
 * completed inside uWS's upgrade callback. Completing it later (after an
 * await) lets this uWS build drop a small share of fresh connections right
 * after `open` (seen as 1006 before the welcome), so the upgrade path has no
 * await at all.
 */
export interface Identity {
  userId: number;
  role: Role;
  profile: Profile;
}

export interface MintOptions extends Identity {
  ttlSec: number;
  /** Seconds since epoch the token counts from (tests mint expired ones). */
  issuedAt?: number;
}

const ALG = 'HS256';

/**
 * Given a string, jsonwebtoken first tries to parse it as a public key, which
 * costs ~0.4 ms per verify; a cached secret KeyObject skips that.
 */
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

/** The profile limits are the Profile schema's (docs/protocol.md renders the same numbers). */
const NICK_MAX = Profile.properties.nickname.maxLength ?? 64;
const AVATAR_MAX = Profile.properties.avatar.maxLength ?? 512;
const LEVEL_MAX = Profile.properties.level.maximum ?? 1000;
const SUB = /^[1-9][0-9]{0,14}$/;

/** Mints a token the way the backend should; throws if verifyToken would refuse its claims. */
export function mintToken(secret: string, o: MintOptions): string {
  const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(o.ttlSec) || o.ttlSec < 1) throw new Error('ttlSec must be a positive integer');
  const sub = String(o.userId);
  if (!Number.isSafeInteger(o.userId) || !SUB.test(sub)) throw new Error('userId must be an integer of 1 to 15 digits, ≥ 1');
  const claims = { sub, role: o.role, nick: o.profile.nickname, avatar: o.profile.avatar, gender: o.profile.gender, level: o.profile.level, iat, exp: iat + o.ttlSec };
  const bad = claimsProblem(claims);
  if (bad) throw new Error(`token claims would be refused: ${bad}`);
  return jwt.sign(claims, keyOf(secret), { algorithm: ALG });
}

/** Verifies a token; throws ProtocolError TOKEN_EXPIRED (24) or BAD_TOKEN (720). */
export function verifyToken(secret: string, token: string, nowMs: number): Identity {
  let payload: jwt.JwtPayload;
  try {
    const decoded = jwt.verify(token, keyOf(secret), { algorithms: [ALG], clockTimestamp: Math.floor(nowMs / 1000) });
    if (typeof decoded === 'string') throw new Error('not a JSON payload');
    payload = decoded;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new ProtocolError('TOKEN_EXPIRED');
    throw new ProtocolError('BAD_TOKEN');
  }
  // jsonwebtoken reads the payload with Buffer#toString, which turns invalid UTF-8 into U+FFFD.
  if (!isUtf8(Buffer.from(token.split('.')[1] ?? '', 'base64url'))) throw new ProtocolError('BAD_TOKEN', 'payload is not valid UTF-8');
  const bad = claimsProblem(payload);
  if (bad) throw new ProtocolError('BAD_TOKEN', bad);
  const p = payload as Claims;
  return {
    userId: Number(p.sub),
    role: p.role,
    profile: { nickname: p.nick ?? '', avatar: p.avatar ?? '', gender: p.gender ?? '', level: p.level ?? 0 },
  };
}

interface Claims {
  sub: string;
  role: Role;
  exp: number;
  nick?: string;
  avatar?: string;
  gender?: Profile['gender'];
  level?: number;
}

/** Why these claims are not what the token rules above allow, or undefined. */
function claimsProblem(p: Record<string, unknown>): string | undefined {
  if (typeof p.sub !== 'string' || !SUB.test(p.sub)) return 'sub must be a string of 1 to 15 decimal digits, no leading zero';
  if (p.role !== 'host' && p.role !== 'viewer') return 'role must be "host" or "viewer"';
  if (typeof p.exp !== 'number' || !Number.isSafeInteger(p.exp)) return 'exp must be an integer number of seconds';
  if ('nick' in p && !isText(p.nick, NICK_MAX)) return `nick must be a string of at most ${NICK_MAX} characters`;
  if ('avatar' in p && !isText(p.avatar, AVATAR_MAX)) return `avatar must be a string of at most ${AVATAR_MAX} characters`;
  if ('gender' in p && p.gender !== '' && p.gender !== 'male' && p.gender !== 'female') return 'gender must be "", "male" or "female"';
  if ('level' in p && !(typeof p.level === 'number' && Number.isInteger(p.level) && p.level >= 0 && p.level <= LEVEL_MAX)) {
    return `level must be an integer 0 to ${LEVEL_MAX}`;
  }
  return undefined;
}

/** A string within `max` UTF-16 code units with no lone surrogate (which would go out as invalid UTF-8). */
function isText(v: unknown, max: number): boolean {
  return typeof v === 'string' && v.length <= max && !LONE_SURROGATE.test(v);
}
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The token of an `Authorization: Bearer …` header, if that is what it holds. */
export function bearerToken(authorization: string): string | undefined {
  return authorization.trim().match(/^Bearer\s+(\S+)$/i)?.[1];
}

/** Token from `Authorization: Bearer …` or, for clients that cannot set headers, `?token=`. */
export function tokenFrom(authorization: string, query: string): string | undefined {
  const bearer = bearerToken(authorization);
  if (bearer) return bearer;
  const fromQuery = new URLSearchParams(query).get('token');
  return fromQuery || undefined;
}
