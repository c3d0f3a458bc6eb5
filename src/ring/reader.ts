// The consumer side of the ring: walks the entries the native reader wrote,
// in place, and hands each datagram to a visitor. See layout.ts.
import { DATA_OFFSET, ENTRY_HEADER_BYTES, READ_POS_OFFSET, WRAP_MARK, WRITE_POS_OFFSET, align8 } from './layout';

/** Called for each datagram: `bytes` is a view of the whole ring; the datagram is bytes[offset, offset+length). */
export type DatagramVisitor = (
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  length: number,
  source: number,
  flags: number,
  receivedUs: number,
  netns: number,
) => number;

export class RingReader {
  readonly buffer: ArrayBuffer;
  readonly capacity: number;
  private readonly positions: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 << 16 || capacity > 1 << 30 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two between 64 KiB and 1 GiB, got ${capacity}`);
    }
    this.capacity = capacity;
    this.buffer = new ArrayBuffer(DATA_OFFSET + capacity);
    this.positions = new Uint32Array(this.buffer, 0, DATA_OFFSET / 4);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  private held = false;

  /** Called by a visitor that took only part of its datagram: the next drain visits it again first. */
  hold(): void {
    this.held = true;
  }

  /** Bytes written and not yet consumed. */
  pending(): number {
    return (this.writePos() - this.readPos()) >>> 0;
  }

  /** The write position (mod 2^32): everything the reader wrote so far ends here. */
  writePos(): number {
    return Atomics.load(this.positions, WRITE_POS_OFFSET / 4);
  }

  /** The read position (mod 2^32). */
  readPos(): number {
    return Atomics.load(this.positions, READ_POS_OFFSET / 4);
  }

  /**
   * Visits datagrams in order until the ring is empty or the visitors have
   * reported at least `budget` units (the visitor returns how many it
   * produced). Consumed space is released before returning. Returns the units.
   */
  drain(visit: DatagramVisitor, budget: number): number {
    const mask = this.capacity - 1;
    const end = this.writePos();
    let pos = this.readPos();
    let produced = 0;
    this.held = false;
    while (pos !== end && produced < budget) {
      const at = DATA_OFFSET + (pos & mask);
      const length = this.view.getUint32(at, true);
      if (length === WRAP_MARK) {
        pos = (pos + (this.capacity - (pos & mask))) >>> 0;
        continue;
      }
      const source = this.bytes[at + 4];
      const flags = this.bytes[at + 5];
      const netns = this.view.getUint16(at + 6, true);
      const receivedUs = this.view.getFloat64(at + 8, true);
      produced += visit(this.bytes, this.view, at + ENTRY_HEADER_BYTES, length, source, flags, receivedUs, netns);
      // The visitor has not finished this datagram: it stays in the ring, the first of the next drain.
      if (this.held) break;
      pos = (pos + ENTRY_HEADER_BYTES + align8(length)) >>> 0;
    }
    Atomics.store(this.positions, READ_POS_OFFSET / 4, pos);
    return produced;
  }
}
