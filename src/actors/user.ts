import type { Role } from '../protocol/define.js';
import type { Profile } from '../protocol/schemas.js';
import { ok, type Step } from './effects.js';
import type { ActorDef } from './shell.js';

/** What the server remembers of a user across restarts. */
export interface UserState {
  userId: number;
  role: Role | null;
  profile: Profile;
  /** Latest socket session id (F12): the media service and kicks refer to it. */
  latestSessionId: string | null;
  logins: number;
  firstLoginAt: number | null;
  lastLoginAt: number | null;
  lastSeenAt: number | null;
  /** Received invitations / bookings with ids up to these were listed (the unread counts). */
  invitesSeen: number;
  bookingsSeen: number;
}

export type UserMsg =
  | { t: 'login'; sessionId: string; role: Role; profile: Profile }
  | { t: 'logout'; sessionId: string }
  | { t: 'seen'; list: 'invitesSeen' | 'bookingsSeen'; upto: number }
  | { t: 'get' };

export interface LoginResult {
  previousSessionId: string | null;
}

export const EMPTY_PROFILE: Profile = { nickname: '', avatar: '', gender: '', level: 0 };

export function initialUserState(id: string): UserState {
  return {
    userId: Number(id),
    role: null,
    profile: EMPTY_PROFILE,
    latestSessionId: null,
    logins: 0,
    firstLoginAt: null,
    lastLoginAt: null,
    lastSeenAt: null,
    invitesSeen: 0,
    bookingsSeen: 0,
  };
}

export function reduceUser(state: UserState, msg: UserMsg, now: number): Step<UserState> {
  switch (msg.t) {
    case 'login': {
      const result: LoginResult = { previousSessionId: state.latestSessionId };
      return {
        state: {
          ...state,
          role: msg.role,
          profile: msg.profile,
          latestSessionId: msg.sessionId,
          logins: state.logins + 1,
          firstLoginAt: state.firstLoginAt ?? now,
          lastLoginAt: now,
        },
        effects: [ok(result)],
      };
    }
    case 'logout':
      // A late logout of a replaced session must not touch the newer one.
      if (msg.sessionId !== state.latestSessionId) return { state, effects: [ok()] };
      return { state: { ...state, lastSeenAt: now }, effects: [ok()] };
    case 'seen':
      // Snapshots of earlier builds lack the fields.
      if (msg.upto <= (state[msg.list] ?? 0)) return { state, effects: [ok()] };
      return { state: { ...state, [msg.list]: msg.upto }, effects: [ok()] };
    case 'get':
      return { state, effects: [ok(state)] };
  }
}

export const userActor: ActorDef<UserState, UserMsg> = {
  kind: 'user',
  initialState: initialUserState,
  reduce: reduceUser,
};
