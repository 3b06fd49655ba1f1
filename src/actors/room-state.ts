import type { Profile } from '../protocol/schemas.js';
import type { Charge, ChargeResult } from './charges.js';
import type { Call, CallMsg, CallRequest } from './room-calls.js';

/** Room rules that come from configuration, fixed per server. */
export interface RoomRules {
  /** How long a kicked viewer stays out. */
  kickBanMs: number;
  /** How long an open room waits for its host to come back. */
  hostGraceMs: number;
  /** Cadence of room.countdown pushes while closing. */
  countdownTickMs: number;
  /** Co-host calls: a pending request or invitation expires after this long. */
  callRequestTtlMs: number;
  /** Co-host calls: from join-conference, how long the co-host has to confirm its stream. */
  callConfirmMs: number;
  /** Co-host calls: pending requests and invitations a room holds at once. */
  callQueueMax: number;
}

export interface Viewer {
  profile: Profile;
  at: number;
  /** In a paid room: minutes of this visit paid, and the minute being charged now. */
  billed?: number;
  billing?: number | null;
}

/**
 * A public live room (6.2). Everything here is journaled and survives restarts.
 * `viewers` and `seen` are updated in place (see ActorDef): entering a room of
 * thousands costs O(1).
 */
export interface RoomState {
  roomId: number;
  status: 'new' | 'open' | 'closing' | 'closed';
  hostId: number;
  host: Profile;
  title: string;
  seatLimit: number;
  pricePerMinute: number;
  openedAt: number;
  /** Closing countdown: when the room closes, and when the next countdown push is due. */
  closesAt: number | null;
  nextTickAt: number | null;
  /** Set while the host is disconnected: the room closes as abnormal at this time. */
  hostAwayUntil: number | null;
  /** Current viewers by user id, in order of entry. */
  viewers: Map<number, Viewer>;
  bans: Record<string, number>;
  muted: Record<string, true>;
  likes: number;
  peakViewers: number;
  /** Distinct viewers so far. */
  seen: Set<number>;
  gifts: number;
  credits: number;
  /** Credits moves asked of the ledger and not confirmed yet (paid rooms; see charges.ts). */
  charges: Charge[];
  /** Co-host calls (room-calls.ts): pending requests and invitations, oldest first, and the call on now. */
  callQueue: CallRequest[];
  call: Call | null;
}

export type RoomMsg =
  | { t: 'open'; hostId: number; host: Profile; title: string; seatLimit: number; pricePerMinute: number }
  /** `credits`: the viewer's credits now (a paid room refuses a viewer who cannot pay the first minute). */
  | { t: 'enter'; userId: number; profile: Profile; credits?: number; vehicle?: EntranceVehicle | null }
  | { t: 'leave'; userId: number; reason: 'left' | 'gone' }
  | { t: 'view'; userId: number }
  | { t: 'viewers'; page: number; pageSize: number }
  /** The audience avatar list (7.51): the top `size` viewers by level, then by entry. */
  | { t: 'audience'; size: number }
  /** The platform moves the room to another media server (7.50). */
  | { t: 'media-switch'; playUrl: string | null; publishUrl: string | null; reason: string }
  | { t: 'kick'; by: number; userId: number }
  | { t: 'mute'; by: number; userId: number; muted: boolean }
  | { t: 'close'; by: number; countdownMs: number }
  | { t: 'likes'; count: number }
  /** Gifts sent and credits spent in the room (committed in the ledger), added up by the server. */
  | { t: 'earned'; gifts: number; credits: number }
  | { t: 'notice'; kind: 'system' | 'toast'; text: string }
  /** The platform closes the room (server-to-server API). */
  | { t: 'admin-close' }
  /** `since`: when the host's socket dropped (the message may be handled a little later). */
  | { t: 'host-away'; since: number }
  | { t: 'host-back' }
  /** The server restarted: nobody is connected any more. */
  | { t: 'restarted' }
  | { t: 'tick' }
  | { t: 'end'; reason: 'countdown' | 'abnormal' }
  /** A paying viewer's next minute started. */
  | { t: 'bill-due' }
  | ChargeResult
  | { t: 'charge-retry' }
  | CallMsg;

export const topicOf = (roomId: number) => `room/${roomId}`;

/** The vehicle a viewer rides in (4.12), shown with their entry. */
export interface EntranceVehicle {
  vehicleId: number;
  name: string;
  image: string;
  animation: string;
}

export function initialRoomState(id: string): RoomState {
  return {
    roomId: Number(id), status: 'new', hostId: 0, host: { nickname: '', avatar: '', gender: '', level: 0 }, title: '',
    seatLimit: 0, pricePerMinute: 0, openedAt: 0, closesAt: null, nextTickAt: null, hostAwayUntil: null,
    viewers: new Map(), bans: {}, muted: {}, likes: 0, peakViewers: 0, seen: new Set(), gifts: 0, credits: 0, charges: [],
    callQueue: [], call: null,
  };
}

/** Snapshot form: Maps and Sets as arrays (MessagePack maps would come back as objects with string keys). */
export function roomToSnapshot(s: RoomState): unknown {
  return { ...s, viewers: [...s.viewers], seen: [...s.seen] };
}

export function roomFromSnapshot(data: unknown): RoomState {
  const d = data as Omit<RoomState, 'viewers' | 'seen'> & { viewers: unknown; seen: unknown };
  // Snapshots of earlier builds kept both as objects keyed by user id.
  const viewers = Array.isArray(d.viewers)
    ? new Map(d.viewers as Array<[number, Viewer]>)
    : new Map(Object.entries(d.viewers as Record<string, Viewer>).map(([id, v]) => [Number(id), v]));
  const seen = new Set(Array.isArray(d.seen) ? (d.seen as number[]) : Object.keys(d.seen as object).map(Number));
  return { ...d, viewers, seen, charges: d.charges ?? [], callQueue: d.callQueue ?? [], call: d.call ?? null };
}

export const live = (s: RoomState) => s.status === 'open' || s.status === 'closing';
export const viewerCount = (s: RoomState) => s.viewers.size;
