import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Millis, Profile, SafeInt, UserId } from '../schemas.js';
import { ShowView } from './show.js';

export const InviteId = SafeInt({ minimum: 1, description: 'invitation id' });
const Party = Type.Object({ userId: UserId, profile: Profile });
const Count = SafeInt({ minimum: 0 });

/** A pending instant invitation (5.12 / 6.33), as both sides see it. */
export const Invite = Type.Object({
  inviteId: InviteId,
  from: Party,
  to: Party,
  createdAt: Millis,
  expiresAt: Millis,
  direction: Type.Union([Type.Literal('sent'), Type.Literal('received')], { description: 'as seen by the user it is shown to' }),
});

const ByInvite = Type.Object({ inviteId: InviteId }, { additionalProperties: false });

export const inviteOps = {
  'invite.send': defineOp({
    summary:
      'Invite someone to a private show now: a viewer invites a host (5.12), a host invites a viewer (6.33). The other side must be online (connected, or ' +
      'disconnected for less than the resume grace), of the other role, and neither of you in a private show; one pending invitation per pair (either direction). An unanswered invitation expires ' +
      'after LIVE_INVITE_TTL_MS (default 30 s) and both sides get invite.expired.',
    seed: '5.12, 6.33, 6.34',
    roles: ['viewer', 'host'],
    request: Type.Object({ userId: UserId }, { additionalProperties: false }),
    reply: Invite,
    errors: ['BAD_PARAMETER', 'USER_OFFLINE', 'USER_BUSY', 'INVITE_EXISTS', 'TOO_MANY_INVITES'],
    pushes: ['invite.received'],
  }),
  'invite.cancel': defineOp({
    summary: 'Withdraw an invitation you sent and that is still pending (5.13); the invited side gets invite.cancelled.',
    seed: '5.13, 6.38',
    roles: ['viewer', 'host'],
    request: ByInvite,
    reply: Type.Object({}),
    errors: ['INVITE_NOT_FOUND'],
    pushes: ['invite.cancelled'],
  }),
  'invite.accept': defineOp({
    summary:
      'Accept a pending invitation you received (6.22; a viewer accepts a host\'s). A private show is created (status "accepted"); ' +
      'the inviter gets invite.answered. The host\'s other pending invitations are answered with reason "busy" (those the host received: ' +
      'invite.answered declined; those the host sent: invite.cancelled); so are the invitations the viewer sent to other hosts (invite.cancelled to ' +
      'those hosts). Invitations the viewer received from other hosts stay pending until they expire; accepting one answers 739 while the show lasts. ' +
      'The host\'s open public room, if any, is closed at once (room.ended, reason "closed").',
    seed: '6.22, 6.21',
    roles: ['viewer', 'host'],
    request: ByInvite,
    reply: ShowView,
    errors: ['INVITE_NOT_FOUND', 'USER_BUSY'],
    pushes: ['invite.answered', 'invite.cancelled'],
  }),
  'invite.decline': defineOp({
    summary: 'Decline a pending invitation you received (6.20); the inviter gets invite.answered with accepted false.',
    seed: '6.20, 6.21',
    roles: ['viewer', 'host'],
    request: ByInvite,
    reply: Type.Object({}),
    errors: ['INVITE_NOT_FOUND'],
    pushes: ['invite.answered'],
  }),
  'invite.list': defineOp({
    summary:
      'Your pending instant invitations, sent and received, newest first, a page at a time (6.39). Listing marks the received ones on ' +
      'the page as read for invite.count.',
    seed: '6.39',
    roles: ['viewer', 'host'],
    request: Type.Object(
      { page: SafeInt({ minimum: 1, maximum: 10_000, description: 'page number, from 1' }), pageSize: SafeInt({ minimum: 1, maximum: 100 }) },
      { additionalProperties: false },
    ),
    reply: Type.Object({ total: Count, invites: Type.Array(Invite) }),
    errors: [],
  }),
  'invite.count': defineOp({
    summary: 'How many pending invitations you received: all of them, and those not yet listed by invite.list (6.40). Also pushed after the welcome when it is not 0.',
    seed: '6.40',
    roles: ['viewer', 'host'],
    request: Type.Object({}, { additionalProperties: false }),
    reply: Type.Object({ total: Count, unread: Count }),
    errors: [],
  }),
};

const InviteRef = { inviteId: InviteId };

export const invitePushes = {
  'invite.received': definePush({
    summary: 'Someone invited you to a private show now (5.12 to a host, 6.34 to a viewer).',
    seed: '5.12, 6.34',
    stream: 'session',
    data: Invite,
  }),
  'invite.answered': definePush({
    summary:
      'The invitation you sent was accepted (with the show: enter it with show.enter) or declined (6.21). ' +
      '`reason`: "declined" (by the other side) or "busy" (they accepted another invitation).',
    seed: '6.21',
    stream: 'session',
    data: Type.Object({
      ...InviteRef,
      accepted: Type.Boolean(),
      reason: Type.Optional(Type.Union([Type.Literal('declined'), Type.Literal('busy')])),
      show: Type.Optional(ShowView),
    }),
  }),
  'invite.cancelled': definePush({
    summary: 'An invitation you received is withdrawn: "cancelled" by its sender, or "busy" (the sender went into another private show).',
    seed: '5.13',
    stream: 'session',
    data: Type.Object({ ...InviteRef, reason: Type.Union([Type.Literal('cancelled'), Type.Literal('busy')]) }),
  }),
  'invite.expired': definePush({
    summary: 'An invitation you sent or received expired unanswered (both sides get it).',
    seed: '002 dueChat expireTime',
    stream: 'session',
    data: Type.Object(InviteRef),
  }),
  'invite.count': definePush({
    summary: 'Pending invitations you received (as the invite.count reply), sent after the welcome of a new session when there are any.',
    seed: '6.40, 4.18',
    stream: 'session',
    data: Type.Object({ total: Count, unread: Count }),
  }),
};
