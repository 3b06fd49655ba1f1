import t from 'tap';
import { startTestServer } from '../helpers/server.js';

// Regression: with the upgrade completed after an await, this uWS build closed
// a share of fresh connections right after open (1006 before the welcome).
t.test('300 fresh users in a row, each closing before the next, all get their welcome', async (t) => {
  const ts = await startTestServer(t, { logLevel: 'warn' });
  const failures: string[] = [];
  for (let i = 0; i < 300; i++) {
    try {
      const c = await ts.connect(10_000 + i);
      await c.close();
    } catch (err) {
      failures.push(`user ${10_000 + i}: ${(err as Error).message}`);
    }
  }
  t.same(failures, []);
  await t.resolveMatch(ts.connect(10_000).then((c) => c.request('session.whoami', {})), { logins: 2 });
});
