import { isUtf8 } from 'node:buffer';

/**
 * A structural pre-scan of untrusted MessagePack, run before msgpackr decodes
 * it. msgpackr stays the decoder; this walk only reads type markers and
 * lengths, and checks what a decoded value can no longer show:
 *
 * - extension types (fixext 0xd4–0xd8, ext 0xc7–0xc9: timestamps, msgpackr
 *   records and structured clone) and the never-used byte 0xc1;
 * - str that is not valid UTF-8 (msgpackr would turn it into U+FFFD), keys too;
 * - map keys that are not str, or repeat in their map (msgpackr keeps the last);
 * - integers beyond ±(2^53 − 1), floats holding NaN or ±Infinity;
 * - nesting deeper than MAX_DEPTH, truncated input, bytes after the value;
 * - where the floats and byte strings are: a float32/float64 holding 5.0
 *   decodes to the JavaScript number 5 and a bin to a Uint8Array, which a
 *   schema check alone takes for an integer and an object; the paths are
 *   returned as marks so the schema step can refuse them where the schema
 *   expects something else (see wireMismatch in envelope.ts).
 *
 * The walk is synchronous and reuses one scanner's scratch state, so it is
 * not reentrant (nothing in it calls out). It costs about 0.1 µs for a short
 * chat.send frame and is linear in the frame size (bounded by the server's
 * frame limit); the UTF-8 check of strings longer than a few dozen bytes is
 * node's native isUtf8.
 */

/** Values nest at most this deep (the root value is at depth 0). */
export const MAX_DEPTH = 16;

/** Where a value sits: map keys and array indexes from the root. */
export type WirePath = ReadonlyArray<string | number>;

/** A value whose MessagePack type the decoded JavaScript value does not show. */
export interface WireMark {
  kind: 'float' | 'bin';
  path: WirePath;
}

export interface ScanResult {
  /** Why the bytes are not one plain MessagePack value; undefined when they are. */
  error: string | undefined;
  /** Floats and bins, in frame order; undefined when there are none (the usual case). */
  marks: WireMark[] | undefined;
  /**
   * The request id: the value of the top-level map's `id` key when that key
   * occurs once and holds an int-format integer 1 … 2^53 − 1; else 0. Read even
   * when the frame is refused for something else, so the refusal can be
   * answered to it; 0 when the bytes are not complete MessagePack.
   */
  requestId: number;
}

/** Thrown inside the walk when it cannot go on (the structure is lost). */
class Abort extends Error {}

const ARRAY = 0;
const MAP = 1;
/** Strings up to this many bytes are checked for non-ASCII in JS; longer ones go to isUtf8 at once. */
const SHORT_STRING = 48;
const NOTHING = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8');

/**
 * One walk's state. A single instance is reused (the walk is synchronous and
 * calls nothing outside this file); fields rather than module-level `let`s,
 * which V8 reads with a hole check on every access.
 */
class Scanner {
  buf: Uint8Array = NOTHING;
  pos = 0;
  end = 0;
  error: string | undefined = undefined;
  marks: WireMark[] | undefined = undefined;
  idCount = 0;
  idValue = 0;
  /** Per depth: the kind of container a value sits in, and its index or key range. */
  readonly segKind = new Uint8Array(MAX_DEPTH + 2);
  readonly segA = new Int32Array(MAX_DEPTH + 2);
  readonly segB = new Int32Array(MAX_DEPTH + 2);
  /** Key ranges of the maps being walked, a stack shared by all levels. */
  keyStart = new Int32Array(64);
  keyEnd = new Int32Array(64);
  keyTop = 0;

  run(bytes: Uint8Array): ScanResult {
    this.buf = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.error = undefined;
    this.marks = undefined;
    this.idCount = 0;
    this.idValue = 0;
    this.keyTop = 0;
    try {
      if (this.end === 0) throw new Abort('empty frame');
      this.item(0);
      if (this.pos !== this.end) throw new Abort(`${this.end - this.pos} bytes after the value`);
      return { error: this.error, marks: this.marks, requestId: this.idCount === 1 ? this.idValue : 0 };
    } catch (err) {
      if (!(err instanceof Abort)) throw err;
      // The first problem is the better explanation: msgpackr records and structured
      // clone write an ext header and then their payload outside the ext.
      return { error: this.error ?? `not MessagePack: ${err.message}`, marks: undefined, requestId: 0 };
    } finally {
      this.buf = NOTHING; // do not keep the caller's bytes alive
      this.marks = undefined;
    }
  }

  /** The first problem found is reported; the walk goes on while the structure is intact (to find the id). */
  fail(why: string): void {
    this.error ??= why;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new Abort('truncated');
  }

  u16(at: number): number {
    const b = this.buf;
    return (b[at]! << 8) | b[at + 1]!;
  }

  u32(at: number): number {
    const b = this.buf;
    return b[at]! * 0x100_0000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  }

  item(depth: number): void {
    if (depth > MAX_DEPTH) throw new Abort('nested too deeply');
    this.need(1);
    const pos = this.pos;
    const b = this.buf[pos]!;
    if (b <= 0x7f || b >= 0xe0) {
      this.pos = pos + 1; // positive / negative fixint
    } else if (b >= 0xa0 && b <= 0xbf) {
      this.pos = pos + 1;
      this.str(b & 0x1f);
    } else if (b <= 0x8f) {
      this.pos = pos + 1;
      this.map(b & 0x0f, depth);
    } else if (b <= 0x9f) {
      this.pos = pos + 1;
      this.array(b & 0x0f, depth);
    } else {
      this.other(b, depth);
    }
  }

  other(b: number, depth: number): void {
    const pos = this.pos;
    const buf = this.buf;
    switch (b) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        this.pos = pos + 1;
        return;
      case 0xc1:
        throw new Abort('0xc1 is never used');
      case 0xc4:
        this.need(2);
        return this.bin(buf[pos + 1]!, 2, depth);
      case 0xc5:
        this.need(3);
        return this.bin(this.u16(pos + 1), 3, depth);
      case 0xc6:
        this.need(5);
        return this.bin(this.u32(pos + 1), 5, depth);
      case 0xc7:
        this.need(2);
        return this.ext(buf[pos + 1]!, 3);
      case 0xc8:
        this.need(3);
        return this.ext(this.u16(pos + 1), 4);
      case 0xc9:
        this.need(5);
        return this.ext(this.u32(pos + 1), 6);
      case 0xca:
        this.need(5);
        // exponent all ones: NaN or ±Infinity
        if ((buf[pos + 1]! & 0x7f) === 0x7f && (buf[pos + 2]! & 0x80) === 0x80) this.fail('NaN or Infinity');
        this.mark('float', depth);
        this.pos = pos + 5;
        return;
      case 0xcb:
        this.need(9);
        if ((buf[pos + 1]! & 0x7f) === 0x7f && (buf[pos + 2]! & 0xf0) === 0xf0) this.fail('NaN or Infinity');
        this.mark('float', depth);
        this.pos = pos + 9;
        return;
      case 0xcc:
      case 0xd0:
        this.need(2);
        this.pos = pos + 2;
        return;
      case 0xcd:
      case 0xd1:
        this.need(3);
        this.pos = pos + 3;
        return;
      case 0xce:
      case 0xd2:
        this.need(5);
        this.pos = pos + 5;
        return;
      case 0xcf:
      case 0xd3:
        this.need(9);
        if (!Number.isSafeInteger(this.int64At(pos))) this.fail('integer beyond 2^53');
        this.pos = pos + 9;
        return;
      case 0xd4:
        return this.ext(1, 2);
      case 0xd5:
        return this.ext(2, 2);
      case 0xd6:
        return this.ext(4, 2);
      case 0xd7:
        return this.ext(8, 2);
      case 0xd8:
        return this.ext(16, 2);
      case 0xd9:
        this.need(2);
        this.pos = pos + 2;
        return this.str(buf[pos + 1]!);
      case 0xda:
        this.need(3);
        this.pos = pos + 3;
        return this.str(this.u16(pos + 1));
      case 0xdb:
        this.need(5);
        this.pos = pos + 5;
        return this.str(this.u32(pos + 1));
      case 0xdc:
        this.need(3);
        this.pos = pos + 3;
        return this.array(this.u16(pos + 1), depth);
      case 0xdd:
        this.need(5);
        this.pos = pos + 5;
        return this.array(this.u32(pos + 1), depth);
      case 0xde:
        this.need(3);
        this.pos = pos + 3;
        return this.map(this.u16(pos + 1), depth);
      case 0xdf:
        this.need(5);
        this.pos = pos + 5;
        return this.map(this.u32(pos + 1), depth);
    }
  }

  /**
   * The value of a uint64/int64 (marker at `at`), exact while it is a safe
   * integer; beyond, it rounds to a value that is not (hi·2^32 is exact, so
   * adding lo can only round to a neighbour at least as large).
   */
  int64At(at: number): number {
    const hi = this.u32(at + 1);
    const lo = this.u32(at + 5);
    return (this.buf[at] === 0xd3 ? hi | 0 : hi) * 0x1_0000_0000 + lo;
  }

  str(len: number): void {
    this.need(len);
    const start = this.pos;
    this.pos = start + len;
    this.checkUtf8(start, start + len);
  }

  checkUtf8(start: number, stop: number): void {
    const buf = this.buf;
    if (stop - start > SHORT_STRING) {
      if (!isUtf8(buf.subarray(start, stop))) this.fail('invalid UTF-8 in a string');
      return;
    }
    let any = 0;
    for (let i = start; i < stop; i++) any |= buf[i]!;
    if (any >= 0x80 && !isUtf8(buf.subarray(start, stop))) this.fail('invalid UTF-8 in a string');
  }

  bin(len: number, header: number, depth: number): void {
    this.need(header + len);
    this.mark('bin', depth);
    this.pos += header + len;
  }

  ext(len: number, header: number): void {
    this.need(header + len);
    this.fail('extension types are not accepted (timestamps, msgpackr records, structured clone …)');
    this.pos += header + len;
  }

  array(n: number, depth: number): void {
    if (n > this.end - this.pos) throw new Abort('truncated');
    const d = depth + 1;
    this.segKind[d] = ARRAY;
    for (let i = 0; i < n; i++) {
      this.segA[d] = i;
      this.item(d);
    }
  }

  map(n: number, depth: number): void {
    if (n * 2 > this.end - this.pos) throw new Abort('truncated');
    const d = depth + 1;
    const base = this.keyTop;
    for (let i = 0; i < n; i++) {
      this.need(1);
      const pos = this.pos;
      const b = this.buf[pos]!;
      let len = -1;
      if (b >= 0xa0 && b <= 0xbf) {
        len = b & 0x1f;
        this.pos = pos + 1;
      } else if (b === 0xd9) {
        this.need(2);
        len = this.buf[pos + 1]!;
        this.pos = pos + 2;
      } else if (b === 0xda) {
        this.need(3);
        len = this.u16(pos + 1);
        this.pos = pos + 3;
      } else if (b === 0xdb) {
        this.need(5);
        len = this.u32(pos + 1);
        this.pos = pos + 5;
      }
      if (len < 0) {
        this.fail('map keys must be strings');
        this.segA[d] = this.segB[d] = -1;
        this.item(d); // walk past it
      } else {
        this.need(len);
        const start = this.pos;
        const stop = start + len;
        this.pos = stop;
        this.checkUtf8(start, stop);
        this.pushKey(start, stop);
        this.segA[d] = start;
        this.segB[d] = stop;
        // the request id: `id` at the top level, in an int format
        if (depth === 0 && len === 2 && this.buf[start] === 0x69 && this.buf[start + 1] === 0x64) {
          this.idCount++;
          this.idValue = this.positiveIntAt(stop);
        }
      }
      this.segKind[d] = MAP;
      this.item(d);
    }
    if (this.keyTop - base > 1) this.checkDuplicates(base, this.keyTop);
    this.keyTop = base;
  }

  pushKey(start: number, stop: number): void {
    if (this.keyTop === this.keyStart.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.keyStart = grow(this.keyStart);
      this.keyEnd = grow(this.keyEnd);
    }
    this.keyStart[this.keyTop] = start;
    this.keyEnd[this.keyTop] = stop;
    this.keyTop++;
  }

  /** The int at `at` if it is an int format holding 1 … 2^53 − 1, else 0. */
  positiveIntAt(at: number): number {
    const buf = this.buf;
    const left = this.end - at;
    if (left < 1) return 0;
    const b = buf[at]!;
    let v: number;
    if (b <= 0x7f) v = b;
    else if (b === 0xcc || b === 0xd0) v = left < 2 ? 0 : b === 0xcc ? buf[at + 1]! : (buf[at + 1]! << 24) >> 24;
    else if (b === 0xcd || b === 0xd1) v = left < 3 ? 0 : b === 0xcd ? this.u16(at + 1) : (this.u16(at + 1) << 16) >> 16;
    else if (b === 0xce || b === 0xd2) v = left < 5 ? 0 : b === 0xce ? this.u32(at + 1) : this.u32(at + 1) | 0;
    else if (b === 0xcf || b === 0xd3) v = left < 9 ? 0 : this.int64At(at);
    else return 0;
    return Number.isSafeInteger(v) && v >= 1 ? v : 0;
  }

  checkDuplicates(base: number, top: number): void {
    const { buf, keyStart, keyEnd } = this;
    if (top - base <= 16) {
      for (let i = base; i < top; i++) {
        const si = keyStart[i]!;
        const len = keyEnd[i]! - si;
        for (let j = i + 1; j < top; j++) {
          const sj = keyStart[j]!;
          if (keyEnd[j]! - sj !== len) continue;
          let k = 0;
          while (k < len && buf[si + k] === buf[sj + k]) k++;
          if (k === len) return this.fail(`duplicate map key ${JSON.stringify(this.text(si, si + len))}`);
        }
      }
      return;
    }
    const seen = new Set<string>();
    for (let i = base; i < top; i++) {
      const key = this.text(keyStart[i]!, keyEnd[i]!);
      if (seen.has(key)) return this.fail(`duplicate map key ${JSON.stringify(key)}`);
      seen.add(key);
    }
  }

  text(start: number, stop: number): string {
    return utf8.decode(this.buf.subarray(start, stop));
  }

  mark(kind: WireMark['kind'], depth: number): void {
    const path: Array<string | number> = [];
    for (let d = 1; d <= depth; d++) {
      if (this.segKind[d] === ARRAY) path.push(this.segA[d]!);
      else path.push(this.segA[d]! < 0 ? '' : this.text(this.segA[d]!, this.segB[d]!));
    }
    (this.marks ??= []).push({ kind, path });
  }
}

const scanner = new Scanner();

/** Walks one MessagePack value in `bytes` (see the top of this file). */
export function scanMsgpack(bytes: Uint8Array): ScanResult {
  return scanner.run(bytes);
}
