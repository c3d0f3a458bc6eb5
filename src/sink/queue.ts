// The bounded queue of a socket sink: chunks of whole lines waiting for the
// connection, and the pieces of them handed to it whose write has not
// completed yet ("in flight"). Both count against the bound, so memory stays
// within it whatever the receiver does. When a chunk does not fit, the lines
// that fit are kept and the rest are dropped: the newest lines go, whole.
// The sink takes waiting lines in pieces of whole lines (peek, then take).
import { countLines, type LineChunk } from '../format/line-target';
import type { LineCount } from './stats';

/** First in, first out, without Array.shift's copying. */
class ChunkFifo {
  private items: Array<LineChunk | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(chunk: LineChunk): void {
    this.items.push(chunk);
  }

  peek(): LineChunk | undefined {
    return this.head === this.items.length ? undefined : this.items[this.head];
  }

  shift(): LineChunk | undefined {
    if (this.head === this.items.length) return undefined;
    const chunk = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return chunk;
  }

  /** Empties the FIFO; returns the lines and bytes it held. */
  clear(): LineCount {
    const count = { lines: 0, bytes: 0 };
    for (let i = this.head; i < this.items.length; i++) {
      const chunk = this.items[i] as LineChunk;
      count.lines += chunk.lines;
      count.bytes += chunk.bytes.length;
    }
    this.items = [];
    this.head = 0;
    return count;
  }
}

export class LineQueue {
  private readonly waiting = new ChunkFifo();
  private readonly inFlight = new ChunkFifo();
  /** Bytes waiting and in flight. */
  bytes = 0;
  /** Bytes and lines of the head waiting chunk already taken. */
  private headOffset = 0;
  private headLines = 0;

  constructor(readonly limitBytes: number) {}

  get waitingChunks(): number {
    return this.waiting.length;
  }

  get inFlightChunks(): number {
    return this.inFlight.length;
  }

  /** Queues what fits of chunk; returns what did not fit (lines, bytes), zero if all did. */
  offer(chunk: LineChunk): LineCount {
    const room = this.limitBytes - this.bytes;
    if (chunk.bytes.length <= room) {
      this.waiting.push(chunk);
      this.bytes += chunk.bytes.length;
      return { lines: 0, bytes: 0 };
    }
    // The longest prefix of whole lines that fits.
    const end = room > 0 ? chunk.bytes.lastIndexOf(0x0a, room - 1) + 1 : 0;
    const dropped = { lines: countLines(chunk.bytes, end), bytes: chunk.bytes.length - end };
    if (end > 0) {
      // Copied, so that the queue does not hold the dropped tail's memory.
      const kept = Buffer.allocUnsafeSlow(end);
      chunk.bytes.copy(kept, 0, 0, end);
      this.waiting.push({ bytes: kept, lines: chunk.lines - dropped.lines });
      this.bytes += end;
    }
    return dropped;
  }

  /**
   * The next waiting lines, not yet taken: whole lines up to maxBytes from where the last take ended
   * (one line alone when it is longer); undefined when none waits.
   */
  peek(maxBytes = Number.POSITIVE_INFINITY): Buffer | undefined {
    const head = this.waiting.peek();
    if (!head) return undefined;
    const start = this.headOffset;
    const left = head.bytes.length - start;
    if (left <= maxBytes) return start === 0 ? head.bytes : head.bytes.subarray(start);
    let end = head.bytes.lastIndexOf(0x0a, start + maxBytes - 1) + 1;
    if (end <= start) end = head.bytes.indexOf(0x0a, start) + 1;
    return head.bytes.subarray(start, end);
  }

  /** Puts the first `bytes` bytes of what peek() returned in flight (they must end a line); returns them. */
  take(bytes: number): LineChunk {
    const head = this.waiting.peek() as LineChunk;
    const start = this.headOffset;
    if (start === 0 && bytes === head.bytes.length) {
      this.waiting.shift();
      this.inFlight.push(head);
      return head;
    }
    const piece = { bytes: head.bytes.subarray(start, start + bytes), lines: 0 };
    piece.lines = start + bytes === head.bytes.length ? head.lines - this.headLines : countLines(piece.bytes);
    this.headOffset += bytes;
    this.headLines += piece.lines;
    if (this.headOffset === head.bytes.length) {
      this.waiting.shift();
      this.headOffset = 0;
      this.headLines = 0;
    }
    this.inFlight.push(piece);
    return piece;
  }

  /** The next waiting chunk (what is left of it), now in flight; undefined when none waits. */
  send(): LineChunk | undefined {
    const piece = this.peek();
    return piece ? this.take(piece.length) : undefined;
  }

  /** The oldest chunk in flight was written: it leaves the queue. */
  sent(): LineChunk | undefined {
    const chunk = this.inFlight.shift();
    if (chunk) this.bytes -= chunk.bytes.length;
    return chunk;
  }

  /** Removes every chunk in flight (their connection broke); returns their lines and bytes. */
  dropInFlight(): LineCount {
    const count = this.inFlight.clear();
    this.bytes -= count.bytes;
    return count;
  }

  /** Removes every waiting chunk; returns their lines and bytes. */
  dropWaiting(): LineCount {
    const count = this.waiting.clear();
    count.lines -= this.headLines;
    count.bytes -= this.headOffset;
    this.headOffset = 0;
    this.headLines = 0;
    this.bytes -= count.bytes;
    return count;
  }
}
