import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, SafeInt, UserId } from '../schemas.js';

const MatchId = SafeInt({ minimum: 1, description: 'match id' });
const Peer = Type.Object({ userId: UserId, profile: Profile });
const ByMatch = Type.Object({ matchId: MatchId }, { additionalProperties: false });

export const matchOps = {
  'match.start': defineOp({
    summary:
      'Wait to be matched with a random user of the other role (a host with a viewer), first come first matched. When matched, both get match.found and ' +
      'have LIVE_MATCH_ACCEPT_MS (default 15 s) to accept. Starting again while waiting changes nothing. Refused while you are in a private show or a ' +
      'co-host call (739), or have a match to answer (786). Waiting ends with match.stop, when your session ends for good, or (match.ended, reason "busy") ' +
      'when you go into a private show or a co-host call.',
    seed: '002 match-chat',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Type.Object({ waiting: Type.Literal(true) }),
    errors: ['USER_BUSY', 'MATCH_PENDING'],
    pushes: ['match.found'],
  }),
  'match.stop': defineOp({
    summary:
      'Stop waiting (002 stop-match-chat). With a match to answer, this declines it. Stopping when not waiting changes nothing.',
    seed: '002 stop-match-chat',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Empty,
    errors: [],
    pushes: ['match.ended', 'match.found'],
  }),
  'match.accept': defineOp({
    summary:
      'Accept your match. The other side gets match.accepted; once both accepted, both get match.connected with each other\'s id and stop waiting. ' +
      'The server starts nothing more: the app goes on with an instant private show (invite.send), a private message or whatever it offers.',
    seed: '002 match-chat, due-chat',
    roles: ['viewer', 'host'],
    request: ByMatch,
    reply: Type.Object({ connected: Type.Boolean({ description: 'true: the other side had accepted already (match.connected follows)' }) }),
    errors: ['MATCH_NOT_FOUND'],
    pushes: ['match.accepted', 'match.connected'],
  }),
  'match.decline': defineOp({
    summary: 'Decline your match: you stop waiting, the other side goes back to the front of the queue (match.ended to both).',
    seed: '002 match-chat',
    roles: ['viewer', 'host'],
    request: ByMatch,
    reply: Empty,
    errors: ['MATCH_NOT_FOUND'],
    pushes: ['match.ended', 'match.found'],
  }),
} as const;

export const matchPushes = {
  'match.found': definePush({
    summary: 'You were matched: accept (match.accept) or decline before `expiresAt`.',
    seed: '002 match-chat expireTime',
    stream: 'session',
    data: Type.Object({ matchId: MatchId, peer: Peer, expiresAt: Millis }),
  }),
  'match.accepted': definePush({
    summary: 'The other side of your match accepted it.',
    seed: '002 due-chat',
    stream: 'session',
    data: Type.Object({ matchId: MatchId, userId: UserId }),
  }),
  'match.connected': definePush({
    summary: 'Both accepted: here is who you were matched with. You are no longer waiting.',
    seed: '002 due-chat',
    stream: 'session',
    data: Type.Object({ matchId: MatchId, peer: Peer }),
  }),
  'match.ended': definePush({
    summary:
      'Your match ended without both accepting, to both sides: "declined" (one side declined or stopped), "expired" (the accept window passed), ' +
      '"left" (one side\'s session ended), "busy" (one side went into a private show or a co-host call; `matchId` null when you were only waiting). ' +
      '`waiting`: whether you are waiting again, at the front of the queue. The side that declined, stopped, left or went busy stops waiting and the other ' +
      'waits again; on expiry a side that had accepted waits again and a side that had not stops waiting.',
    seed: '002 match-chat',
    stream: 'session',
    data: Type.Object({
      matchId: Type.Union([MatchId, Type.Null()]),
      reason: Type.Union([Type.Literal('declined'), Type.Literal('expired'), Type.Literal('left'), Type.Literal('busy')]),
      waiting: Type.Boolean(),
    }),
  }),
} as const;
