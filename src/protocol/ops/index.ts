import { backpackOps, backpackPushes } from './backpack.js';
import { blockOps } from './block.js';
import { bookingOps, bookingPushes } from './booking.js';
import { callOps, callPushes } from './call.js';
import { chatOps, chatPushes } from './chat.js';
import { followOps, followPushes } from './follow.js';
import { giftOps, giftPushes } from './gift.js';
import { intimacyOps, intimacyPushes } from './intimacy.js';
import { inviteOps, invitePushes } from './invite.js';
import { matchOps, matchPushes } from './match.js';
import { messageOps, messagePushes } from './message.js';
import { noticePushes } from './notice.js';
import { presenceOps, presencePushes } from './presence.js';
import { roomOps, roomPushes } from './room.js';
import { sessionOps, sessionPushes } from './session.js';
import { showOps, showPushes } from './show.js';
import { talentOps, talentPushes } from './talent.js';
import { viewerOps, viewerPushes } from './viewer.js';
import { walletOps, walletPushes } from './wallet.js';

/** Every request op the server accepts, by name. Add a new area's ops here. */
export const OPS = { ...sessionOps, ...presenceOps, ...roomOps, ...chatOps, ...inviteOps, ...showOps, ...bookingOps, ...walletOps, ...giftOps, ...backpackOps, ...followOps, ...messageOps, ...blockOps, ...callOps, ...matchOps, ...talentOps, ...intimacyOps, ...viewerOps } as const;
/** Every push the server sends, by name. */
export const PUSHES = { ...sessionPushes, ...presencePushes, ...roomPushes, ...chatPushes, ...invitePushes, ...showPushes, ...bookingPushes, ...walletPushes, ...giftPushes, ...backpackPushes, ...followPushes, ...noticePushes, ...messagePushes, ...callPushes, ...matchPushes, ...talentPushes, ...intimacyPushes, ...viewerPushes } as const;

export type Ops = typeof OPS;
export type OpName = keyof Ops;
export type Pushes = typeof PUSHES;
export type PushName = keyof Pushes;
