// The registry mirror of this workplace serves msgpackr-extract's Linux builds
// only, so `npm install` leaves its other platform builds out of the lock and
// `npm ci` then refuses the lock as out of sync. This adds the missing optional
// entries (os/cpu-gated, never installed on Linux) exactly as a full registry
// would have written them. Run it after any `npm install`: `npm run lock:complete`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const platforms = { 'darwin-arm64': ['darwin', 'arm64'], 'darwin-x64': ['darwin', 'x64'], 'linux-arm': ['linux', 'arm'], 'linux-arm64': ['linux', 'arm64'], 'linux-x64': ['linux', 'x64'], 'win32-x64': ['win32', 'x64'] };
const parent = lock.packages['node_modules/msgpackr-extract'];
if (!parent) throw new Error('msgpackr-extract is not in the lock');
let added = 0;
for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const suffix = name.split('msgpackr-extract-')[1];
  const [os, cpu] = platforms[suffix] ?? [];
  if (!os) throw new Error(`unknown platform package ${name}`);
  lock.packages[key] = { version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
  added++;
}
const [root, ...rest] = Object.keys(lock.packages);
lock.packages = Object.fromEntries([[root, lock.packages[root]], ...rest.sort().map((k) => [k, lock.packages[k]])]);
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} optional platform entries`);
