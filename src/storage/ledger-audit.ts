import type Database from 'better-sqlite3';

/**
 * Recomputes the ledger from its entries and checks what must always hold:
 * every stored balance is the sum of its account's entries, and each entry's
 * recorded balance is the running sum up to it; no balance below zero (but
 * the sources' — mint, promo, items) ever; each transfer's legs sum to zero in
 * each currency (credits, backpack items); each currency sums to zero (so
 * credits in circulation = minted); each idempotency key once.
 */
export interface AuditReport {
  ok: boolean;
  accounts: number;
  transfers: number;
  entries: number;
  /** Credits ever minted (top-ups, adjustments, what the platform paid for backpack gifts) minus those taken out (withdrawals). */
  minted: number;
  /** Σ of the credit balances of every account but the sources (mint, promo): equals `minted` when the books balance. */
  circulating: number;
  /** Backpack items held by users. */
  items: number;
  users: number;
  house: number;
  held: number;
  violations: string[];
}

const LIMIT = 20;
/** SQL: the account is a backpack (items) account. */
const ITEM = "(account = 'items' OR account LIKE 'bag:%')";
const SOURCES = "('mint', 'promo', 'items')";

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
  note('balance below zero', all(`SELECT account, balance FROM ledger_accounts WHERE balance < 0 AND account NOT IN ${SOURCES}`));
  note('entry left a balance below zero', all(`SELECT transfer_id, account, balance FROM ledger_entries WHERE balance < 0 AND account NOT IN ${SOURCES}`));
  note(
    'transfer legs do not sum to zero in each currency, or are fewer than two',
    all(`SELECT transfer_id, sum(CASE WHEN ${ITEM} THEN 0 ELSE delta END) AS credits, sum(CASE WHEN ${ITEM} THEN delta ELSE 0 END) AS items, count(*) AS legs
         FROM ledger_entries GROUP BY transfer_id HAVING credits <> 0 OR items <> 0 OR count(*) < 2`),
  );
  note('transfer without entries', all('SELECT id, key FROM ledger_transfers WHERE id NOT IN (SELECT transfer_id FROM ledger_entries)'));
  note('entries of no transfer', all('SELECT DISTINCT transfer_id FROM ledger_entries WHERE transfer_id NOT IN (SELECT id FROM ledger_transfers)'));
  note('idempotency key used more than once', all('SELECT key, count(*) AS n FROM ledger_transfers GROUP BY key HAVING count(*) > 1'));

  const total = one(`SELECT sum(balance) FROM ledger_accounts WHERE NOT ${ITEM}`);
  if (total !== 0) violations.push(`balances sum to ${total}, not 0: credits were created or lost`);
  const items = one(`SELECT sum(balance) FROM ledger_accounts WHERE ${ITEM}`);
  if (items !== 0) violations.push(`backpack items sum to ${items}, not 0: items were created or lost`);
  const minted = -one("SELECT sum(balance) FROM ledger_accounts WHERE account IN ('mint', 'promo')");
  const circulating = one(`SELECT sum(balance) FROM ledger_accounts WHERE NOT ${ITEM} AND account NOT IN ('mint', 'promo')`);
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
    items: one("SELECT sum(balance) FROM ledger_accounts WHERE account LIKE 'bag:%'"),
    violations,
  };
}
