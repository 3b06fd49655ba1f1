import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Role } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Profile } from '../protocol/schemas.js';

/**
 * Login tokens are HS256 JWTs minted by the app's backend with the shared
 * secret: `sub` = user id, `role` = host|viewer, `exp`, and the public
 * profile shown to others (nick, avatar, gender, level).
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

export function mintToken(secret: string, o: MintOptions): string {
  const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims = { role: o.role, nick: o.profile.nickname, avatar: o.profile.avatar, gender: o.profile.gender, level: o.profile.level, iat, exp: iat + o.ttlSec };
  return jwt.sign(claims, keyOf(secret), { algorithm: ALG, subject: String(o.userId), noTimestamp: true });
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
  if (typeof payload.exp !== 'number') throw new ProtocolError('BAD_TOKEN', 'exp is required');
  const userId = Number(payload.sub);
  if (!Number.isSafeInteger(userId) || userId < 1) throw new ProtocolError('BAD_TOKEN', 'sub must be a positive integer');
  if (payload.role !== 'host' && payload.role !== 'viewer') throw new ProtocolError('BAD_TOKEN', 'role must be host or viewer');
  return { userId, role: payload.role, profile: profileFrom(payload) };
}

function profileFrom(p: Record<string, unknown>): Profile {
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
  const gender = p.gender === 'male' || p.gender === 'female' ? p.gender : '';
  const level = typeof p.level === 'number' && Number.isInteger(p.level) && p.level >= 0 ? Math.min(p.level, 1000) : 0;
  return { nickname: str(p.nick, 64), avatar: str(p.avatar, 512), gender, level };
}

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
