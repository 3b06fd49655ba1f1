import type { Clock } from '../clock.js';
import { encode } from '../protocol/codec.js';
import type { PushName } from '../protocol/ops/index.js';

interface Channel {
  seq: number;
  /** The newest frames, oldest first, for resuming clients. */
  buffer: Array<{ seq: number; frame: Buffer }>;
}

/**
 * Room topics with a sequence of their own: every room push carries `ch` and
 * `seq`, is published once (uWS fans it out), and the last few are kept so a
 * client resuming its session gets the room pushes it missed too.
 */
export class RoomChannels {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly opts: {
      clock: Clock;
      bufferSize: number;
      /** How long a closed room's pushes stay available to resuming clients. */
      keepMs: number;
      send(topic: string, frame: Buffer): void;
    },
  ) {}

  publish(topic: string, op: PushName, d: unknown): void {
    let ch = this.channels.get(topic);
    if (!ch) this.channels.set(topic, (ch = { seq: 0, buffer: [] }));
    const seq = ++ch.seq;
    const frame = encode({ op, d, ch: topic, seq });
    ch.buffer.push({ seq, frame });
    if (ch.buffer.length > this.opts.bufferSize) ch.buffer.shift();
    this.opts.send(topic, frame);
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
    this.opts.clock.setTimeout(() => this.channels.delete(topic), this.opts.keepMs);
  }
}
