import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine } from '../../src/storage/journal-engine.js';
import { SqliteLedger } from '../../src/storage/ledger.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const audit = (path: string) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/audit.ts', path], { cwd: root, encoding: 'utf8' });

t.test('npm run audit: ok books exit 0, tampered books exit 1 with the violations, no database exit 2', async (t) => {
  const dir = t.testdir({});
  const path = `${dir}/live.db`;
  const db = openDatabase({ path, synchronous: 'FULL' });
  const engine = new SqliteJournalEngine(db);
  const ledger = new SqliteLedger(db, engine);
  await ledger.transfer({ key: 'topup:a', kind: 'topup', legs: [{ account: 'mint', delta: -50 }, { account: 'user:1', delta: 50 }], at: 1 });
  await ledger.transfer({ key: 'gift:1', kind: 'gift', legs: [{ account: 'user:1', delta: -10 }, { account: 'user:2', delta: 7 }, { account: 'house', delta: 3 }], at: 2 });
  engine.close();
  db.close();

  const good = audit(path);
  t.equal(good.status, 0, good.stderr);
  t.match(good.stdout, /"minted": 50/);
  t.match(good.stdout, /audit ok/);

  const raw = openDatabase({ path, synchronous: 'FULL' });
  raw.prepare("UPDATE ledger_accounts SET balance = 1000 WHERE account = 'user:2'").run();
  raw.close();
  const bad = audit(path);
  t.equal(bad.status, 1);
  t.match(bad.stdout, /VIOLATION stored balance differs/);
  t.match(bad.stdout, /audit FAILED/);

  const none = audit(`${dir}/missing.db`);
  t.equal(none.status, 2);
  t.match(none.stderr, /usage: npm run audit/);
});
