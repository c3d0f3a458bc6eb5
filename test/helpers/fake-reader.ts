// A reader without a kernel, for unit tests of the collector: it writes ring
// entries exactly as native/reader.cc does (a recv slot of header + maxDatagram
// reserved, datagrams packed one after the other, 16-byte headers, 8-aligned,
// WRAP_MARK when the tail is too short for a slot, or early when the ring is
// empty past REWIND_BYTES), holds what does not fit
// "in the socket" until JS releases room; finish() flushes what the "kernel"
// still batched into the socket and stops the "thread", after which only
// drainRemaining() moves the socket into the ring. onData is called
// asynchronously and coalesced, as uv_async does.
import type { ReaderFactory } from '../../src/collector';
import type { NativeConntrackSettings, NativeNamespace, NativeReader, NativeReaderOptions, NativeStats } from '../../src/native';
import {
  DATA_OFFSET,
  ENTRY_HEADER_BYTES,
  FLAG_ENOBUFS,
  READ_POS_OFFSET,
  REWIND_BYTES,
  WRAP_MARK,
  WRITE_POS_OFFSET,
  align8,
} from '../../src/ring/layout';

interface Datagram {
  source: number;
  flags: number;
  netns: number;
  bytes: Uint8Array;
}

/** Datagrams per recvmmsg, as kBatch in native/reader.h. */
const BATCH = 64;

export class FakeReader implements NativeReader {
  readonly options: NativeReaderOptions;
  /** Datagrams the "kernel" has sent and the reader has not put in the ring yet. */
  readonly socket: Datagram[] = [];
  /** Datagrams the "kernel" still batches (NFLOG qthreshold): sent when finish() unbinds the groups. */
  readonly batched: Datagram[] = [];
  conntrack: NativeConntrackSettings | null = null;
  closed = false;
  private readonly positions: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly capacity: number;
  private readonly slot: number;
  private write: number;
  private waiting = false;
  private finishing = false;
  private wakeScheduled = false;
  private readonly counters: NativeStats = {
    datagrams: 0,
    bytes: 0,
    enobufs: 0,
    truncated: 0,
    ringFull: 0,
    reads: 0,
    wakeups: 0,
    conntrackEvents: 0,
    conntrackEnobufs: 0,
    conntrackDumps: 0,
  };

  constructor(options: NativeReaderOptions) {
    this.options = options;
    this.capacity = options.ring.byteLength - DATA_OFFSET;
    this.positions = new Uint32Array(options.ring, 0, DATA_OFFSET / 4);
    this.bytes = new Uint8Array(options.ring);
    this.view = new DataView(options.ring);
    this.slot = align8(ENTRY_HEADER_BYTES + options.maxDatagram);
    this.write = Atomics.load(this.positions, WRITE_POS_OFFSET / 4);
  }

  /** The kernel sends a datagram: it waits in the socket until the ring has room. */
  send(source: number, bytes: Uint8Array, netns = 0): void {
    this.socket.push({ source, flags: 0, netns, bytes });
    this.pump();
  }

  /** recv reported ENOBUFS: a zero-length entry in order with the datagrams around it. */
  enobufs(source: number): void {
    this.counters.enobufs++;
    this.socket.push({ source, flags: FLAG_ENOBUFS, netns: 0, bytes: new Uint8Array(0) });
    this.pump();
  }

  /** Bytes in the ring not yet consumed by JS. */
  pending(): number {
    return (Atomics.load(this.positions, WRITE_POS_OFFSET / 4) - Atomics.load(this.positions, READ_POS_OFFSET / 4)) >>> 0;
  }

  /** The write position (wraps at 2^32), to check that a test went round the ring. */
  get writePosition(): number {
    return this.write;
  }

  stats(): NativeStats {
    return { ...this.counters };
  }

  conntrackSettings(): NativeConntrackSettings | null {
    return this.conntrack;
  }

  /** One namespace, the current one (index 0). */
  namespace(index = 0): NativeNamespace | null {
    return index === 0 ? { name: '', inode: 0, attached: !this.closed, stats: this.stats() } : null;
  }

  attach(): number {
    throw new Error('the fake reader has one namespace');
  }

  detach(): void {}

  release(): void {
    if (this.waiting && !this.finishing) {
      this.waiting = false;
      this.pump();
    }
  }

  finish(): void {
    if (this.finishing || this.closed) return;
    this.finishing = true;
    // Unbinding flushes the kernel's batch into the socket; the thread stops.
    this.socket.push(...this.batched.splice(0));
  }

  drainRemaining(): boolean {
    if (this.closed) return true;
    if (!this.finishing) return false;
    this.waiting = false;
    this.pump();
    return this.socket.length === 0;
  }

  close(): void {
    this.closed = true;
  }

  ref(): void {}
  unref(): void {}

  /** As Reader::Drain: reserve a slot, pack up to BATCH datagrams into the room, commit, wake. */
  private pump(): void {
    if (this.closed) return;
    while (this.socket.length > 0) {
      const region = this.reserve(this.slot);
      if (region === null) {
        this.waiting = true;
        this.counters.ringFull++;
        return;
      }
      const count = Math.min(BATCH, Math.floor(region.room / this.slot), this.socket.length);
      let used = 0;
      for (let i = 0; i < count; i++) {
        const d = this.socket.shift() as Datagram;
        const length = Math.min(d.bytes.length, this.options.maxDatagram);
        const entry = region.at + used;
        this.view.setUint32(entry, length, true);
        this.bytes[entry + 4] = d.source;
        this.bytes[entry + 5] = d.flags;
        this.view.setUint16(entry + 6, d.netns, true);
        this.view.setFloat64(entry + 8, Date.now() * 1000, true);
        this.bytes.set(d.bytes.subarray(0, length), entry + ENTRY_HEADER_BYTES);
        used += ENTRY_HEADER_BYTES + align8(length);
        if (!(d.flags & FLAG_ENOBUFS)) {
          this.counters.datagrams++;
          this.counters.bytes += length;
        }
      }
      this.counters.reads++;
      this.commit(used);
    }
  }

  /** As RingProducer::Reserve: the data-area offset of a free region of at least `need` bytes, or null. */
  private reserve(need: number): { at: number; room: number } | null {
    const read = Atomics.load(this.positions, READ_POS_OFFSET / 4);
    const free = this.capacity - ((this.write - read) >>> 0);
    const offset = this.write & (this.capacity - 1);
    const tail = this.capacity - offset;
    const rewind = read === this.write && offset >= REWIND_BYTES && offset >= need;
    if (tail >= need && !rewind) {
      if (free < need) return null;
      return { at: DATA_OFFSET + offset, room: Math.min(tail, free) };
    }
    if (free < tail || free - tail < need) return null;
    this.view.setUint32(DATA_OFFSET + offset, WRAP_MARK, true);
    this.write = (this.write + tail) >>> 0;
    return { at: DATA_OFFSET, room: free - tail };
  }

  private commit(bytes: number): void {
    this.write = (this.write + bytes) >>> 0;
    Atomics.store(this.positions, WRITE_POS_OFFSET / 4, this.write);
    this.wake();
  }

  private wake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    this.counters.wakeups++;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (!this.closed) this.options.onData();
    });
  }
}

/** A factory for `new Collector(options, factory)` and the fake it made. */
export function fakeReaderFactory(setup?: (reader: FakeReader) => void): { factory: ReaderFactory; reader: () => FakeReader } {
  let made: FakeReader | undefined;
  return {
    factory: (options) => {
      made = new FakeReader(options);
      setup?.(made);
      return made;
    },
    reader: () => {
      if (!made) throw new Error('the collector has not opened its reader');
      return made;
    },
  };
}
