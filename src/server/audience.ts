import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { PushName } from '../protocol/ops/index.js';
import type { Profile } from '../protocol/schemas.js';
import { topicOf } from '../actors/room.js';
import type { RoomService } from './rooms.js';

type Member = { userId: number; profile: Profile };

interface AudienceList {
  roomId: number;
  top: Member[];
  viewers: number;
}

/**
 * The audience avatar list of each room (7.51): its top viewers by level, then
 * by entry, as the room actor computes them. Entries and departures only mark
 * a room; at most every `flushMs` the marked rooms are asked for their list,
 * and a room whose list (who, in which order) changed gets one
 * room.audience_updated. A room filling with n viewers costs O(n / flush)
 * list computations, not one per entry.
 */
export class AudienceLists {
  private readonly last = new Map<number, AudienceList & { key: string }>();
  private readonly marked = new Set<number>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly deps: {
      clock: Clock;
      logger: Logger;
      rooms: RoomService;
      size: number;
      flushMs: number;
      publish(topic: string, op: PushName, d: unknown): void;
    },
  ) {}

  /** A room push went out: entries and departures change the audience. */
  published(op: PushName, d: unknown): void {
    if (op !== 'room.user_entered' && op !== 'room.user_left') return;
    this.marked.add((d as { roomId: number }).roomId);
    this.timer ??= this.deps.clock.setTimeout(() => void this.flush(), this.deps.flushMs);
  }

  /** room.audience: the list as last computed (computed now for a room that has none yet). */
  async get(roomId: number): Promise<AudienceList> {
    const known = this.last.get(roomId);
    if (known) return { roomId, top: known.top, viewers: known.viewers };
    const list = await this.deps.rooms.ask<AudienceList>(roomId, { t: 'audience', size: this.deps.size });
    if (!this.last.has(roomId) && this.deps.rooms.hostOfRoom(roomId) !== undefined) this.last.set(roomId, { ...list, key: keyOf(list.top) });
    return list;
  }

  /** The room closed. */
  closed(roomId: number): void {
    this.last.delete(roomId);
    this.marked.delete(roomId);
  }

  close(): void {
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const rooms = [...this.marked];
    this.marked.clear();
    await Promise.all(
      rooms.map(async (roomId) => {
        try {
          const list = await this.deps.rooms.ask<AudienceList>(roomId, { t: 'audience', size: this.deps.size });
          if (this.deps.rooms.hostOfRoom(roomId) === undefined) return;
          const key = keyOf(list.top);
          const changed = this.last.get(roomId)?.key !== key;
          this.last.set(roomId, { ...list, key });
          if (changed) this.deps.publish(topicOf(roomId), 'room.audience_updated', list);
        } catch (err) {
          // Closed meanwhile (731), or busy: the next entry or departure marks it again.
          this.deps.logger.debug({ err, roomId }, 'audience list not computed');
        }
      }),
    );
  }
}

const keyOf = (top: Member[]) => top.map((m) => m.userId).join(',');
