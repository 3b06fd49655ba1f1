/** One socket's side of the batcher: the frames waiting for it, and how to write them. */
export interface Outlet {
  /** Frames queued in this turn, oldest first (null: none). */
  frames: Uint8Array[] | null;
  /** Writes the frames in one corked call (one syscall for all of them). */
  write(frames: Uint8Array[]): void;
  /** Whether the socket receives a topic's publications. */
  subscribed(topic: string): boolean;
}

/**
 * Frames to a socket sent outside a uWS callback are each written with a
 * syscall of their own. Most frames leave that way: a reply goes out when its
 * commit resolves, pushes when an actor acts. The batcher keeps each socket's
 * frames of one turn of the event loop and writes them together right after
 * the turn (setImmediate), so a gift's reply and its balance push, or a
 * host's balance pushes of one commit, are one write.
 *
 * Order: a socket's frames keep their order. Room pushes are published by
 * uWS straight to the sockets, so whoever publishes calls `beforePublish()`
 * first: what is queued for the topic's subscribers is written before the
 * room push (uWS itself writes a socket's pending publications before a later
 * direct frame).
 */
export class FrameBatcher {
  private dirty: Outlet[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  queue(outlet: Outlet, frame: Uint8Array): void {
    if (outlet.frames) {
      outlet.frames.push(frame);
      return;
    }
    outlet.frames = [frame];
    this.dirty.push(outlet);
    this.scheduled ??= setImmediate(this.flushAll);
  }

  /** Writes one socket's queued frames now (before it is closed). */
  flush(outlet: Outlet): void {
    const frames = outlet.frames;
    if (!frames) return;
    outlet.frames = null;
    outlet.write(frames);
  }

  /** Writes the queued frames of the topic's subscribers now. */
  beforePublish(topic: string): void {
    for (const outlet of this.dirty) if (outlet.frames && outlet.subscribed(topic)) this.flush(outlet);
  }

  /** Writes every queued frame now. */
  readonly flushAll = (): void => {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const dirty = this.dirty;
    if (dirty.length === 0) return;
    this.dirty = [];
    for (const outlet of dirty) this.flush(outlet);
  };
}
