// NDJSON lines encoded into chunks of whole lines. Each line's string dies
// young (it is encoded as soon as it is made). A working buffer at least half
// full is handed over as the chunk and a new one taken (copying a megabyte
// per megabyte of lines cost 7 % of the busy time of a burst); a smaller
// chunk is copied out at its exact size and the buffer reused. So a sink holds
// at most twice the bytes it counts.

/** Whole lines, each ending in '\n'. */
export interface LineChunk {
  bytes: Buffer;
  lines: number;
}

const BUFFER_BYTES = 1 << 20;

export class LineEncoder {
  private buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
  private used = 0;
  private lines = 0;
  private chunks: LineChunk[] = [];

  /** Adds one line (without its newline). */
  line(text: string): void {
    // Worst case for UTF-8: 3 bytes per UTF-16 unit, and the newline.
    const worst = text.length * 3 + 1;
    if (this.used + worst > this.buffer.length) {
      this.cut();
      if (worst > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(worst);
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    this.buffer[this.used++] = 0x0a;
    this.lines++;
  }

  /** Bytes encoded and not yet taken. */
  get pendingBytes(): number {
    let bytes = this.used;
    for (const chunk of this.chunks) bytes += chunk.bytes.length;
    return bytes;
  }

  /** The chunks encoded since the last take(), oldest first. */
  take(): LineChunk[] {
    this.cut();
    const chunks = this.chunks;
    this.chunks = [];
    // A buffer grown for one huge line goes back to the usual size.
    if (this.buffer.length > BUFFER_BYTES) this.buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
    return chunks;
  }

  private cut(): void {
    if (this.used === 0) return;
    let bytes: Buffer;
    if (this.used * 2 >= this.buffer.length) {
      bytes = this.buffer.subarray(0, this.used);
      this.buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
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
