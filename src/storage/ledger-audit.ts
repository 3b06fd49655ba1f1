import type Database from 'better-sqlite3';

/**
 * Recomputes the ledger from its entries and checks what must always hold:
 * every stored balance is the sum of its account's entries, and each entry's
 * recorded balance is the running sum up to it; no balance below zero (but
 * the mint's) ever; each transfer's legs sum to zero; all balances sum to zero
 * (so credits in circulation = minted); each idempotency key once.
 */
export interface AuditReport {
  ok: boolean;
  accounts: number;
  transfers: number;
  entries: number;
  /** Credits ever minted (top-ups and adjustments in) minus those taken out (withdrawals). */
  minted: number;
  /** Σ of the balances of every account but the mint: equals `minted` when the books balance. */
  circulating: number;
  users: number;
  house: number;
  held: number;
  violations: string[];
}

const LIMIT = 20;

export function auditLedger(db: Database.Database): AuditReport {
  const violations: string[] = [];
  const note = (what: string, rows: unknown[]) => {
    for (const row of rows.slice(0, LIMIT)) violations.push(`${what}: ${JSON.stringify(row)}`);
    if (rows.length > LIMIT) violations.push(`${what}: … ${rows.length - LIMIT} more`);
  };
  const all = (sql: string) => db.prepare(sql).all();
  const one = (sql: string) => (db.prepare(sql).pluck().get() as number | null) ?? 0;

  note(
    'stored balance differs from the sum of its entries',
    all(`SELECT a.account, a.balance AS stored, coalesce(e.sum, 0) AS entries
         FROM ledger_accounts a LEFT JOIN (SELECT account, sum(delta) AS sum FROM ledger_entries GROUP BY account) e USING (account)
         WHERE a.balance <> coalesce(e.sum, 0)
         UNION ALL
         SELECT e.account, NULL, e.sum FROM (SELECT account, sum(delta) AS sum FROM ledger_entries GROUP BY account) e
         WHERE e.account NOT IN (SELECT account FROM ledger_accounts)`),
  );
  note(
    'entry balance is not the running sum of its account',
    all(`SELECT transfer_id, account, balance, running FROM (
           SELECT transfer_id, account, balance, sum(delta) OVER (PARTITION BY account ORDER BY transfer_id) AS running FROM ledger_entries)
         WHERE balance <> running`),
  );
  note('balance below zero', all("SELECT account, balance FROM ledger_accounts WHERE balance < 0 AND account <> 'mint'"));
  note('entry left a balance below zero', all("SELECT transfer_id, account, balance FROM ledger_entries WHERE balance < 0 AND account <> 'mint'"));
  note(
    'transfer legs do not sum to zero or are fewer than two',
    all('SELECT transfer_id, sum(delta) AS sum, count(*) AS legs FROM ledger_entries GROUP BY transfer_id HAVING sum(delta) <> 0 OR count(*) < 2'),
  );
  note('transfer without entries', all('SELECT id, key FROM ledger_transfers WHERE id NOT IN (SELECT transfer_id FROM ledger_entries)'));
  note('entries of no transfer', all('SELECT DISTINCT transfer_id FROM ledger_entries WHERE transfer_id NOT IN (SELECT id FROM ledger_transfers)'));
  note('idempotency key used more than once', all('SELECT key, count(*) AS n FROM ledger_transfers GROUP BY key HAVING count(*) > 1'));

  const total = one('SELECT sum(balance) FROM ledger_accounts');
  if (total !== 0) violations.push(`balances sum to ${total}, not 0: credits were created or lost`);
  const minted = -one("SELECT balance FROM ledger_accounts WHERE account = 'mint'");
  const circulating = one("SELECT sum(balance) FROM ledger_accounts WHERE account <> 'mint'");
  return {
    ok: violations.length === 0,
    accounts: one('SELECT count(*) FROM ledger_accounts'),
    transfers: one('SELECT count(*) FROM ledger_transfers'),
    entries: one('SELECT count(*) FROM ledger_entries'),
    minted,
    circulating,
    users: one("SELECT sum(balance) FROM ledger_accounts WHERE account LIKE 'user:%'"),
    house: one("SELECT balance FROM ledger_accounts WHERE account = 'house'"),
    held: one("SELECT sum(balance) FROM ledger_accounts WHERE account LIKE 'hold:%'"),
    violations,
  };
}
