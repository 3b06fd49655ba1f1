import t from 'tap';
import { formatRound, formatSummary, MoneySoak } from '../helpers/money-soak.js';

/**
 * The short crash soak of the credits ledger (the long one: `npm run soak -- --rounds N`). A few
 * rounds of gift and private-show billing load on the server as a child process, each ended by
 * kill -9 at a seeded moment; after each, the database is checked (see test/helpers/money-soak.ts):
 * the auditor passes, every acknowledged gift is in the ledger once and as acknowledged, resent
 * keys get their first reply again, each show's minutes are 1..k and none is billed twice or before
 * it started, no hold goes below zero. A last round ends the shows, stops the server cleanly and
 * checks the settled books.
 */
const ROUNDS = 4;
const SEED = Number(process.env.SOAK_SEED ?? 20261125);

t.test(`money soak: ${ROUNDS} kill -9 rounds under gift and billing load, then a clean stop (seed ${SEED})`, async (t) => {
  const soak = new MoneySoak({ seed: SEED, maxLoadMs: 2_000 });
  t.teardown(() => soak.cleanup());
  for (let i = 0; i < ROUNDS; i++) {
    const r = await soak.crashRound();
    t.comment(formatRound(r));
    t.same(r.violations, [], `round ${r.round}: the books hold after kill -9 (${r.kill})`);
  }
  const settle = await soak.settleRound();
  t.comment(formatRound(settle));
  t.same(settle.violations, [], 'after a clean stop: the books hold, no minute billed twice or before it started');
  const summary = soak.summary();
  for (const u of summary.unsettled) t.comment(`UNSETTLED ${u}`);
  t.same(summary.unsettled, [], 'settled: every hold back to zero, every minute started before its show ended billed');
  t.comment(formatSummary(summary));
  t.ok(summary.acked > 0 && summary.unknown > 0 && summary.resent > 0, 'the rounds sent gifts, lost some replies to the kill and resent keys');
});
