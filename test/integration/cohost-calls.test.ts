import t from 'tap';
import type { LiveClient } from '../../src/client/index.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';

function collect<T = Record<string, unknown>>(c: LiveClient, op: string): T[] {
  const seen: T[] = [];
  c.on(op as never, (d: unknown) => void seen.push(d as T));
  return seen;
}

const rules = { callRequestTtlMs: 30_000, callConfirmMs: 6000, callQueueMax: 20 };

/** A host with an open room and viewers in it. */
async function room(ts: TestServer, viewerIds: number[]) {
  const host = await ts.connect(100, 'host');
  const { roomId } = await host.request('room.open', { title: 'co-host' });
  const viewers: LiveClient[] = [];
  for (const id of viewerIds) {
    const v = await ts.connect(id);
    await v.request('room.enter', { roomId });
    viewers.push(v);
  }
  return { host, roomId, viewers };
}

t.test('request → accept → joined → confirm → status pushes to the room → stop', async (t) => {
  const ts = await startTestServer(t, rules);
  const { host, roomId, viewers: [v1, watcher] } = await room(ts, [1, 2]);
  const statuses = collect<{ status: number; userId: number }>(watcher!, 'room.call_status');

  const requested = host.next('call.requested');
  const req = await v1!.request('call.request', {});
  t.match(req, { roomId, viewer: { userId: 1, profile: { nickname: 'user1' } }, from: 'viewer' });
  t.equal(req.expiresAt - req.createdAt, 30_000, 'expires after LIVE_CALL_REQUEST_TTL_MS');
  t.same(await requested, req);
  t.match(await host.request('call.queue', {}), { roomId, queue: [{ viewer: { userId: 1 }, from: 'viewer' }], call: null });

  const joined = [v1!.next('call.joined'), host.next('call.joined')];
  const call = await host.request('call.accept', { userId: 1 });
  t.match(call, { roomId, host: { userId: 100 }, viewer: { userId: 1 }, status: 'joining', connectedAt: null });
  t.equal(call.confirmBy, call.joinedAt + 6000, 'the co-host has LIVE_CALL_CONFIRM_MS to confirm');
  const [j1, jh] = await Promise.all(joined);
  t.same(j1, call);
  t.same(jh, call);
  await waitFor(() => statuses.length === 1, 'status 0 to the room');
  t.same(statuses[0], { roomId, status: 0, userId: 1 });
  t.match(await host.request('call.queue', {}), { queue: [], call: { status: 'joining' } }, 'the request left the queue');

  const late = await ts.connect(3);
  t.match(await late.request('room.enter', { roomId }), { call: { userId: 1, status: 0 } }, 'someone entering finds the call');

  const confirmed = await v1!.request('call.confirm', {});
  t.match(confirmed, { status: 'connected', confirmBy: null });
  await waitFor(() => statuses.length === 2, 'status 1 to the room');
  t.same(statuses[1], { roomId, status: 1, userId: 1 });
  t.match(await v1!.request('call.confirm', {}), { status: 'connected', connectedAt: confirmed.connectedAt }, 'confirming again changes nothing');

  ts.clock.advance(6000);
  t.match(await host.request('call.queue', {}), { call: { status: 'connected' } }, 'a confirmed call outlives the confirm window');
  t.match(await late.request('room.enter', { roomId }), { call: { userId: 1, status: 1 } });
  await t.rejects(host.request('match.start', {}), { code: 739 }, 'a host in a call cannot wait for a match');
  await t.rejects(v1!.request('match.start', {}), { code: 739 }, 'nor can its co-host');

  const ended = [v1!.next('call.ended'), host.next('call.ended')];
  t.same(await v1!.request('call.stop', {}), {});
  const [e1, eh] = await Promise.all(ended);
  t.same(e1, { roomId, viewerId: 1, reason: 'stopped', call: true });
  t.same(eh, e1);
  await waitFor(() => statuses.length === 3, 'status 2 to the room');
  t.same(statuses[2], { roomId, status: 2, userId: 1 });
  t.match(await host.request('call.queue', {}), { queue: [], call: null });
  t.match(await late.request('room.enter', { roomId }), { call: null });
  await t.rejects(host.request('call.stop', {}), { code: 784 }, 'no call any more');
});

t.test('the host invites: decline, cancel, accept; an invitation to a viewer who asked accepts their request', async (t) => {
  const ts = await startTestServer(t, rules);
  const { host, roomId, viewers: [v1, v2] } = await room(ts, [1, 2]);

  const invited = v1!.next('call.invited');
  const inv = await host.request('call.invite', { userId: 1 });
  t.match(inv, { roomId, viewer: { userId: 1 }, from: 'host' });
  t.same(await invited, inv);
  await t.rejects(host.request('call.invite', { userId: 1 }), { code: 781 }, 'one pending per viewer');
  await t.rejects(v1!.request('call.request', {}), { code: 781 }, 'in either direction');
  await t.rejects(host.request('call.accept', { userId: 1 }), { code: 780 }, 'the host cannot accept its own invitation');
  await t.rejects(v1!.request('call.cancel', {}), { code: 780 }, 'the viewer cannot withdraw the host\'s invitation');

  const declined = [host.next('call.ended'), v1!.next('call.ended')];
  t.same(await v1!.request('call.decline', {}), {});
  for (const e of await Promise.all(declined)) t.same(e, { roomId, viewerId: 1, reason: 'declined', call: false });

  await host.request('call.invite', { userId: 1 });
  const cancelled = v1!.next('call.ended');
  t.same(await host.request('call.cancel', { userId: 1 }), {});
  t.same(await cancelled, { roomId, viewerId: 1, reason: 'cancelled', call: false });
  t.match(await host.request('call.queue', {}), { queue: [] });

  await host.request('call.invite', { userId: 1 });
  const joined = host.next('call.joined');
  t.match(await v1!.request('call.accept', {}), { viewer: { userId: 1 }, status: 'joining' });
  t.match(await joined, { viewer: { userId: 1 } });
  const stopped = v1!.next('call.ended');
  await host.request('call.stop', {});
  t.match(await stopped, { reason: 'stopped', call: true });

  await v2!.request('call.request', {});
  const viaInvite = await host.request('call.invite', { userId: 2 });
  t.match(viaInvite, { viewer: { userId: 2 }, status: 'joining' }, 'the viewer had asked: the invitation is an accept');
  t.match(await host.request('call.queue', {}), { queue: [], call: { viewer: { userId: 2 } } });
});

t.test('a request expires after 30 s; an unconfirmed call ends after 6 s', async (t) => {
  const ts = await startTestServer(t, rules);
  const { host, roomId, viewers: [v1, v2] } = await room(ts, [1, 2]);

  const req = await v1!.request('call.request', {});
  ts.clock.advance(29_999);
  t.match(await host.request('call.queue', {}), { queue: [{ viewer: { userId: 1 } }] }, 'still pending a millisecond before');
  const expired = [v1!.next('call.ended'), host.next('call.ended')];
  ts.clock.advance(1);
  for (const e of await Promise.all(expired)) t.same(e, { roomId, viewerId: 1, reason: 'expired', call: false });
  t.match(await host.request('call.queue', {}), { queue: [] });
  await t.rejects(host.request('call.accept', { userId: 1 }), { code: 780 }, 'an expired request cannot be accepted');
  t.ok(req.expiresAt <= ts.clock.now());

  const statuses = collect<{ status: number }>(v2!, 'room.call_status');
  await v2!.request('call.request', {});
  const call = await host.request('call.accept', { userId: 2 });
  await waitFor(() => statuses.length === 1, 'status 0');
  ts.clock.advance(5999);
  t.match(await host.request('call.queue', {}), { call: { status: 'joining' } }, 'not before its time');
  const ended = [v2!.next('call.ended'), host.next('call.ended')];
  ts.clock.advance(1);
  for (const e of await Promise.all(ended)) t.same(e, { roomId, viewerId: 2, reason: 'not_confirmed', call: true });
  await waitFor(() => statuses.length === 2, 'status 2');
  t.same(statuses.map((s) => s.status), [0, 2]);
  await t.rejects(v2!.request('call.confirm', {}), { code: 784 }, 'too late to confirm');
  t.equal(call.confirmBy, call.joinedAt + 6000);
});

t.test('leaving the room, being kicked and the room closing end requests and calls', async (t) => {
  const ts = await startTestServer(t, rules);
  const { host, roomId, viewers: [v1, v2, v3] } = await room(ts, [1, 2, 3]);

  await v1!.request('call.request', {});
  const left = host.next('call.ended');
  await v1!.request('room.leave', {});
  t.same(await left, { roomId, viewerId: 1, reason: 'left', call: false });

  await v2!.request('call.request', {});
  await host.request('call.accept', { userId: 2 });
  const kicked = v2!.next('call.ended');
  await host.request('room.kick', { userId: 2 });
  t.same(await kicked, { roomId, viewerId: 2, reason: 'left', call: true });

  await v1!.request('room.enter', { roomId });
  await v1!.request('call.request', {});
  await host.request('call.accept', { userId: 1 });
  await v3!.request('call.request', {});
  const closed = [v1!.next('call.ended'), v3!.next('call.ended')];
  await host.request('room.close', {});
  const [c1, c3] = await Promise.all(closed);
  t.same(c1, { roomId, viewerId: 1, reason: 'room_closed', call: true });
  t.same(c3, { roomId, viewerId: 3, reason: 'room_closed', call: false });
  // The call is over for the match service too.
  t.same(await v1!.request('match.start', {}), { waiting: true });
});

t.test('wrong roles, bad input and other users\' ids are refused and change nothing', async (t) => {
  const ts = await startTestServer(t, rules);
  const { host, roomId, viewers: [v1, v2, muted] } = await room(ts, [1, 2, 4]);
  const outsider = await ts.connect(3);
  const otherHost = await ts.connect(101, 'host');
  await otherHost.request('room.enter', { roomId });

  await t.rejects(v1!.request('call.invite' as never, { userId: 2 } as never), { code: 711 }, 'viewers do not invite');
  await t.rejects(host.request('call.request' as never, {} as never), { code: 711 }, 'hosts do not request');
  await t.rejects(v1!.request('call.queue' as never, {} as never), { code: 711 });
  await t.rejects(outsider.request('call.request', {}), { code: 39 }, 'not in a room');
  await t.rejects(otherHost.request('call.queue', {}), { code: 731 }, 'a host without a room of its own');
  await t.rejects(host.request('call.invite', { userId: 3 }), { code: 39 }, 'invite someone not in the room');
  await t.rejects(host.request('call.invite', { userId: 101 }), { code: 700 }, 'a host is not a co-host');
  await t.rejects(host.request('call.invite', { userId: 0 } as never), { code: 700 }, 'schema');
  await t.rejects(host.request('call.accept', {}), { code: 700 }, 'the host names the viewer');
  await t.rejects(v1!.request('call.accept', { userId: 2 }), { code: 700 }, 'a viewer names nobody else');
  await t.rejects(v1!.request('call.request', { extra: 1 } as never), { code: 700 });

  await v1!.request('call.request', {});
  await t.rejects(v1!.request('call.request', {}), { code: 781 }, 'one pending request per viewer');
  await t.rejects(v2!.request('call.accept', {}), { code: 780 }, 'nothing to accept');
  await t.rejects(v2!.request('call.cancel', {}), { code: 780 }, 'nothing to withdraw');
  await t.rejects(v1!.request('call.accept', {}), { code: 780 }, 'the asker cannot accept its own request');
  await t.rejects(host.request('call.cancel', { userId: 1 }), { code: 780 }, 'the host cannot withdraw a viewer\'s request');
  await t.rejects(host.request('call.accept', { userId: 2 }), { code: 780 }, 'no request of that viewer');
  await t.rejects(v1!.request('call.confirm', {}), { code: 784 }, 'not in a call');
  await t.rejects(v1!.request('call.stop', {}), { code: 784 });
  await host.request('room.mute', { userId: 4, muted: true });
  await t.rejects(muted!.request('call.request', {}), { code: 722 }, 'muted viewers cannot ask');
  t.match(await host.request('call.queue', {}), { queue: [{ viewer: { userId: 1 } }], call: null }, 'the refusals changed nothing');

  await v2!.request('call.request', {});
  await host.request('call.accept', { userId: 1 });
  await t.rejects(host.request('call.accept', { userId: 2 }), { code: 782 }, 'one call at a time');
  await t.rejects(v1!.request('call.request', {}), { code: 782 }, 'already the co-host');
  await t.rejects(v2!.request('call.confirm', {}), { code: 784 }, 'only the co-host confirms');
  await t.rejects(v2!.request('call.stop', {}), { code: 784 }, 'only the parties stop it');
  t.match(await host.request('call.queue', {}), { queue: [{ viewer: { userId: 2 } }], call: { viewer: { userId: 1 }, status: 'joining' } });
});

t.test('queue limit (LIVE_CALL_QUEUE_MAX)', async (t) => {
  const ts = await startTestServer(t, { ...rules, callQueueMax: 2 });
  const { host, viewers: [v1, , v3] } = await room(ts, [1, 2, 3]);
  await v1!.request('call.request', {});
  await host.request('call.invite', { userId: 2 });
  await t.rejects(v3!.request('call.request', {}), { code: 783 }, 'requests and invitations count together');
  await t.rejects(host.request('call.invite', { userId: 3 }), { code: 783 });
  await host.request('call.decline', { userId: 1 });
  t.match(await v3!.request('call.request', {}), { viewer: { userId: 3 } }, 'room again once one is answered');
  t.equal((await host.request('call.queue', {})).queue.length, 2);
});
