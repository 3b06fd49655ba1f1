import t, { type Test } from 'tap';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer } from '../helpers/server.js';


async function setup(t: Test) {
  const ts = await startTestServer(t, { adminToken: ADMIN });
  const call = adminApi(ts).call;
  return { ts, call };
}

t.test('a top-up from the payment backend: credited once per order id, pushed, audited', async (t) => {
  const { ts, call } = await setup(t);
  const viewer = await ts.connect(1);
  let updates = 0;
  viewer.on('wallet.updated', () => void updates++);
  const pushed = viewer.next('wallet.updated');
  const first = await call('POST', '/admin/users/1/topup', { orderId: 'pay-001', amount: 100 });
  t.equal(first.status, 200);
  t.match(first.body, { credits: 100, replayed: false });
  t.match(await pushed, { credits: 100, delta: 100, reason: 'topup', transferId: first.body.transferId });
  t.same(await viewer.request('wallet.balance', {}), { credits: 100 });

  const again = await call('POST', '/admin/users/1/topup', { orderId: 'pay-001', amount: 100 });
  t.equal(again.status, 200);
  t.same(again.body, { ...first.body, replayed: true }, 'a retry answers the first result');
  t.same(await viewer.request('wallet.balance', {}), { credits: 100 }, 'and credits nothing');

  const other = await call('POST', '/admin/users/1/topup', { orderId: 'pay-001', amount: 500 });
  t.equal(other.status, 409);
  t.equal(other.body.code, 753);
  const otherUser = await call('POST', '/admin/users/2/topup', { orderId: 'pay-001', amount: 100 });
  t.equal(otherUser.status, 409, 'an order id belongs to one user');

  const audit = await call('GET', '/admin/ledger/audit');
  t.equal(audit.status, 200);
  t.match(audit.body, { ok: true, minted: 100, circulating: 100, users: 100, transfers: 1, violations: [] });
  await viewer.request('session.ping', {});
  t.equal(updates, 1, 'one push for one credit');
  t.ok(ts.logs.some((l) => l.msg === 'admin call' && l.userId === '1' && l.orderId === 'pay-001'));
  t.ok(ts.logs.some((l) => l.msg === 'transfer' && l.key === 'topup:pay-001'));
  t.notOk(JSON.stringify(ts.logs).includes(ADMIN), 'the admin token is never logged');
});

t.test('withdrawals and adjustments: refused with 740 past the balance, a reason required', async (t) => {
  const { ts, call } = await setup(t);
  await call('POST', '/admin/users/7/topup', { orderId: 'p1', amount: 50 });
  const over = await call('POST', '/admin/users/7/withdraw', { orderId: 'w1', amount: 51 });
  t.equal(over.status, 409);
  t.equal(over.body.code, 740);
  const out = await call('POST', '/admin/users/7/withdraw', { orderId: 'w1', amount: 20 });
  t.match(out.body, { credits: 30, replayed: false });
  const fine = await call('POST', '/admin/users/7/adjust', { key: 'ticket-9', amount: -5, reason: 'chargeback of p1' });
  t.match(fine.body, { credits: 25 });
  t.equal((await call('POST', '/admin/users/7/adjust', { key: 'ticket-10', amount: -26, reason: 'too much' })).body.code, 740);
  t.equal((await call('POST', '/admin/users/7/adjust', { key: 'ticket-11', amount: 5 })).status, 400, 'no reason');
  t.same((await call('GET', '/admin/users/7/balance')).body, { userId: 7, credits: 25 });
  t.ok(ts.logs.some((l) => l.msg === 'admin call' && l.reason === 'chargeback of p1'), 'the reason is logged with the call');
  const audit = (await call('GET', '/admin/ledger/audit')).body;
  t.match(audit, { ok: true, minted: 25, circulating: 25 });
});

t.test('bad top-ups are refused and change nothing', async (t) => {
  const { ts, call } = await setup(t);
  const viewer = await ts.connect(3);
  let updates = 0;
  viewer.on('wallet.updated', () => void updates++);
  const bad: unknown[] = [
    { orderId: 'x', amount: 0 },
    { orderId: 'x', amount: -5 },
    { orderId: 'x', amount: 1.5 },
    { orderId: 'x', amount: '10' },
    { orderId: 'x', amount: 1e12 },
    { orderId: 'x', amount: 2 ** 53 },
    { amount: 10 },
    { orderId: '', amount: 10 },
    { orderId: 'has space', amount: 10 },
    { orderId: 'x'.repeat(65), amount: 10 },
    { orderId: 'x', amount: 10, extra: 1 },
    [],
    null,
  ];
  for (const body of bad) {
    const res = await call('POST', '/admin/users/3/topup', body);
    t.equal(res.status, 400, `refused: ${JSON.stringify(body)}`);
    t.equal(res.body.code, 700);
  }
  t.equal((await call('POST', '/admin/users/0/topup', { orderId: 'x', amount: 1 })).status, 400, 'user 0');
  t.equal((await call('POST', '/admin/users/abc/topup', { orderId: 'x', amount: 1 })).status, 400, 'user abc');
  t.equal((await call('POST', '/admin/users/3/topup', { orderId: 'x', amount: 1 }, '')).status, 401, 'no secret');
  t.equal((await call('POST', '/admin/users/3/topup', { orderId: 'x', amount: 1 }, 'wrong-token-0123456789-0123456789-abcdefgh')).status, 401, 'wrong secret');
  t.equal((await call('GET', '/admin/ledger/audit', undefined, 'nope')).status, 401);
  t.same(await viewer.request('wallet.balance', {}), { credits: 0 });
  t.match((await call('GET', '/admin/ledger/audit')).body, { ok: true, transfers: 0 });
  t.equal(updates, 0);
});

t.test('credits of an offline user wait for the next login', async (t) => {
  const { ts, call } = await setup(t);
  await call('POST', '/admin/users/9/topup', { orderId: 'early', amount: 42 });
  const viewer = await ts.connect(9);
  t.same(await viewer.request('wallet.balance', {}), { credits: 42 });
});

t.test('without an admin token the money endpoints do not exist', async (t) => {
  const ts = await startTestServer(t);
  const res = await fetch(`${ts.http}/admin/users/1/topup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"orderId":"a","amount":1}' });
  t.equal(res.status, 404);
});
