import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LiveClient } from '../../src/client/index.js';
import { exited, spawnServer } from '../helpers/child.js';
import { mint, waitFor } from '../helpers/server.js';

t.test('kill -9 during a closing countdown: after restart the room is still closing and ends on time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'live-room-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1_800_000_000_000;
  // Tokens count from the servers' (fake) time, not from the machine's.
  const token = (userId: number, role: 'host' | 'viewer' = 'viewer') => mint(userId, role, { issuedAt: T0 / 1000 });
  const env = { LIVE_DB_PATH: join(dir, 'live.db'), LIVE_ROOM_COUNTDOWN_TICK_MS: '1000', LIVE_ROOM_HOST_GRACE_MS: '600000' };

  const first = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0) });
  t.teardown(() => void first.child.kill('SIGKILL'));
  const host = await LiveClient.connect(first.url, { token: token(100, 'host') });
  const viewer = await LiveClient.connect(first.url, { token: token(1) });
  const { roomId } = await host.request('room.open', { title: 'closing soon' });
  await viewer.request('room.enter', { roomId });
  await viewer.request('room.like', { count: 5 });
  await first.advance(250); // likes flushed into the room
  const ticks: number[] = [];
  viewer.on('room.countdown', (d) => ticks.push(d.secondsLeft));
  await host.request('room.close', { countdownSec: 10 });
  await waitFor(() => ticks.length === 1, 'the first countdown push');
  for (let n = 2; n <= 4; n++) {
    // Each tick arms the next once the room has handled it: step the clock a tick at a time.
    await first.advance(1000);
    await waitFor(() => ticks.length === n, `countdown push ${n}`);
  }
  t.same(ticks, [10, 9, 8, 7]);

  first.child.kill('SIGKILL');
  await exited(first.child);

  // Two seconds of downtime: the countdown keeps its deadline, T0 + 250 + 10 s.
  const second = await spawnServer({ ...env, LIVE_TEST_CLOCK_START: String(T0 + 250 + 5000) });
  t.teardown(() => void second.child.kill('SIGKILL'));
  const host2 = await LiveClient.connect(second.url, { token: token(100, 'host') });
  const viewer2 = await LiveClient.connect(second.url, { token: token(1) });
  const view = await viewer2.request('room.enter', { roomId });
  t.match(view, { status: 'closing', closesAt: T0 + 250 + 10_000, likes: 5 }, 'recovered: still closing, same deadline, likes kept');
  const ended = viewer2.next('room.ended');
  const hostEnded = host2.next('room.ended');
  await second.advance(4999);
  t.match(await viewer2.request('room.enter', { roomId }), { status: 'closing' }, 'not before its time');
  await second.advance(1);
  const end = await ended;
  t.match(end, { roomId, reason: 'countdown', totals: { likes: 5, totalViewers: 1, peakViewers: 1 } });
  t.equal(end.totals.durationSec, 10, 'opened at T0, closed at T0 + 10.25 s');
  t.match(await hostEnded, { roomId }, 'the host, back on its room after the restart, hears the end too');
  await t.rejects(viewer2.request('room.enter', { roomId }), { code: 731 });
  second.child.kill('SIGTERM');
  t.match(await exited(second.child), { code: 0 });
});
