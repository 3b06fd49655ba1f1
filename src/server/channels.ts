import type { Clock, TimerHandle } from '../clock.js';
import { encode } from '../protocol/codec.js';
import type { PushName } from '../protocol/ops/index.js';

/** Pushes whose bursts are sent as one frame: their `users` lists are joined, other fields are the latest. */
const COALESCED = new Set<PushName>(['room.user_entered', 'room.user_left']);
/** Most users one coalesced push lists. */
export const MAX_COALESCED = 100;

interface Coalescing {
  op: PushName;
  d: { users: unknown[] } & Record<string, unknown>;
  timer: TimerHandle;
}

interface Channel {
  seq: number;
  /** The newest frames, oldest first, for resuming clients. */
  buffer: Array<{ seq: number; frame: Buffer }>;
  pending: Coalescing | undefined;
}

/**
 * Room topics with a sequence of their own: every room push carries `ch` and
 * `seq`, is published once (uWS fans it out), and the last few are kept so a
 * client resuming its session gets the room pushes it missed too.
 *
 * Entries and departures are coalesced: while a room fills, each entry would
 * otherwise be one frame to every member (O(n²) frames for n entries); here a
 * burst becomes one frame listing who came, sent at most `coalesceMs` later.
 * Any other push on the channel sends the pending one first, so order holds.
 */
export class RoomChannels {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly opts: {
      clock: Clock;
      bufferSize: number;
      /** How long a closed room's pushes stay available to resuming clients. */
      keepMs: number;
      /** Longest delay of a coalesced push. */
      coalesceMs: number;
      send(topic: string, frame: Buffer): void;
    },
  ) {}

  publish(topic: string, op: PushName, d: unknown): void {
    let ch = this.channels.get(topic);
    if (!ch) this.channels.set(topic, (ch = { seq: 0, buffer: [], pending: undefined }));
    if (!COALESCED.has(op)) {
      this.flush(topic, ch);
      this.send(topic, ch, op, d);
      return;
    }
    const item = d as Coalescing['d'];
    const pending = ch.pending;
    if (pending && pending.op === op && pending.d.users.length + item.users.length <= MAX_COALESCED) {
      pending.d.users.push(...item.users);
      Object.assign(pending.d, { ...item, users: pending.d.users });
      return;
    }
    this.flush(topic, ch);
    const channel = ch;
    ch.pending = { op, d: { ...item, users: [...item.users] }, timer: this.opts.clock.setTimeout(() => this.flush(topic, channel), this.opts.coalesceMs) };
  }

  /** Frames after `seq`, in order; null when some of them are gone (the client must re-enter). */
  since(topic: string, seq: number): Buffer[] | null {
    const ch = this.channels.get(topic);
    if (!ch) return seq === 0 ? [] : null;
    if (seq > ch.seq) return null;
    const oldest = ch.buffer[0]?.seq ?? ch.seq + 1;
    if (seq < oldest - 1) return null;
    return ch.buffer.filter((p) => p.seq > seq).map((p) => p.frame);
  }

  /** The room closed: keep its last pushes for resuming clients a while, then forget it. */
  closed(topic: string): void {
    const ch = this.channels.get(topic);
    if (ch) this.flush(topic, ch);
    this.opts.clock.setTimeout(() => this.channels.delete(topic), this.opts.keepMs);
  }

  /** Sends every pending coalesced push now (shutdown). */
  flushAll(): void {
    for (const [topic, ch] of this.channels) this.flush(topic, ch);
  }

  private flush(topic: string, ch: Channel): void {
    const pending = ch.pending;
    if (!pending) return;
    ch.pending = undefined;
    this.opts.clock.clearTimeout(pending.timer);
    this.send(topic, ch, pending.op, pending.d);
  }

  private send(topic: string, ch: Channel, op: PushName, d: unknown): void {
    const seq = ++ch.seq;
    const frame = encode({ op, d, ch: topic, seq });
    ch.buffer.push({ seq, frame });
    if (ch.buffer.length > this.opts.bufferSize) ch.buffer.shift();
    this.opts.send(topic, frame);
  }
}
