import type { Static } from '@sinclair/typebox';
import { ADMIN_CALLS, type BanBody, type KickBody, type MediaBody, type MediaSwitchBody, type UnbanBody, type UserNotice } from '../protocol/admin-api.js';
import { ProtocolError } from '../protocol/errors.js';
import { NONE, ROOM, USER, type AdminDeps, type Route } from './admin.js';

/** Admin calls on users and sessions (F11, F12): look up, ban, notices, kick, media authorization. */
export function mountModerationRoutes(route: Route, deps: AdminDeps): void {
  const { moderation, wallet } = deps;
  route(ADMIN_CALLS.user, USER, async (userId) => ({ ...moderation.lookup(userId), credits: wallet.credits(userId) }));
  route(ADMIN_CALLS.ban, USER, async (userId, body) => {
    const { kind, reason, durationSec } = body as Static<typeof BanBody>;
    const ban = await moderation.ban(userId, kind, reason, durationSec);
    return { userId, kind, until: ban.until, at: ban.at };
  });
  route(ADMIN_CALLS.unban, USER, async (userId, body) => ({ lifted: await moderation.lift(userId, (body as Static<typeof UnbanBody>).kind) }));
  route(ADMIN_CALLS.userNotice, USER, async (userId, body) => {
    const { kind, text } = body as Static<typeof UserNotice>;
    return { delivered: moderation.notice(userId, kind, text) };
  });
  route(ADMIN_CALLS.kick, NONE, async (_id, body) => {
    const { sessionId, reason } = body as Static<typeof KickBody>;
    return { kicked: moderation.kickSession(sessionId, reason ?? 'ended by the platform') };
  });
  route(ADMIN_CALLS.media, NONE, async (_id, body) => moderation.authorizeMedia(body as Static<typeof MediaBody>));
  // 7.50: another media server, for a room (its members play, its host publishes) or for one user.
  const urls = (body: unknown) => {
    const { publishUrl = null, playUrl = null, reason = '' } = body as Static<typeof MediaSwitchBody>;
    if (publishUrl === null && playUrl === null) throw new ProtocolError('BAD_PARAMETER', '/: publishUrl or playUrl, or both');
    return { publishUrl, playUrl, reason };
  };
  route(ADMIN_CALLS.roomMediaSwitch, ROOM, (roomId, body) => deps.rooms.ask(roomId, { t: 'media-switch', ...urls(body) }));
  route(ADMIN_CALLS.userMediaSwitch, USER, async (userId, body) => ({ delivered: moderation.mediaSwitch(userId, urls(body)) }));
}
