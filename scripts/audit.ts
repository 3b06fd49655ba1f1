/**
 * npm run audit -- <database>
 *
 * Recomputes every balance of the ledger from its entries and checks the books (see
 * src/storage/ledger-audit.ts). Prints the report; exits 1 on any violation, 2 when the database
 * cannot be read. A running server holds its database exclusively: audit a stopped server's
 * database (or a copy), or ask a running one with GET /admin/ledger/audit.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { auditLedger } from '../src/storage/ledger-audit.js';

const path = process.argv[2];
if (!path || !existsSync(path)) {
  console.error(`usage: npm run audit -- <database>${path ? ` (no such file: ${path})` : ''}`);
  process.exit(2);
}
let db: Database.Database;
try {
  db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 0');
  const report = auditLedger(db);
  const { violations, ...figures } = report;
  console.log(JSON.stringify(figures, null, 2));
  for (const v of violations) console.log(`VIOLATION ${v}`);
  console.log(report.ok ? 'audit ok' : `audit FAILED: ${violations.length} violation(s)`);
  db.close();
  process.exit(report.ok ? 0 : 1);
} catch (err) {
  console.error(`cannot audit ${path}: ${(err as Error).message}${/locked/i.test((err as Error).message) ? ' (a running server holds it: use GET /admin/ledger/audit)' : ''}`);
  process.exit(2);
}
