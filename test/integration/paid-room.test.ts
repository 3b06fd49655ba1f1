import t from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { ADMIN_TOKEN as ADMIN, adminApi } from '../helpers/admin.js';
import { startTestServer, until } from '../helpers/server.js';

const MINUTE = 60_000;

t.test('a paid room: the first minute on entering, one per started minute, put out when a minute cannot be paid; leaving stops it', async (t) => {
  const ts = await startTestServer(t, { adminToken: ADMIN, houseCutPct: 30, rebatePct: 0, lowCreditMinutes: 2, ratePerSec: 100_000, rateBurst: 100_000 });
  const api = adminApi(ts);
  const admin = (path: string, body?: unknown) => (body === undefined ? api.get(path) : api.post(path, body));
  await admin('/admin/users/1/topup', { orderId: 'a', amount: 25 });
  await admin('/admin/users/2/topup', { orderId: 'b', amount: 100 });
  const host = await ts.connect(100, 'host');
  const opened = await host.request('room.open', { title: 'paid', pricePerMinute: 10 });
  t.equal(opened.pricePerMinute, 10);
  const roomId = opened.roomId;
  const poor = await ts.connect(3);
  await t.rejects(poor.request('room.enter', { roomId }), { code: 740 }, 'cannot pay the first minute');

  const viewer = await ts.connect(1);
  const other = await ts.connect(2);
  const credits = (c: LiveClient) => c.request('wallet.balance', {}).then((r) => r.credits);
  const balanceIs = (c: LiveClient, want: number, what: string) => until(() => credits(c), (n) => n === want, what);
  const listed = (userId: number) =>
    until(() => host.request('room.viewers', { roomId, page: 1, pageSize: 50 }), (r) => r.viewers.some((v: { userId: number }) => v.userId === userId), `user ${userId} listed`);

  ts.clock.advance(5_000);
  t.match(await viewer.request('room.enter', { roomId }), { pricePerMinute: 10 });
  await balanceIs(viewer, 15, 'minute 1 on entering');
  await listed(1);
  ts.clock.advance(30_000);
  await other.request('room.enter', { roomId });
  await balanceIs(other, 90, 'the other viewer pays from their own entry');
  await balanceIs(host, 14, 'the host earned two minutes');

  // The room takes the ledger's answers in its mailbox order (the next minutes are armed from them): an ask behind them
  // returns once they are handled. Then on to viewer 1's second minute.
  await host.request('room.viewers', { roomId, page: 1, pageSize: 1 });
  const low = viewer.next('wallet.low');
  ts.clock.advance(30_000);
  await balanceIs(viewer, 5, 'minute 2 of viewer 1 (entered at +5 s)');
  t.match(await low, { roomId, showId: null, credits: 5, pricePerMinute: 10, minutesLeft: 0, topUp: 15 });
  t.equal(await credits(other), 90, 'viewer 2 is mid-minute');

  const out = viewer.next('room.kicked');
  const left = host.next('room.user_left');
  ts.clock.advance(MINUTE);
  t.match(await out, { roomId, reason: 'no_credit' });
  ts.clock.advance(250); // departures reach the room coalesced (LIVE_ROOM_MEMBERS_FLUSH_MS)
  t.match(await left, { users: [{ userId: 1, reason: 'kicked' }] });
  await balanceIs(other, 80, 'viewer 2 minute 2');
  t.equal(await credits(viewer), 5, 'the unpaid minute took nothing');
  await t.rejects(viewer.request('chat.send', { text: 'hi' }), { code: 39 }, 'out of the room');

  await other.request('room.leave', {});
  ts.clock.advance(10 * MINUTE);
  await host.request('session.ping', {});
  t.equal(await credits(other), 80, 'leaving stops the billing');
  t.equal(await credits(host), 28);
  t.match(await admin('/admin/ledger/audit'), { ok: true, minted: 125, users: 113, house: 12 });
  const ended = host.next('room.ended');
  await host.request('room.close', {});
  t.match(await ended, { roomId, totals: { gifts: 0, credits: 40 } }, 'the paid minutes count in the totals');
});
