import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Role } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Profile } from '../protocol/schemas.js';

/**
 * Login tokens are HS256 JWTs minted by the app's backend with the shared
 * secret: `sub` = user id, `role` = host|viewer, `exp`, and the public
 * profile shown to others (nickname, avatar, gender, level).
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
const keyOf = (secret: string) => new TextEncoder().encode(secret);

export async function mintToken(secret: string, o: MintOptions): Promise<string> {
  const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ role: o.role, nick: o.profile.nickname, avatar: o.profile.avatar, gender: o.profile.gender, level: o.profile.level })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(String(o.userId))
    .setIssuedAt(iat)
    .setExpirationTime(iat + o.ttlSec)
    .sign(keyOf(secret));
}

/** Verifies a token; throws ProtocolError TOKEN_EXPIRED (24) or BAD_TOKEN (720). */
export async function verifyToken(secret: string, token: string, nowMs: number): Promise<Identity> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: [ALG],
      requiredClaims: ['sub', 'exp'],
      currentDate: new Date(nowMs),
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new ProtocolError('TOKEN_EXPIRED');
    throw new ProtocolError('BAD_TOKEN');
  }
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

/** Token from `Authorization: Bearer …` or, for clients that cannot set headers, `?token=`. */
export function tokenFrom(authorization: string, query: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (bearer) return bearer[1];
  const fromQuery = new URLSearchParams(query).get('token');
  return fromQuery || undefined;
}
