import type { callView, requestView } from '../actors/room-calls.js';
import type { DomainEvent } from '../actors/effects.js';
import { ProtocolError } from '../protocol/errors.js';
import type { RoomMsg } from '../actors/room.js';
import type { PrivateShows } from './private-shows.js';
import type { RoomService } from './rooms.js';
import type { Session, SessionRegistry } from './sessions.js';

type CallEvent = Extract<DomainEvent, { kind: 'call.changed' }>;
type RequestReply = ReturnType<typeof requestView>;
type CallReply = ReturnType<typeof callView>;

/**
 * The server's side of co-host calls (F13). The room actor decides everything
 * (who may ask, the queue, the one call, the deadlines); this routes a
 * request to the caller's room and keeps a cache of who is in a call (from
 * the rooms' `call.changed` events), so a random match can refuse them.
 */
export class CallService {
  /** Host or co-host → the room of their call. */
  private readonly callOf = new Map<number, number>();

  constructor(
    private readonly deps: {
      rooms: RoomService;
      shows: PrivateShows;
      sessions: SessionRegistry;
      /** These users went into a call (they stop waiting for a match). */
      busy(userId: number): void;
    },
  ) {}

  onEvent(event: CallEvent): void {
    for (const userId of [event.hostId, event.viewerId]) {
      if (event.on) {
        this.callOf.set(userId, event.roomId);
        this.deps.busy(userId);
      } else if (this.callOf.get(userId) === event.roomId) {
        this.callOf.delete(userId);
      }
    }
  }

  inCall(userId: number): boolean {
    return this.callOf.has(userId);
  }

  /** The room of the user's call (host or co-host, joining or connected), if any. */
  roomOfCall(userId: number): number | undefined {
    return this.callOf.get(userId);
  }

  request(me: Session): Promise<RequestReply> {
    const roomId = this.deps.rooms.currentRoom(me.userId);
    this.notInShow(me.userId);
    return this.ask(roomId, { t: 'call-request', userId: me.userId });
  }

  invite(me: Session, userId: number): Promise<RequestReply | CallReply> {
    const roomId = this.hosted(me.userId);
    const target = this.deps.sessions.ofUser(userId);
    if (target && target.role !== 'viewer') throw new ProtocolError('BAD_PARAMETER', `user ${userId} is not a viewer`);
    this.notInShow(userId);
    return this.ask(roomId, { t: 'call-invite', by: me.userId, userId });
  }

  /** call.accept / call.decline by the side that was asked. */
  async answer(me: Session, userId: number | undefined, accept: boolean): Promise<CallReply | Record<string, never>> {
    const { roomId, viewerId } = this.place(me, userId);
    if (accept) this.notInShow(viewerId);
    return this.ask(roomId, { t: 'call-answer', by: me.userId, userId: viewerId, accept });
  }

  cancel(me: Session, userId: number | undefined): Promise<Record<string, never>> {
    const { roomId, viewerId } = this.place(me, userId);
    return this.ask(roomId, { t: 'call-cancel', by: me.userId, userId: viewerId });
  }

  confirm(me: Session): Promise<CallReply> {
    return this.ask(this.deps.rooms.currentRoom(me.userId), { t: 'call-confirm', by: me.userId });
  }

  stop(me: Session): Promise<Record<string, never>> {
    const roomId = me.role === 'host' ? this.hosted(me.userId) : this.deps.rooms.currentRoom(me.userId);
    return this.ask(roomId, { t: 'call-stop', by: me.userId });
  }

  queue(me: Session) {
    return this.ask<{ roomId: number; queue: RequestReply[]; call: CallReply | null }>(this.hosted(me.userId), { t: 'call-queue', by: me.userId });
  }

  /** The room and the viewer a request, invitation or call is about: the host names the viewer, a viewer is it. */
  private place(me: Session, userId: number | undefined): { roomId: number; viewerId: number } {
    if (me.role === 'host') {
      if (userId === undefined) throw new ProtocolError('BAD_PARAMETER', '/userId: name the viewer');
      return { roomId: this.hosted(me.userId), viewerId: userId };
    }
    if (userId !== undefined && userId !== me.userId) throw new ProtocolError('BAD_PARAMETER', '/userId: a viewer leaves it out');
    return { roomId: this.deps.rooms.currentRoom(me.userId), viewerId: me.userId };
  }

  private hosted(hostId: number): number {
    const roomId = this.deps.rooms.hostedBy(hostId);
    if (roomId === undefined) throw new ProtocolError('INVALID_ROOM', 'you have no open room');
    return roomId;
  }

  private notInShow(viewerId: number): void {
    if (this.deps.shows.inShow(viewerId)) throw new ProtocolError('USER_BUSY', 'the viewer is in a private show');
  }

  private ask<R>(roomId: number, msg: RoomMsg): Promise<R> {
    return this.deps.rooms.ask<R>(roomId, msg);
  }
}
