import t from 'tap';
import { PRUNE_BATCH, PRUNE_EVERY_MS } from '../../src/server/outbox-pruner.js';
import { startTestServer, waitFor } from '../helpers/server.js';

t.test('delivered outbox items are deleted LIVE_PUSH_KEEP_DELIVERED_MS after delivery, every hour, in batches; dead and pending ones are kept', async (t) => {
  const keep = 2 * PRUNE_EVERY_MS;
  const ts = await startTestServer(t, { pushKeepDeliveredMs: keep });
  const db = ts.server.internals.db;
  const now = ts.clock.now();
  const insert = db.prepare('INSERT INTO outbox (user_id, kind, payload, created_at, status, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const old = PRUNE_BATCH * 2 + 7; // more than one commit's worth
  db.transaction(() => {
    for (let i = 0; i < old; i++) insert.run(1, 'room.live_started', '{}', now - 3_600_000, 'delivered', now - 2 * keep);
    insert.run(2, 'message.new', '{}', now, 'delivered', now - 1000);
    insert.run(3, 'message.new', '{}', now - 3_600_000, 'dead', now - 2 * keep);
    insert.run(4, 'message.new', '{}', now - 3_600_000, 'pending', now - 2 * keep);
  })();
  const count = (status: string) => db.prepare('SELECT count(*) FROM outbox WHERE status = ?').pluck().get(status) as number;
  t.equal(count('delivered'), old + 1);

  ts.clock.advance(PRUNE_EVERY_MS - 1);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(count('delivered'), old + 1, 'nothing before the hour');
  ts.clock.advance(1);
  await waitFor(() => count('delivered') === 1, 'the old delivered items to go');
  t.equal(count('dead'), 1, 'dead items are kept');
  t.equal(count('pending'), 1, 'pending items are kept');
  await waitFor(() => ts.logs.some((l) => l.msg === 'delivered outbox items deleted' && l.deleted === old), 'the log line');

  ts.clock.advance(PRUNE_EVERY_MS);
  await waitFor(() => count('delivered') === 0, 'the next round deletes the one delivered two hours ago');
  const plan = (db.prepare("EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE status = 'delivered' AND updated_at < ? ORDER BY updated_at LIMIT ?").all(1, 1) as Array<{ detail: string }>).map((r) => r.detail);
  t.ok(plan.some((d) => /USING (COVERING )?INDEX outbox_delivered/.test(d)), `found through its index: ${plan.join(' | ')}`);
});
