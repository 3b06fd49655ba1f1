import { chatOps, chatPushes } from './chat.js';
import { presenceOps, presencePushes } from './presence.js';
import { roomOps, roomPushes } from './room.js';
import { sessionOps, sessionPushes } from './session.js';

/** Every request op the server accepts, by name. Add a new area's ops here. */
export const OPS = { ...sessionOps, ...presenceOps, ...roomOps, ...chatOps } as const;
/** Every push the server sends, by name. */
export const PUSHES = { ...sessionPushes, ...presencePushes, ...roomPushes, ...chatPushes } as const;

export type Ops = typeof OPS;
export type OpName = keyof Ops;
export type Pushes = typeof PUSHES;
export type PushName = keyof Pushes;
