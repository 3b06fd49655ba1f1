import { emit, fail, offlinePush, ok, push, type Effect, type Step } from './effects.js';
import type { DeskMsg, DeskRules, DeskState, Invite } from './desk.js';
import { same } from './desk.js';
import { withCharges } from './charges.js';
import { newShow, showView } from './desk-show.js';

type Msg<T extends DeskMsg['t']> = Extract<DeskMsg, { t: T }>;

const inviterOf = (i: Invite) => (i.from === 'viewer' ? i.viewerId : i.hostId);
const inviteeOf = (i: Invite) => (i.from === 'viewer' ? i.hostId : i.viewerId);

/** The invitation as `userId` sees it (wire shape of Invite). */
export function inviteView(i: Invite, userId: number) {
  const viewer = { userId: i.viewerId, profile: i.viewer };
  const host = { userId: i.hostId, profile: i.host };
  const [from, to] = i.from === 'viewer' ? [viewer, host] : [host, viewer];
  return { inviteId: i.id, from, to, createdAt: i.createdAt, expiresAt: i.expiresAt, direction: inviterOf(i) === userId ? ('sent' as const) : ('received' as const) };
}

export function newInvite(s: DeskState, msg: Msg<'invite'>, now: number, rules: DeskRules): Step<DeskState> {
  if (s.show) return same(s, [fail('USER_BUSY', 'the host is in a private show')]);
  if (s.invites.some((i) => i.viewerId === msg.viewerId)) return same(s, [fail('INVITE_EXISTS')]);
  if (s.invites.length >= rules.maxInvitesPerHost) return same(s, [fail('TOO_MANY_INVITES', `the host has ${rules.maxInvitesPerHost} pending`)]);
  const invite: Invite = {
    id: msg.inviteId, hostId: s.hostId, viewerId: msg.viewerId, from: msg.from, host: msg.host, viewer: msg.viewer,
    createdAt: now, expiresAt: now + rules.inviteTtlMs,
  };
  const received = inviteView(invite, inviteeOf(invite));
  return {
    state: { ...s, invites: [...s.invites, invite] },
    effects: [ok(inviteView(invite, inviterOf(invite))), push(inviteeOf(invite), 'invite.received', received)],
    writes: [{ t: 'invite.new', invite }, offlinePush(inviteeOf(invite), 'invite.received', received, now)],
  };
}

export function cancelInvite(s: DeskState, msg: Msg<'cancel'>, now: number): Step<DeskState> {
  const invite = s.invites.find((i) => i.id === msg.inviteId);
  if (!invite || inviterOf(invite) !== msg.by) return same(s, [fail('INVITE_NOT_FOUND')]);
  return {
    state: without(s, invite.id),
    effects: [ok(), push(inviteeOf(invite), 'invite.cancelled', { inviteId: invite.id, reason: msg.reason })],
    writes: [{ t: 'invite.end', inviteId: invite.id, status: 'cancelled', at: now }],
  };
}

export function expireInvite(s: DeskState, inviteId: number, now: number): Step<DeskState> {
  const invite = s.invites.find((i) => i.id === inviteId);
  if (!invite || now < invite.expiresAt) return same(s, []);
  const d = { inviteId };
  return {
    state: without(s, inviteId),
    effects: [push(invite.viewerId, 'invite.expired', d), push(invite.hostId, 'invite.expired', d)],
    writes: [{ t: 'invite.end', inviteId, status: 'expired', at: now }],
  };
}

/**
 * Accept or decline. Accepting creates the show; every other pending
 * invitation of this host is answered "busy" (declined if the host received
 * it, withdrawn if the host sent it).
 */
export function answerInvite(s: DeskState, msg: Msg<'answer'>, now: number, rules: DeskRules): Step<DeskState> {
  const invite = s.invites.find((i) => i.id === msg.inviteId);
  // Not yours to answer, or no longer pending (an expiry may be a hair late: the time decides).
  if (!invite || inviteeOf(invite) !== msg.by || now >= invite.expiresAt) return same(s, [fail('INVITE_NOT_FOUND')]);
  const inviter = inviterOf(invite);
  if (!msg.accept) {
    return {
      state: without(s, invite.id),
      effects: [ok(), push(inviter, 'invite.answered', { inviteId: invite.id, accepted: false, reason: 'declined' })],
      writes: [{ t: 'invite.end', inviteId: invite.id, status: 'declined', at: now }],
    };
  }
  if (s.show) return same(s, [fail('USER_BUSY', 'the host is in a private show')]);
  const { show, charges } = newShow(
    { id: msg.showId, hostId: s.hostId, viewerId: invite.viewerId, host: invite.host, viewer: invite.viewer, bookingId: null, notBefore: null, hostEnterBy: now + rules.hostEnterMs },
    now,
    rules,
  );
  const view = showView(show, rules, inviter);
  const others = othersBusy(s.invites.filter((i) => i.id !== invite.id), now);
  return withCharges({
    state: { ...s, invites: [], show },
    effects: [
      emit({ kind: 'show.opened', showId: show.id, hostId: show.hostId, viewerId: show.viewerId }),
      ok(showView(show, rules, msg.by)),
      push(inviter, 'invite.answered', { inviteId: invite.id, accepted: true, show: view }),
      ...others.effects,
    ],
    writes: [
      { t: 'invite.end', inviteId: invite.id, status: 'accepted', at: now },
      ...others.writes,
      { t: 'show.new', showId: show.id, hostId: show.hostId, viewerId: show.viewerId, inviteId: invite.id, at: now },
    ],
  }, charges, now);
}

/** The host went into a show: its other pending invitations are answered "busy" (declined if received, withdrawn if sent). */
export function othersBusy(invites: Invite[], now: number): { effects: Effect[]; writes: NonNullable<Step<DeskState>['writes']> } {
  return {
    effects: invites.map((o) =>
      o.from === 'viewer'
        ? push(o.viewerId, 'invite.answered', { inviteId: o.id, accepted: false, reason: 'busy' })
        : push(o.viewerId, 'invite.cancelled', { inviteId: o.id, reason: 'busy' }),
    ),
    writes: invites.map((o) => ({ t: 'invite.end' as const, inviteId: o.id, status: o.from === 'viewer' ? ('declined' as const) : ('cancelled' as const), at: now })),
  };
}

function without(s: DeskState, inviteId: number): DeskState {
  return { ...s, invites: s.invites.filter((i) => i.id !== inviteId) };
}
