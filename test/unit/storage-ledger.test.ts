import t, { type Test } from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { SqliteJournalEngine, type CommitWork } from '../../src/storage/journal-engine.js';
import { auditLedger } from '../../src/storage/ledger-audit.js';
import { LedgerError, SqliteLedger, type TransferCommand } from '../../src/storage/ledger.js';

function setup(t: Test) {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  const commits: number[] = [];
  const engine = new SqliteJournalEngine(db, { onCommit: (_s, items) => commits.push(items) });
  const ledger = new SqliteLedger(db, engine);
  t.teardown(() => {
    engine.close();
    db.close();
  });
  return { db, engine, ledger, commits };
}

const topup = (user: number, amount: number, order: string): TransferCommand => ({
  key: `topup:${order}`,
  kind: 'topup',
  legs: [
    { account: 'mint', delta: -amount },
    { account: `user:${user}`, delta: amount },
  ],
  meta: { order },
  at: 1000,
});

const gift = (from: number, to: number, price: number, key: string, giftId = 7): TransferCommand => ({
  key,
  kind: 'gift',
  legs: [
    { account: `user:${from}`, delta: -price },
    { account: `user:${to}`, delta: price - Math.floor(price / 2) },
    { account: 'house', delta: Math.floor(price / 2) },
  ],
  meta: { giftId },
  at: 2000,
});

async function refused(t: Test, p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof LedgerError && err.code === code, `refused with ${code} (got ${String(err)})`);
}

t.test('a top-up and a gift move credits, commit, and the books balance', async (t) => {
  const { db, ledger } = setup(t);
  const first = await ledger.transfer(topup(1, 100, 'o1'));
  t.same(first.balances, { mint: -100, 'user:1': 100 });
  t.equal(first.replayed, false);
  const sent = await ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  t.same(sent.balances, { 'user:1': 70, 'user:2': 15, house: 15 });
  t.same(sent.meta, { giftId: 7 });
  t.equal(ledger.balance('user:1'), 70);
  const report = auditLedger(db);
  t.same(report.violations, []);
  t.ok(report.ok);
  t.equal(report.minted, 100);
  t.equal(report.circulating, 100);
  t.equal(report.house, 15);
  t.equal(report.transfers, 2);
  t.equal(report.entries, 5);
});

t.test('not enough credit: refused, nothing changed, the key may be tried again', async (t) => {
  const { db, ledger } = setup(t);
  await ledger.transfer(topup(1, 10, 'o1'));
  await refused(t, ledger.transfer(gift(1, 2, 11, 'u:1:g1')), 'INSUFFICIENT_CREDIT');
  t.equal(ledger.balance('user:1'), 10);
  t.equal(ledger.balance('user:2'), 0);
  t.equal(db.prepare('SELECT count(*) FROM ledger_transfers').pluck().get(), 1);
  await ledger.transfer(topup(1, 5, 'o2'));
  const done = await ledger.transfer(gift(1, 2, 11, 'u:1:g1'));
  t.equal(done.balances['user:1'], 4, 'the same key goes through once there is enough');
  t.ok(auditLedger(db).ok);
});

t.test('the same key again returns the first result and changes nothing; other parameters are refused', async (t) => {
  const { db, ledger } = setup(t);
  await ledger.transfer(topup(1, 100, 'o1'));
  const first = await ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  const again = await ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  t.equal(again.replayed, true);
  t.same({ ...again, replayed: false }, first, 'the first result');
  t.equal(ledger.balance('user:1'), 70);
  await refused(t, ledger.transfer(gift(1, 2, 31, 'u:1:g1')), 'KEY_REUSED');
  await refused(t, ledger.transfer(gift(1, 2, 30, 'u:1:g1', 8)), 'KEY_REUSED');
  const replayedTopup = await ledger.transfer(topup(1, 100, 'o1'));
  t.equal(replayedTopup.replayed, true);
  t.equal(ledger.balance('user:1'), 70);
  t.equal(db.prepare('SELECT count(*) FROM ledger_transfers').pluck().get(), 2);
  t.ok(auditLedger(db).ok);
});

t.test('a retry while the first attempt is in flight joins it', async (t) => {
  const { db, ledger } = setup(t);
  await ledger.transfer(topup(1, 100, 'o1'));
  const [a, b] = await Promise.all([ledger.transfer(gift(1, 2, 30, 'u:1:g1')), ledger.transfer(gift(1, 2, 30, 'u:1:g1'))]);
  t.equal(a.transferId, b.transferId);
  t.same([a.replayed, b.replayed], [false, true]);
  t.equal(ledger.balance('user:1'), 70);
  const [first, other] = await Promise.allSettled([ledger.transfer(gift(1, 2, 5, 'u:1:g2')), ledger.transfer(gift(1, 2, 6, 'u:1:g2'))]);
  t.equal(first.status, 'fulfilled');
  await refused(t, other.status === 'rejected' ? Promise.reject(other.reason) : Promise.resolve(), 'KEY_REUSED');
  t.equal(db.prepare('SELECT count(*) FROM ledger_transfers').pluck().get(), 3);
  t.equal(ledger.balance('user:1'), 65);
});

t.test('100 concurrent sends from a sender who can afford 10: exactly 10 go through, in one commit', async (t) => {
  const { db, ledger, commits } = setup(t);
  await ledger.transfer(topup(1, 100, 'o1'));
  commits.length = 0;
  const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => ledger.transfer(gift(1, 2, 10, `u:1:g${i}`))));
  const ok = results.filter((r) => r.status === 'fulfilled');
  t.equal(ok.length, 10);
  t.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.code === 'INSUFFICIENT_CREDIT'));
  t.equal(ledger.balance('user:1'), 0);
  t.equal(ledger.balance('user:2'), 50);
  t.same(commits, [1], 'one commit for the whole batch');
  const report = auditLedger(db);
  t.ok(report.ok);
  t.equal(report.users + report.house, 100);
});

t.test('malformed transfers are refused before anything happens', async (t) => {
  const { db, ledger } = setup(t);
  await ledger.transfer(topup(1, 100, 'o1'));
  const base = gift(1, 2, 10, 'u:1:bad');
  const cases: Array<[string, TransferCommand]> = [
    ['legs not summing to zero', { ...base, legs: [{ account: 'user:1', delta: -10 }, { account: 'user:2', delta: 9 }] }],
    ['a zero amount', { ...base, legs: [{ account: 'user:1', delta: 0 }, { account: 'user:2', delta: 0 }] }],
    ['a fractional amount', { ...base, legs: [{ account: 'user:1', delta: -1.5 }, { account: 'user:2', delta: 1.5 }] }],
    ['an unsafe amount', { ...base, legs: [{ account: 'user:1', delta: -(2 ** 60) }, { account: 'user:2', delta: 2 ** 60 }] }],
    ['a repeated account', { ...base, legs: [{ account: 'user:1', delta: -1 }, { account: 'user:1', delta: 1 }] }],
    ['a single leg', { ...base, legs: [{ account: 'user:1', delta: 0 }] }],
    ['an empty key', { ...base, key: '' }],
  ];
  for (const [what, cmd] of cases) await refused(t, ledger.transfer(cmd), 'BAD_TRANSFER').then(() => t.pass(what));
  await refused(t, ledger.transfer({ ...topup(1, Number.MAX_SAFE_INTEGER, 'huge') }), 'BAD_TRANSFER');
  t.equal(ledger.balance('user:1'), 100);
  t.equal(db.prepare('SELECT count(*) FROM ledger_transfers').pluck().get(), 1);
});

t.test('a failed commit refuses its transfers and memory forgets what it decided', async (t) => {
  const db = openDatabase({ path: ':memory:', synchronous: 'FULL' });
  t.teardown(() => db.close());
  let fail = false;
  const pending: CommitWork[] = [];
  const queue = { submit: (w: CommitWork) => void pending.push(w) };
  const commit = () => {
    for (const w of pending.splice(0)) {
      if (fail) {
        w.done(new Error('disk full'));
        continue;
      }
      db.transaction(() => w.apply())();
      w.done();
    }
  };
  const ledger = new SqliteLedger(db, queue);
  const p1 = ledger.transfer(topup(1, 50, 'o1'));
  commit();
  await p1;
  fail = true;
  const p2 = ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  t.equal(ledger.balance('user:1'), 20, 'decided in memory');
  commit();
  await refused(t, p2, 'STORAGE');
  t.equal(ledger.balance('user:1'), 50, 'read again from what is stored');
  t.equal(ledger.balance('user:2'), 0);
  fail = false;
  const p3 = ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  commit();
  t.equal((await p3).balances['user:1'], 20, 'the key is free again');
  t.ok(auditLedger(db).ok);
});

t.test('a transfer shares the group commit with journal writes of the same turn', async (t) => {
  const { engine, ledger, commits } = setup(t);
  await Promise.all([
    ledger.transfer(topup(1, 5, 'o1')),
    engine.persist({ key: 'user:1', sequenceNumber: 1, createdAt: 1, data: { t: 'x' }, tags: [], isDeleted: false } as never),
  ]);
  t.same(commits, [2], 'one commit, two items');
});

t.test('after a restart balances, keys and ids carry on from what is stored', async (t) => {
  const path = `${t.testdirName}/ledger.db`;
  t.testdir({});
  let db = openDatabase({ path, synchronous: 'FULL' });
  let engine = new SqliteJournalEngine(db);
  let ledger = new SqliteLedger(db, engine);
  await ledger.transfer(topup(1, 100, 'o1'));
  const sent = await ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  engine.close();
  db.close();
  db = openDatabase({ path, synchronous: 'FULL' });
  engine = new SqliteJournalEngine(db);
  ledger = new SqliteLedger(db, engine);
  t.teardown(() => {
    engine.close();
    db.close();
  });
  t.equal(ledger.balance('user:1'), 70);
  const again = await ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  t.same(again, { ...sent, replayed: true });
  const next = await ledger.transfer(gift(1, 2, 10, 'u:1:g2'));
  t.equal(next.transferId, sent.transferId + 1);
  t.ok(auditLedger(db).ok);
});

t.test('the auditor finds books that were tampered with', async (t) => {
  const { db, ledger } = setup(t);
  await ledger.transfer(topup(1, 100, 'o1'));
  await ledger.transfer(gift(1, 2, 30, 'u:1:g1'));
  t.ok(auditLedger(db).ok);
  db.prepare("UPDATE ledger_accounts SET balance = balance + 5 WHERE account = 'user:2'").run();
  const report = auditLedger(db);
  t.notOk(report.ok);
  t.ok(report.violations.some((v) => v.startsWith('stored balance differs')));
  t.ok(report.violations.some((v) => v.startsWith('balances sum to 5')));
  db.prepare("UPDATE ledger_accounts SET balance = balance - 5 WHERE account = 'user:2'").run();
  db.prepare("UPDATE ledger_entries SET delta = delta - 1, balance = balance - 1 WHERE account = 'house'").run();
  const second = auditLedger(db);
  t.ok(second.violations.some((v) => v.startsWith('transfer legs do not sum to zero')));
  t.ok(second.violations.some((v) => v.startsWith('stored balance differs')));
  db.prepare("INSERT INTO ledger_accounts (account, balance, updated_at) VALUES ('user:9', -3, 0)").run();
  t.ok(auditLedger(db).violations.some((v) => v.startsWith('balance below zero')));
});
