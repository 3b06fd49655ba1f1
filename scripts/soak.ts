/**
 * npm run soak -- [--rounds N] [--seed S] [--max-load-ms MS] [--keep] [--verbose]
 *
 * The crash soak of the credits ledger (test/helpers/money-soak.ts): N rounds of the server as a
 * child process under gift and private-show billing load, killed with SIGKILL at a seeded moment
 * and restarted on the same database; after every round the database is opened read-only and
 * checked (auditor, acked gifts once and as acked, replies to resent keys, minutes 1..k per show).
 * A last round ends the shows and stops the server cleanly, then checks the settled books.
 * Prints one line per round and a final summary; exits 1 on any violation (VIOLATION: the books or
 * idempotency broken; UNSETTLED: a started minute never billed, credits left in a hold).
 * `npm test` runs a short version (test/integration/money-soak.test.ts).
 */
import { formatRound, formatSummary, MoneySoak } from '../test/helpers/money-soak.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} takes a non-negative integer`);
    process.exit(2);
  }
  return value;
}

const rounds = arg('rounds', 20);
const seed = arg('seed', 1);
const maxLoadMs = arg('max-load-ms', 2_500);
const keep = process.argv.includes('--keep');
const verbose = process.argv.includes('--verbose');
const started = new Date();

console.log(`money soak: ${rounds} rounds, seed ${seed}, load at most ${maxLoadMs} ms per round, started ${started.toISOString()}`);
const soak = new MoneySoak({
  seed,
  keep,
  maxLoadMs,
  onRound: (r) => {
    console.log(formatRound(r));
    for (const v of r.violations) console.log(`  VIOLATION ${v}`);
    for (const v of r.unsettled) console.log(`  UNSETTLED ${v}`);
    if (verbose) for (const n of r.notes) console.log(`  note: ${n}`);
  },
});
if (keep) console.log(`database: ${soak.dbPath}`);
try {
  for (let i = 0; i < rounds; i++) await soak.crashRound();
  await soak.settleRound();
} catch (err) {
  console.error(`soak aborted: ${(err as Error).stack ?? err}`);
  soak.cleanup();
  process.exit(2);
}
const summary = soak.summary();
soak.cleanup();
console.log(`${formatSummary(summary)}; finished ${new Date().toISOString()}`);
process.exit(summary.violations.length + summary.unsettled.length === 0 ? 0 : 1);
