import { parseArgs } from 'node:util';
import { mintToken } from '../src/server/auth.js';
import { loadConfig } from '../src/server/config.js';

/** Development token: npm run token -- --user 42 --role viewer [--nick Ann --ttl 3600] */
const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    role: { type: 'string', default: 'viewer' },
    nick: { type: 'string', default: '' },
    avatar: { type: 'string', default: '' },
    gender: { type: 'string', default: '' },
    level: { type: 'string', default: '0' },
    ttl: { type: 'string', default: '86400' },
  },
});
const userId = Number(values.user);
if (!Number.isSafeInteger(userId) || userId < 1) throw new Error('--user must be a positive integer');
if (values.role !== 'host' && values.role !== 'viewer') throw new Error('--role must be host or viewer');
const gender = values.gender;
if (gender !== '' && gender !== 'male' && gender !== 'female') throw new Error('--gender must be male, female or empty');
const level = Number(values.level);
if (!Number.isInteger(level) || level < 0 || level > 1000) throw new Error('--level must be an integer 0..1000');
const token = mintToken(loadConfig().tokenSecret, {
  userId,
  role: values.role,
  profile: { nickname: values.nick ?? '', avatar: values.avatar ?? '', gender, level },
  ttlSec: Number(values.ttl),
});
process.stdout.write(`${token}\n`);
