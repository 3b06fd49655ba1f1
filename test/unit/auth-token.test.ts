import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import t from 'tap';
import { ProtocolError } from '../../src/protocol/errors.js';
import { mintToken, verifyToken } from '../../src/server/auth.js';

const SECRET = 'unit-secret-0123456789-0123456789-abcdef';
const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;

/** Signs any payload bytes exactly as given (HS256): jsonwebtoken's sign() itself refuses some bad claims. */
const rawToken = (payload: Buffer) => {
  const head = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${payload.toString('base64url')}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
};
const sign = (payload: Record<string, unknown>) => rawToken(Buffer.from(JSON.stringify(payload)));
const base = { sub: '709', role: 'viewer', exp: NOW + 600 };
const verify = (payload: Record<string, unknown>) => verifyToken(SECRET, sign(payload), NOW_MS);

type Asserts = Pick<typeof t, 'equal' | 'fail' | 'ok'>;
function refused(t: Asserts, payload: Record<string, unknown>, what: string, code = 720): void {
  try {
    const id = verify(payload);
    t.fail(`${what}: accepted as ${JSON.stringify(id)}`);
  } catch (err) {
    t.ok(err instanceof ProtocolError, `${what}: a ProtocolError`);
    t.equal((err as ProtocolError).code, code, `${what}: ${code}`);
  }
}

t.test('sub: a JSON string of 1 to 15 decimal digits without a leading zero', async (t) => {
  t.equal(verify(base).userId, 709);
  t.equal(verify({ ...base, sub: '1' }).userId, 1);
  t.equal(verify({ ...base, sub: '999999999999999' }).userId, 999_999_999_999_999, '15 digits');
  const bad: Array<[string, unknown]> = [
    ['true', true],
    ['false', false],
    ['the number 709', 709],
    ['the number 709.0 (JSON 709.0)', 709.0],
    ['"709.0"', '709.0'],
    ['"0x2c5"', '0x2c5'],
    ['"7.09e2"', '7.09e2'],
    ['" 709 "', ' 709 '],
    ['"709 "', '709 '],
    ['"709\\n"', '709\n'],
    ['["709"]', ['709']],
    ['{"id": 709}', { id: 709 }],
    ['null', null],
    ['"0709"', '0709'],
    ['"+709"', '+709'],
    ['"-709"', '-709'],
    ['"0"', '0'],
    ['""', ''],
    ['"1e3"', '1e3'],
    ['"1_000"', '1_000'],
    ['"0b1"', '0b1'],
    ['"Infinity"', 'Infinity'],
    ['16 digits', '1234567890123456'],
    ['"9007199254740993" (beyond 2^53)', '9007199254740993'],
    ['fullwidth digits', '７０９'],
    ['Arabic-Indic digits', '٧٠٩'],
  ];
  for (const [what, sub] of bad) refused(t, { ...base, sub }, `sub ${what}`);
  const { sub: _omit, ...noSub } = base;
  refused(t, noSub, 'no sub');
});

t.test('role: exactly "host" or "viewer"', async (t) => {
  t.equal(verify({ ...base, role: 'host' }).role, 'host');
  t.equal(verify({ ...base, role: 'viewer' }).role, 'viewer');
  for (const role of ['Host', 'VIEWER', 'admin', ' host', '', ['host'], true, 1, null]) refused(t, { ...base, role }, `role ${JSON.stringify(role)}`);
  const { role: _omit, ...noRole } = base;
  refused(t, noRole, 'no role');
});

t.test('exp: an integer number of seconds, in the future', async (t) => {
  t.ok(verify({ ...base, exp: NOW + 1 }));
  refused(t, { ...base, exp: NOW }, 'exp now', 24);
  refused(t, { ...base, exp: NOW - 1 }, 'exp past', 24);
  refused(t, { ...base, exp: NOW + 600.5 }, 'exp with a fraction');
  refused(t, { ...base, exp: String(NOW + 600) }, 'exp as a string');
  refused(t, { ...base, exp: true }, 'exp true');
  refused(t, { ...base, exp: null }, 'exp null');
  const { exp: _omit, ...noExp } = base;
  refused(t, noExp, 'no exp');
});

t.test('profile claims: optional, and refused (720) when present but malformed', async (t) => {
  t.same(verify(base).profile, { nickname: '', avatar: '', gender: '', level: 0 }, 'absent claims: empty profile');
  const full = { ...base, nick: 'Ann 🎁', avatar: 'https://cdn.example/a.png', gender: 'female', level: 1000 };
  t.same(verify(full).profile, { nickname: 'Ann 🎁', avatar: 'https://cdn.example/a.png', gender: 'female', level: 1000 });
  t.same(verify({ ...base, nick: 'n'.repeat(64), avatar: 'a'.repeat(512), gender: '', level: 0 }).profile.nickname.length, 64, 'at the limits');
  t.equal(verify({ ...base, nick: '🎁'.repeat(32) }).profile.nickname, '🎁'.repeat(32), '64 UTF-16 code units of emoji');
  const bad: Array<[string, Record<string, unknown>]> = [
    ['nick of 65 chars', { nick: 'n'.repeat(65) }],
    ['nick of 33 emoji (66 code units)', { nick: '🎁'.repeat(33) }],
    ['nick a number', { nick: 7 }],
    ['nick null', { nick: null }],
    ['nick with a lone surrogate', { nick: 'a\ud800b' }],
    ['avatar of 513 chars', { avatar: 'a'.repeat(513) }],
    ['avatar an array', { avatar: ['x'] }],
    ['avatar with a lone surrogate', { avatar: '\udc00' }],
    ['gender "other"', { gender: 'other' }],
    ['gender "Male"', { gender: 'Male' }],
    ['gender 1', { gender: 1 }],
    ['level 1001', { level: 1001 }],
    ['level -1', { level: -1 }],
    ['level 1.5', { level: 1.5 }],
    ['level "3"', { level: '3' }],
    ['level null', { level: null }],
  ];
  for (const [what, claims] of bad) refused(t, { ...base, ...claims }, what);
  t.ok(verify({ ...base, iat: NOW - 10, jti: 'x', iss: 'backend' }), 'other claims are ignored');
});

t.test('the payload must be valid UTF-8 JSON', async (t) => {
  const body = Buffer.concat([Buffer.from(`{"sub":"709","role":"viewer","exp":${NOW + 600},"nick":"A`), Buffer.from([0xff]), Buffer.from('"}')]);
  t.throws(() => verifyToken(SECRET, rawToken(body), NOW_MS), { code: 720 }, 'invalid UTF-8 in nick');
  const good = Buffer.from(`{"sub":"709","role":"viewer","exp":${NOW + 600},"nick":"Å"}`);
  t.equal(verifyToken(SECRET, rawToken(good), NOW_MS).profile.nickname, 'Å', 'the same token with valid UTF-8');
  t.throws(() => verifyToken(SECRET, rawToken(Buffer.from('"709"')), NOW_MS), { code: 720 }, 'a JSON string, not an object');
});

t.test('mintToken writes what verifyToken reads, and refuses what it would refuse', async (t) => {
  const profile = { nickname: 'Ann', avatar: '', gender: 'male' as const, level: 7 };
  const token = mintToken(SECRET, { userId: 42, role: 'host', profile, ttlSec: 60, issuedAt: NOW });
  t.same(verifyToken(SECRET, token, NOW_MS), { userId: 42, role: 'host', profile });
  t.same(jwt.decode(token), { sub: '42', role: 'host', nick: 'Ann', avatar: '', gender: 'male', level: 7, iat: NOW, exp: NOW + 60 });
  const mint = (o: Partial<Parameters<typeof mintToken>[1]>) => () => mintToken(SECRET, { userId: 42, role: 'host', profile, ttlSec: 60, ...o });
  t.throws(mint({ userId: 0 }), 'user id 0');
  t.throws(mint({ userId: 1.5 }), 'user id 1.5');
  t.throws(mint({ userId: 1e15 }), 'user id of 16 digits');
  t.throws(mint({ profile: { ...profile, nickname: 'n'.repeat(65) } }), 'long nick');
  t.throws(mint({ profile: { ...profile, level: 1001 } }), 'level 1001');
  t.throws(mint({ ttlSec: 1.5 }), 'fractional ttl');
});
