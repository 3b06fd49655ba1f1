import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { NONE, USER, type AdminDeps, type Route } from './admin.js';

/** Admin calls on users and sessions (F11, F12): look up, ban, notices, kick, media authorization. */
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const Kind = Type.Union([Type.Literal('account'), Type.Literal('live')]);
const SessionId = Type.String({ minLength: 1, maxLength: 64 });
const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

const BanBody = Type.Object(
  { kind: Kind, reason: Reason, durationSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86_400 })) },
  { additionalProperties: false },
);
const UnbanBody = Type.Object({ kind: Kind }, { additionalProperties: false });
const NoticeBody = Type.Object({ kind: Type.Union([Type.Literal('warning'), Type.Literal('system')]), text: Reason }, { additionalProperties: false });
const KickBody = Type.Object({ sessionId: SessionId, reason: Type.Optional(Reason) }, { additionalProperties: false });
const MediaBody = Type.Object(
  {
    userId: Id,
    sessionId: SessionId,
    action: Type.Union([Type.Literal('publish'), Type.Literal('play')]),
    roomId: Type.Optional(Id),
    showId: Type.Optional(Id),
  },
  { additionalProperties: false },
);
const checks = {
  ban: TypeCompiler.Compile(BanBody),
  unban: TypeCompiler.Compile(UnbanBody),
  notice: TypeCompiler.Compile(NoticeBody),
  kick: TypeCompiler.Compile(KickBody),
  media: TypeCompiler.Compile(MediaBody),
};

export function mountModerationRoutes(route: Route, deps: AdminDeps): void {
  const { moderation, wallet } = deps;
  route('get', '/admin/users/:id', null, USER, async (userId) => ({ ...moderation.lookup(userId), credits: wallet.credits(userId) }));
  route('post', '/admin/users/:id/ban', checks.ban, USER, async (userId, body) => {
    const { kind, reason, durationSec } = body as Static<typeof BanBody>;
    const ban = await moderation.ban(userId, kind, reason, durationSec);
    return { userId, kind, until: ban.until, at: ban.at };
  });
  route('post', '/admin/users/:id/unban', checks.unban, USER, async (userId, body) => ({
    lifted: await moderation.lift(userId, (body as Static<typeof UnbanBody>).kind),
  }));
  route('post', '/admin/users/:id/notice', checks.notice, USER, async (userId, body) => {
    const { kind, text } = body as Static<typeof NoticeBody>;
    return { delivered: moderation.notice(userId, kind, text) };
  });
  route('post', '/admin/sessions/kick', checks.kick, NONE, async (_id, body) => {
    const { sessionId, reason } = body as Static<typeof KickBody>;
    return { kicked: moderation.kickSession(sessionId, reason ?? 'ended by the platform') };
  });
  route('post', '/admin/media/authorize', checks.media, NONE, async (_id, body) => moderation.authorizeMedia(body as Static<typeof MediaBody>));
}
