import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { ADMIN_TOKEN, adminApi } from '../helpers/admin.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint } from '../helpers/server.js';

t.test('kill -9: the vehicle in use, the catalog and the grants survive; the entrance vehicle shows after the restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-vehicles-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  const token = (userId: number, role: 'host' | 'viewer' = 'viewer') => mint(userId, role, { issuedAt: T0 / 1000 });
  const env = { LIVE_DB_PATH: join(dir, 'live.db'), LIVE_TEST_CLOCK_START: String(T0), LIVE_ADMIN_TOKEN: ADMIN_TOKEN };
  const http = (port: number) => adminApi({ http: `http://127.0.0.1:${port}` }).call;

  const first = await spawnServer(env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  const admin = http(first.port);
  await admin('PUT', '/admin/vehicles/7', { name: 'Dragon', image: 'd.png', animation: 'd.svga' });
  await admin('POST', '/admin/users/1/backpack', { key: 'dragon-1', vehicleId: 7, count: 1, reason: 'event' });
  const viewer = await LiveClient.connect(first.url, { token: token(1) });
  const dragon = { vehicleId: 7, name: 'Dragon', image: 'd.png', animation: 'd.svga' };
  t.same(await viewer.request('vehicle.use', { vehicleId: 7 }), { inUse: dragon }, 'acked: stored');

  first.child.kill('SIGKILL');
  await exited(first.child);

  const second = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0 + 60_000) });
  t.teardown(() => void second.child.kill('SIGKILL'));
  const [host, viewer2] = await Promise.all([
    LiveClient.connect(second.url, { token: token(100, 'host') }),
    LiveClient.connect(second.url, { token: token(1) }),
  ]);
  t.teardown(() => void host.drop().catch(() => {}));
  t.teardown(() => void viewer2.drop().catch(() => {}));
  t.same(await viewer2.request('backpack.vehicles', {}), { vehicles: [{ vehicle: dragon, count: 1 }], inUse: 7 });
  const { roomId } = await host.request('room.open', { title: 'after' });
  const entered = host.next('room.user_entered');
  await viewer2.request('room.enter', { roomId });
  await second.advance(1000);
  t.match(await entered, { roomId, users: [{ userId: 1, vehicle: dragon }] });
  t.match((await http(second.port)('GET', '/admin/ledger/audit')).body, { ok: true, items: 1 });
  second.child.kill('SIGTERM');
  t.match(await exited(second.child), { code: 0 });
});
