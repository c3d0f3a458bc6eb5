// NDJSON lines encoded into chunks of whole lines. Each line's string dies
// young (it is encoded as soon as it is made). A working buffer at least half
// full is handed over as the chunk and a new one taken (copying a megabyte
// per megabyte of lines cost 7 % of the busy time of a burst); a smaller
// chunk is copied out at its exact size and the buffer reused. So a sink holds
// at most twice the bytes it counts. A sink that is done with a chunk as soon
// as it takes it (a file, stdout) gets the working buffer whatever its fill
// (take(true)): a copy is a fresh buffer, hundreds of KiB a batch. A chunk's
// buffer the sink is done with comes back through recycle(): a fresh megabyte
// costs 256 page faults, and the dead ones are freed only by a GC, which V8
// starts after 64 MiB of them.

/** Whole lines, each ending in '\n'. */
export interface LineChunk {
  bytes: Buffer;
  lines: number;
}

const BUFFER_BYTES = 1 << 20;
/** Spare buffers kept (a batch's lines fit in a few). */
const MAX_SPARE = 4;

/** Where a formatter puts its lines: as text, or written straight into the buffer. */
export interface LineTarget {
  /** Adds one line (without its newline). */
  line(text: string): void;
  /** Room for one line of up to maxBytes (without its newline): write it into the returned buffer from `offset`. */
  reserve(maxBytes: number): Buffer;
  /** Where the reserved line starts. */
  readonly offset: number;
  /** Ends the reserved line at `end` (exclusive; at most offset + maxBytes). */
  commit(end: number): void;
}

export class LineEncoder implements LineTarget {
  private buffer: Buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
  private used = 0;
  private lines = 0;
  private chunks: LineChunk[] = [];
  /** Buffers back from the sink, to be used again. */
  private readonly spare: Buffer[] = [];

  /** Adds one line (without its newline). */
  line(text: string): void {
    // Worst case for UTF-8: 3 bytes per UTF-16 unit.
    const buffer = this.reserve(text.length * 3);
    this.commit(this.used + buffer.write(text, this.used, 'utf8'));
  }

  reserve(maxBytes: number): Buffer {
    const worst = maxBytes + 1; // and the newline
    if (this.used + worst > this.buffer.length) {
      this.cut();
      if (worst > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(worst);
    }
    return this.buffer;
  }

  get offset(): number {
    return this.used;
  }

  commit(end: number): void {
    this.buffer[end] = 0x0a;
    this.used = end + 1;
    this.lines++;
  }

  /** Bytes encoded and not yet taken. */
  get pendingBytes(): number {
    let bytes = this.used;
    for (const chunk of this.chunks) bytes += chunk.bytes.length;
    return bytes;
  }

  /**
   * The chunks encoded since the last take(), oldest first. `whole`: hand over the working buffer however
   * little it holds, for a sink done with it at once (then recycle() it).
   */
  take(whole = false): LineChunk[] {
    this.cut(whole);
    const chunks = this.chunks;
    this.chunks = [];
    // A buffer grown for one huge line goes back to the usual size.
    if (this.buffer.length > BUFFER_BYTES) this.buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
    return chunks;
  }

  /** Takes back a chunk's bytes its sink is done with (written or dropped); nobody may hold them any more. */
  recycle(bytes: Buffer): void {
    // Only whole working buffers handed over (a copied chunk has its own, smaller one).
    if (bytes.byteOffset === 0 && bytes.buffer.byteLength === BUFFER_BYTES && this.spare.length < MAX_SPARE)
      this.spare.push(Buffer.from(bytes.buffer, 0, BUFFER_BYTES));
  }

  private cut(whole = false): void {
    if (this.used === 0) return;
    let bytes: Buffer;
    if (whole || this.used * 2 >= this.buffer.length) {
      bytes = this.buffer.subarray(0, this.used);
      this.buffer = this.spare.pop() ?? Buffer.allocUnsafeSlow(BUFFER_BYTES);
    } else {
      bytes = Buffer.allocUnsafeSlow(this.used);
      this.buffer.copy(bytes, 0, 0, this.used);
    }
    this.chunks.push({ bytes, lines: this.lines });
    this.used = 0;
    this.lines = 0;
  }
}

/** Newlines in bytes[start, end). */
export function countLines(bytes: Buffer, start = 0, end = bytes.length): number {
  let count = 0;
  let at = bytes.indexOf(0x0a, start);
  while (at >= 0 && at < end) {
    count++;
    at = bytes.indexOf(0x0a, at + 1);
  }
  return count;
}
