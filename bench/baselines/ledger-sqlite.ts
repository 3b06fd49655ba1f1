/**
 * Baselines of bench/gifts.ts: raw better-sqlite3 writing the ledger rows of
 * gifts, on a database opened exactly as the server opens its own
 * (src/storage/database.ts: WAL, synchronous=FULL, exclusive lock, the same
 * migrations, so the same tables and indexes), with no server around it.
 *
 *   tsx bench/baselines/ledger-sqlite.ts <per-gift|batched> <db path> <seconds> [gifts per transaction]
 *
 * One gift = the rows the server's SqliteLedger writes for it
 * (src/storage/ledger.ts write()): 1 ledger_transfers row (key, fingerprint,
 * result JSON of the same shape and size), 3 ledger_entries rows (sender,
 * host, house) and the 3 ledger_accounts upserts. Senders and hosts are
 * spread over 500 and 50 accounts as in the default bench.
 *   per-gift  one transaction (one commit, one fsync) per gift: the cap of a
 *             server that commits each gift on its own
 *   batched   `gifts per transaction` gifts (default 1000) per transaction:
 *             the ceiling of raw inserts on this disk
 * Runs for <seconds> and prints one JSON line with the figures.
 */
import { readFileSync } from 'node:fs';
import { openDatabase } from '../../src/storage/database.js';

const [mode, path, secondsArg, batchArg] = process.argv.slice(2);
if ((mode !== 'per-gift' && mode !== 'batched') || !path || !(Number(secondsArg) > 0)) {
  console.error('usage: ledger-sqlite.ts <per-gift|batched> <db path> <seconds> [gifts per transaction]');
  process.exit(2);
}
const SECONDS = Number(secondsArg);
const PER_TX = mode === 'per-gift' ? 1 : Math.max(1, Number(batchArg ?? 1000));
const SENDERS = 500;
const HOSTS = 50;
const PRICE = 10;
const HOUSE = 3;

// As the server: LIVE_DB_WAL_CHECKPOINT_PAGES (inherited from the bench's environment) or the server's default.
const db = openDatabase({ path, synchronous: 'FULL', walCheckpointPages: Number(process.env.LIVE_DB_WAL_CHECKPOINT_PAGES ?? 10000) });
const insertTransfer = db.prepare('INSERT INTO ledger_transfers (id, key, kind, fingerprint, at, ref, amount, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
const insertEntry = db.prepare('INSERT INTO ledger_entries (transfer_id, account, delta, balance) VALUES (?, ?, ?, ?)');
const upsertAccount = db.prepare(
  'INSERT INTO ledger_accounts (account, balance, updated_at) VALUES (?, ?, ?) ON CONFLICT (account) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at',
);
const balances = new Map<string, number>();
for (let s = 0; s < SENDERS; s++) balances.set(`user:${100_000 + s}`, 1_000_000_000);

let nextId = 1;
/** One gift's rows, as SqliteLedger.write() makes them (strings built per gift, as the server builds them). */
function writeGift(): void {
  const id = nextId++;
  const sender = `user:${100_000 + (id % SENDERS)}`;
  const host = `user:${1 + (id % HOSTS)}`;
  const ref = `room:${1 + (id % HOSTS)}`;
  const at = Date.now();
  const legs = [
    [sender, -PRICE],
    [host, PRICE - HOUSE],
    ['house', HOUSE],
  ] as const;
  const after: Record<string, number> = {};
  for (const [account, delta] of legs) balances.set(account, (after[account] = (balances.get(account) ?? 0) + delta));
  const meta = { comboId: `c${id % SENDERS}-${id >> 5}`, count: 1, giftId: 1, to: ref };
  const fingerprint = JSON.stringify(['gift', [...legs].sort((a, b) => (a[0] < b[0] ? -1 : 1)), Object.entries(meta), ref]);
  insertTransfer.run(id, `gift:${sender.slice(5)}:k:b${id}`, 'gift', fingerprint, at, ref, PRICE, JSON.stringify({ balances: after, meta, note: { streak: 1 + (id % 20), streakCount: 1 + (id % 20) } }));
  for (const [account, delta] of legs) insertEntry.run(id, account, delta, after[account]);
  for (const [account] of legs) upsertAccount.run(account, after[account], at);
}

const tx = db.transaction((n: number) => {
  for (let i = 0; i < n; i++) writeGift();
});

/** Bytes this process caused to be written to storage so far (Linux). */
const writeBytes = () => Number(/^write_bytes:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
const commitMs: number[] = [];
const io0 = writeBytes();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const until = t0 + SECONDS * 1000;
let gifts = 0;
let transactions = 0;
while (performance.now() < until) {
  const t = performance.now();
  tx(PER_TX);
  commitMs.push(performance.now() - t);
  gifts += PER_TX;
  transactions++;
}
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const written = writeBytes() - io0;
db.close();
commitMs.sort((a, b) => a - b);
const pct = (p: number) => Math.round((commitMs[Math.min(commitMs.length - 1, Math.floor((p / 100) * commitMs.length))] ?? 0) * 100) / 100;
const r2 = (x: number) => Math.round(x * 100) / 100;
console.log(
  JSON.stringify({
    mode,
    giftsPerTx: PER_TX,
    rowsPerGift: 4, // inserted: 1 transfer + 3 entries (and 3 account upserts)
    seconds: r2(secs),
    gifts,
    transactions,
    giftsPerSec: Math.round(gifts / secs),
    txPerSec: Math.round(transactions / secs),
    txMsP50: pct(50),
    txMsP99: pct(99),
    writeKiBPerGift: r2(written / 1024 / gifts),
    writeMiBPerSec: r2(written / 1024 / 1024 / secs),
    cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (secs * 1000)) * 100),
  }),
);
