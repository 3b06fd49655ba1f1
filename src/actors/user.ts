import type { Role } from '../protocol/define.js';
import type { Profile } from '../protocol/schemas.js';
import type { UserRecord } from '../storage/users.js';
import { ok, type Step } from './effects.js';
import type { ActorDef, Journaled } from './shell.js';

/**
 * Users were actors with journals in earlier builds; they are rows now
 * (src/storage/users.ts). What is left here rebuilds such a journal once, at
 * the first start of a newer build, so its users can become rows.
 */

/** What an earlier build remembered of a user across restarts. */
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

/** Where an earlier build's user journal is read from (the journal engine). */
export interface UserJournal {
  latestSnapshot(key: string): Promise<{ data: unknown; sequenceNumber: number } | undefined>;
  events(key: string, offset: number): Array<{ data: unknown; isDeleted?: boolean }>;
}

/** The user `key` (`user:<id>`) as its snapshot and journal tell it; undefined if they never logged in. */
export async function recoverUser(journal: UserJournal, key: string): Promise<UserRecord | undefined> {
  const snapshot = await journal.latestSnapshot(key);
  let state = (snapshot?.data as UserState | undefined) ?? initialUserState(key.slice('user:'.length));
  for (const e of journal.events(key, snapshot?.sequenceNumber ?? 0)) {
    // As nact's own recovery does.
    if (e.isDeleted) continue;
    const { m, at } = e.data as Journaled<UserMsg>;
    state = reduceUser(state, m, at).state;
  }
  if (state.role === null || state.latestSessionId === null) return undefined;
  return {
    userId: state.userId,
    role: state.role,
    profile: state.profile,
    latestSessionId: state.latestSessionId,
    logins: state.logins,
    firstLoginAt: state.firstLoginAt ?? state.lastLoginAt ?? 0,
    lastLoginAt: state.lastLoginAt ?? 0,
    lastSeenAt: state.lastSeenAt,
    // Snapshots of earlier builds may lack the fields.
    invitesSeen: state.invitesSeen ?? 0,
    bookingsSeen: state.bookingsSeen ?? 0,
  };
}
