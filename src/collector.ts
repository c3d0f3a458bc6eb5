// The collector: owns the native reader and the ring, and hands out records
// in batches when the consumer asks for them (pull-based: a slow consumer
// leaves data in the ring, then in the socket, and the kernel counts drops).
import { Readable } from 'node:stream';
import { DatagramDecoder, type DecodeCounters } from './datagram';
import { loadNative, type NativeReader, type NativeStats } from './native';
import { resolveOptions, type CollectorOptions, type ResolvedOptions } from './options';
import type { CollectorRecord } from './records';
import { RingReader } from './ring/reader';

export interface CollectorStats {
  /** Event records (packets and flows) handed to the consumer. */
  delivered: number;
  /** Of which packet records (NFLOG) and flow records (conntrack). */
  packets: number;
  flows: number;
  /** Flow records by event. */
  flowsNew: number;
  flowsUpdate: number;
  flowsDestroy: number;
  /** Flows of table dumps (at start, or to resynchronise after an overflow). */
  dumpedFlows: number;
  /** Entries known lost: the sum of the gap records' counts. */
  lost: number;
  /** Gap records produced. */
  gaps: number;
  /** Times the kernel reported a socket overflow (ENOBUFS). */
  enobufs: number;
  /**
   * True when the kernel reported drops (ENOBUFS) that no later entry's
   * sequence number has counted yet: `lost` is then a lower bound.
   */
  lossUncounted: boolean;
  /** Datagrams cut because they were longer than the reader's slot. */
  truncated: number;
  /** Times the ring was full and the reader waited for the consumer. */
  ringFull: number;
  /** Entries with a decode fault (delivered with decodeError set). */
  decodeErrors: number;
  /** Datagrams and bytes the reader thread received. */
  datagrams: number;
  bytes: number;
  /** Bytes in the ring waiting to be decoded. */
  ringPending: number;
  ringSize: number;
}

export class Collector implements AsyncIterable<CollectorRecord> {
  private readonly options: ResolvedOptions;
  private readonly ring: RingReader;
  private readonly decoder: DatagramDecoder;
  private readonly reader: NativeReader;
  private waiter: (() => void) | null = null;
  private closed = false;
  private deliveredPackets = 0;
  private deliveredFlows = 0;
  private readonly flowEvents = { new: 0, update: 0, destroy: 0, dump: 0 };
  /** Said once at start when conntrack accounting or timestamps are off. */
  readonly warnings: string[] = [];
  private lastNative: NativeStats | null = null;
  private readonly abortListener?: () => void;
  private readonly signal?: AbortSignal;

  constructor(options: CollectorOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    const native = loadNative();
    this.ring = new RingReader(o.ringSize);
    this.decoder = new DatagramDecoder({
      labels: o.labels,
      includePayload: o.includePayload,
      interfaceNames: o.interfaceNames,
      boundGroups: o.sequence ? o.groups.map((g) => g.group) : [],
      zone: o.conntrack?.zone,
      flowFilter: o.conntrack?.native.filter,
      completedFlows: o.conntrack?.completed ? o.conntrack.completedTableSize : undefined,
    });
    this.reader = new native.NativeReader({
      ring: this.ring.buffer,
      maxDatagram: o.maxDatagram,
      netns: o.netns,
      rcvbuf: o.socketBuffer,
      nflogGroups: o.groups,
      nflogBufferSize: o.nflogBufferSize,
      links: o.interfaceNames,
      conntrack: o.conntrack?.native,
      onData: () => this.wake(),
    });
    if (o.conntrack) this.checkConntrackSettings(o.conntrack.completed);
    if (options.signal) {
      this.signal = options.signal;
      this.abortListener = () => this.close();
      if (options.signal.aborted) this.close();
      else options.signal.addEventListener('abort', this.abortListener, { once: true });
    }
  }

  /** Without accounting and timestamps, flows have no bytes, packets or start/end: say so once. */
  private checkConntrackSettings(completed: boolean): void {
    const settings = this.reader.conntrackSettings();
    if (!settings) return;
    const where = this.options.netns ? `in namespace ${this.options.netns}` : 'in this namespace';
    if (settings.accounting === 0) {
      this.warnings.push(
        `net.netfilter.nf_conntrack_acct is 0 ${where}: flows will have no byte or packet counts ` +
          '(set it to 1, or use the conntrack option enableSysctls / --ct-enable-sysctls)',
      );
    }
    if (settings.timestamps === 0) {
      this.warnings.push(
        `net.netfilter.nf_conntrack_timestamp is 0 ${where}: flows will have no kernel start/end times` +
          (completed ? '; completed flows use the times the collector saw NEW and DESTROY (a bounded table)' : '') +
          ' (set it to 1, or use enableSysctls / --ct-enable-sysctls)',
      );
    }
    for (const warning of this.warnings) process.emitWarning(warning, { code: 'NETFILTER_COLLECTOR_CONNTRACK' });
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter();
    }
  }

  /** Decodes what the ring holds, up to about batchSize records. Synchronous; [] when empty. */
  private drain(): CollectorRecord[] {
    const out: CollectorRecord[] = [];
    const decoder = this.decoder;
    this.ring.drain(
      (bytes, view, offset, length, source, flags, receivedUs) =>
        decoder.decode(bytes, view, offset, length, source, flags, receivedUs, out),
      this.options.batchSize,
    );
    if (!this.closed) this.reader.release();
    return out;
  }

  /** The next batch of records, waiting until there is one; null once closed. */
  async nextBatch(): Promise<CollectorRecord[] | null> {
    for (;;) {
      // After close() the ring is still drained: what the kernel already handed over is delivered.
      const batch = this.drain();
      if (batch.length > 0) {
        for (let i = 0; i < batch.length; i++) {
          const record = batch[i];
          if (record.kind === 'packet') this.deliveredPackets++;
          else if (record.kind === 'flow') {
            this.deliveredFlows++;
            this.flowEvents[record.event]++;
          }
        }
        return batch;
      }
      if (this.closed) return null;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  /** Records in arrays, as they arrive: the fast way to consume. */
  async *batches(): AsyncGenerator<CollectorRecord[], void, undefined> {
    for (;;) {
      const batch = await this.nextBatch();
      if (batch === null) return;
      yield batch;
    }
  }

  /** Records one at a time. */
  async *[Symbol.asyncIterator](): AsyncGenerator<CollectorRecord, void, undefined> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** A Node Readable in object mode, one record per chunk. Closing the collector ends it. */
  stream(): Readable {
    let reading = false;
    const stream = new Readable({
      objectMode: true,
      highWaterMark: this.options.batchSize,
      read: () => {
        if (reading) return;
        reading = true;
        this.nextBatch().then(
          (batch) => {
            reading = false;
            if (batch === null) {
              stream.push(null);
              return;
            }
            // The whole batch is pushed; when the consumer is full, read() is not called again until it drains.
            for (const record of batch) stream.push(record);
          },
          (err: unknown) => stream.destroy(err as Error),
        );
      },
      destroy: (err, callback) => {
        this.close();
        callback(err);
      },
    });
    return stream;
  }

  /** The reader thread's own counters, per socket kind (for diagnostics). */
  nativeStats(): NativeStats {
    // After close() the reader is gone: its last counters stand.
    return this.closed && this.lastNative ? this.lastNative : this.reader.stats();
  }

  /** Interface names known in the collector's namespace. */
  interfaces(): Map<number, string> {
    return this.decoder.links.entries();
  }

  stats(): CollectorStats {
    const n = this.nativeStats();
    const c: DecodeCounters = this.decoder.counters;
    return {
      delivered: this.deliveredPackets + this.deliveredFlows,
      packets: this.deliveredPackets,
      flows: this.deliveredFlows,
      flowsNew: this.flowEvents.new,
      flowsUpdate: this.flowEvents.update,
      flowsDestroy: this.flowEvents.destroy,
      dumpedFlows: c.dumpedFlows,
      lost: c.lost,
      gaps: c.gaps,
      enobufs: n.enobufs,
      lossUncounted: c.unresolvedEnobufs > 0,
      truncated: n.truncated,
      ringFull: n.ringFull,
      decodeErrors: c.decodeErrors,
      datagrams: n.datagrams,
      bytes: n.bytes,
      ringPending: this.ring.pending(),
      ringSize: this.options.ringSize,
    };
  }

  /** Whether the collector keeps the process alive while it waits (default: it does). */
  ref(): this {
    this.reader.ref();
    return this;
  }

  unref(): this {
    this.reader.unref();
    return this;
  }

  /**
   * Stops the reader thread and closes the sockets. Iterations still deliver
   * what the ring holds, then end. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.lastNative = this.reader.stats();
    this.closed = true;
    this.reader.close();
    if (this.signal && this.abortListener) this.signal.removeEventListener('abort', this.abortListener);
    this.wake();
  }
}

/** Opens the sockets and starts collecting. Throws when the kernel refuses (see the error's message). */
export function createCollector(options: CollectorOptions): Collector {
  return new Collector(options);
}
