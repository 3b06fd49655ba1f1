import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Empty, Millis, Profile, UserId } from '../schemas.js';
import { RoomId } from './room.js';

const Party = Type.Object({ userId: UserId, profile: Profile });

/** A pending co-host request (a viewer asked, 002 call-request) or invitation (the host asked, conference-notify). */
export const CallRequest = Type.Object({
  roomId: RoomId,
  viewer: Party,
  from: Type.Union([Type.Literal('viewer'), Type.Literal('host')], { description: 'who asked: the viewer (call.request) or the host (call.invite)' }),
  createdAt: Millis,
  expiresAt: Millis,
});

/** The co-host call of a room (002 join-conference … stop-conference). */
export const CallView = Type.Object({
  roomId: RoomId,
  host: Party,
  viewer: Party,
  status: Type.Union([Type.Literal('joining'), Type.Literal('connected')], {
    description: 'joining: both were told to join (call.joined), the co-host has not confirmed its stream yet; connected: it has (call.confirm)',
  }),
  joinedAt: Millis,
  confirmBy: Type.Union([Millis, Type.Null()], { description: 'while joining: the call ends as not_confirmed at this time' }),
  connectedAt: Type.Union([Millis, Type.Null()]),
});

const Other = Type.Object(
  { userId: Type.Optional(UserId) },
  { additionalProperties: false, description: 'the host names the viewer (required); a viewer leaves it out (it may only be their own id)' },
);

const CALL_RULES =
  'One co-host call per room at a time. A room holds at most LIVE_CALL_QUEUE_MAX pending requests and invitations (default 20), one per viewer; ' +
  'a pending one expires after LIVE_CALL_REQUEST_TTL_MS (default 30 s) and both sides get call.ended (reason "expired").';

export const callOps = {
  'call.request': defineOp({
    summary:
      'Viewer: ask the host of the room you are in to join them on camera (连麦). The host gets call.requested. ' + CALL_RULES +
      ' Refused when you are muted (722), in a private show (739), already asked or invited (781) or already the co-host (782).',
    seed: '002 call-request',
    roles: ['viewer'],
    request: Empty,
    reply: CallRequest,
    errors: ['NOT_IN_ROOM', 'INVALID_ROOM', 'MUTED', 'USER_BUSY', 'CALL_PENDING', 'CALL_IN_PROGRESS', 'CALL_QUEUE_FULL'],
    pushes: ['call.requested'],
  }),
  'call.invite': defineOp({
    summary:
      'Host: invite a viewer of your room to join you on camera (002 conference-notify); the viewer gets call.invited. ' + CALL_RULES +
      ' If that viewer has asked already (call.request), this accepts their request instead: the reply is then the call (with `status`), as for call.accept.',
    seed: '002 call-request (host side), conference-notify',
    roles: ['host'],
    request: Type.Object({ userId: UserId }, { additionalProperties: false }),
    reply: Type.Union([CallRequest, CallView]),
    errors: ['INVALID_ROOM', 'NOT_IN_ROOM', 'BAD_PARAMETER', 'USER_BUSY', 'CALL_PENDING', 'CALL_IN_PROGRESS', 'CALL_QUEUE_FULL', 'CALL_NOT_FOUND'],
    pushes: ['call.invited', 'call.joined', 'room.call_status'],
  }),
  'call.accept': defineOp({
    summary:
      'Accept a pending request (the host, naming the viewer) or invitation (the viewer). Both get call.joined (002 join-conference) and the room ' +
      'room.call_status 0; the co-host then has LIVE_CALL_CONFIRM_MS (default 6 s) to confirm its stream (call.confirm), or the call ends (reason "not_confirmed"). ' +
      'Refused with 782 while another call is on in the room, and with 739 when the viewer is in a private show.',
    seed: '002 accept-conference, join-conference',
    roles: ['viewer', 'host'],
    request: Other,
    reply: CallView,
    errors: ['INVALID_ROOM', 'NOT_IN_ROOM', 'BAD_PARAMETER', 'CALL_NOT_FOUND', 'CALL_IN_PROGRESS', 'USER_BUSY'],
    pushes: ['call.joined', 'room.call_status'],
  }),
  'call.decline': defineOp({
    summary: 'Decline a pending request (the host, naming the viewer) or invitation (the viewer); both get call.ended (reason "declined").',
    seed: '002 refuse-conference',
    roles: ['viewer', 'host'],
    request: Other,
    reply: Empty,
    errors: ['INVALID_ROOM', 'NOT_IN_ROOM', 'BAD_PARAMETER', 'CALL_NOT_FOUND'],
    pushes: ['call.ended'],
  }),
  'call.cancel': defineOp({
    summary: 'Withdraw your pending request (a viewer) or invitation (the host, naming the viewer); both get call.ended (reason "cancelled").',
    seed: '002 call-request',
    roles: ['viewer', 'host'],
    request: Other,
    reply: Empty,
    errors: ['INVALID_ROOM', 'NOT_IN_ROOM', 'BAD_PARAMETER', 'CALL_NOT_FOUND'],
    pushes: ['call.ended'],
  }),
  'call.confirm': defineOp({
    summary:
      'Co-host: your stream is up (002 conference-success). The call becomes connected and the room gets room.call_status 1. ' +
      'Confirming a connected call again changes nothing (after an RTC reconnect).',
    seed: '002 conference-success',
    roles: ['viewer'],
    request: Empty,
    reply: CallView,
    errors: ['NOT_IN_ROOM', 'INVALID_ROOM', 'NOT_IN_CALL'],
    pushes: ['room.call_status'],
  }),
  'call.stop': defineOp({
    summary: 'End the call you are in, host or co-host (002 quit-conference): both get call.ended (reason "stopped"), the room room.call_status 2.',
    seed: '002 quit-conference, stop-conference',
    roles: ['viewer', 'host'],
    request: Empty,
    reply: Empty,
    errors: ['NOT_IN_ROOM', 'INVALID_ROOM', 'NOT_IN_CALL'],
    pushes: ['call.ended', 'room.call_status'],
  }),
  'call.queue': defineOp({
    summary: 'Host: the pending requests and invitations of your room, oldest first, and the call on now.',
    seed: '002 call-request (连麦队列)',
    roles: ['host'],
    request: Empty,
    reply: Type.Object({ roomId: RoomId, queue: Type.Array(CallRequest), call: Type.Union([CallView, Type.Null()]) }),
    errors: ['INVALID_ROOM'],
  }),
} as const;

export const callPushes = {
  'call.requested': definePush({
    summary: 'Host: a viewer of your room asks to join you on camera (accept with call.accept naming them).',
    seed: '002 call-request',
    stream: 'session',
    data: CallRequest,
  }),
  'call.invited': definePush({
    summary: 'Viewer: the host of your room invites you to join them on camera (002 conference-notify); answer with call.accept or call.decline.',
    seed: '002 conference-notify',
    stream: 'session',
    data: CallRequest,
  }),
  'call.joined': definePush({
    summary: 'To both sides: the call was accepted, join the RTC room now (002 join-conference); the co-host confirms with call.confirm before `confirmBy`.',
    seed: '002 join-conference',
    stream: 'session',
    data: CallView,
  }),
  'call.ended': definePush({
    summary:
      'To both sides: a request, an invitation (`call` false) or a call (`call` true) ended (002 stop-conference). `reason`: declined, cancelled, expired, ' +
      'not_confirmed (no call.confirm in time), stopped (call.stop), left (the viewer left or was put out of the room), room_closed.',
    seed: '002 stop-conference',
    stream: 'session',
    data: Type.Object({
      roomId: RoomId,
      viewerId: UserId,
      reason: Type.Union([
        Type.Literal('declined'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('not_confirmed'),
        Type.Literal('stopped'), Type.Literal('left'), Type.Literal('room_closed'),
      ]),
      call: Type.Boolean({ description: 'true: a call (joined) ended; false: a pending request or invitation' }),
    }),
  }),
  'room.call_status': definePush({
    summary:
      'Co-host call status of the room (room topic; 002 conference-status): 0 joining (accepted, stream not confirmed yet), 1 connected, 2 ended. ' +
      'Someone entering the room finds the current call in the room.enter reply (`call`).',
    seed: '002 conference-status',
    stream: 'room',
    data: Type.Object({
      roomId: RoomId,
      status: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)]),
      userId: UserId,
    }),
  }),
} as const;
