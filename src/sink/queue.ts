// The bounded queue of a socket sink: chunks of whole lines waiting for the
// connection, and those handed to it whose write has not completed yet ("in
// flight"). Both count against the bound, so memory stays within it whatever
// the receiver does. When a chunk does not fit, the lines that fit are kept
// and the rest are dropped: the newest lines go, whole.
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

  /** The oldest waiting chunk, now in flight; undefined when none waits. */
  send(): LineChunk | undefined {
    const chunk = this.waiting.shift();
    if (chunk) this.inFlight.push(chunk);
    return chunk;
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
    this.bytes -= count.bytes;
    return count;
  }
}
