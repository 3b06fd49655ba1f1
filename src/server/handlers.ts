import type { Directory } from '../actors/directory.js';
import type { PresenceMsg, PresenceState } from '../actors/presence.js';
import type { Singleton } from '../actors/singleton.js';
import type { UserMsg, UserState } from '../actors/user.js';
import type { Clock } from '../clock.js';
import type { ReplyOf, RequestOf } from '../protocol/define.js';
import type { OpName, Ops } from '../protocol/ops/index.js';
import type { Session } from './sessions.js';

/** Who is asking: the session the request arrived on. */
export interface RequestContext {
  session: Session;
  requestId: number;
}

export interface HandlerDeps {
  clock: Clock;
  users: Directory<UserState, UserMsg>;
  presence: Singleton<PresenceState, PresenceMsg>;
}

export type OpHandler<K extends OpName> = (ctx: RequestContext, d: RequestOf<Ops[K]>) => Promise<ReplyOf<Ops[K]>>;
export type Handlers = { [K in OpName]: OpHandler<K> };

/** Request ops → actor messages. Validation and role checks happened at the edge. */
export function createHandlers(deps: HandlerDeps): Handlers {
  const { clock, users, presence } = deps;
  return {
    'session.ping': async () => ({ now: clock.now() }),
    'session.whoami': async ({ session }) => {
      const user = await users.ask<UserState>(session.userId, { t: 'get' });
      return {
        userId: session.userId,
        role: session.role,
        profile: session.profile,
        sessionId: session.id,
        latestSessionId: user.latestSessionId,
        logins: user.logins,
      };
    },
    'presence.query': (_ctx, d) => presence.ask({ t: 'query', userIds: d.userIds }),
    'presence.subscribe': ({ session }, d) => presence.ask({ t: 'subscribe', subscriber: session.userId, userIds: d.userIds }),
    'presence.unsubscribe': ({ session }, d) => presence.ask({ t: 'unsubscribe', subscriber: session.userId, userIds: d.userIds }),
  };
}
