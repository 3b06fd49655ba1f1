import t from 'tap';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer } from '../helpers/server.js';


t.test('paid barrage: charged before it is shown, once per key; refused with 740 and not shown; the host barrages for free', async (t) => {
  const ts = await startTestServer(t, { adminToken: ADMIN, barragePrice: 5, houseCutPct: 20, chatPerSec: 100, chatBurst: 100 });
  const api = adminApi(ts);
  const admin = (path: string, body?: unknown) => (body === undefined ? api.get(path) : api.post(path, body));
  await admin('/admin/users/1/topup', { orderId: 'b1', amount: 12 });
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'barrage' });
  const viewer = await ts.connect(1);
  const broke = await ts.connect(2);
  await viewer.request('room.enter', { roomId });
  await broke.request('room.enter', { roomId });
  const lines: string[] = [];
  host.on('chat.barrage', (d) => void lines.push(d.text));

  const first = await viewer.request('chat.barrage', { text: 'hello', key: 'line-1' });
  t.match(first, { credits: 7 });
  t.same(await viewer.request('chat.barrage', { text: 'hello', key: 'line-1' }), first, 'a retry: the first reply');
  await t.rejects(viewer.request('chat.barrage', { text: 'other', key: 'line-1' }), { code: 753 });
  await viewer.request('chat.barrage', { text: 'again' });
  await t.rejects(viewer.request('chat.barrage', { text: 'no more' }), { code: 740 }, '2 credits left');
  await t.rejects(broke.request('chat.barrage', { text: 'free?' }), { code: 740 });
  const own = await host.request('chat.barrage', { text: 'from the host' });
  t.equal(own.credits, undefined, 'free for the host');
  await host.request('session.ping', {});
  t.same(lines, ['hello', 'again', 'from the host'], 'each paid line shown once; refused ones not at all');
  t.same(await host.request('wallet.balance', {}), { credits: 8 });
  t.match(await admin('/admin/ledger/audit'), { ok: true, minted: 12, house: 2, users: 10 });
});
