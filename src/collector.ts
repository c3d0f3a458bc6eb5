// The collector: owns the reader (the native thread, or a test's fake) and the
// ring, and hands out records in batches when the consumer asks for them
// (pull-based: a slow consumer leaves data in the ring, then in the socket,
// and the kernel counts drops).
//
// Every event the kernel sent is accounted for: delivered (decoded from the
// ring) or lost (a gap record's count), and of the delivered, consumed (it
// reached the consumer's code) or discarded (the consumer left, or closed,
// before taking it). delivered = consumed + discarded + what a stream() still
// buffers.
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { DatagramDecoder, type DecodeCounters } from './datagram';
import { loadNative, type NativeReader, type NativeReaderOptions, type NativeStats } from './native';
import { resolveOptions, type CollectorOptions, type ResolvedOptions } from './options';
import type { CollectorRecord } from './records';
import { RingReader } from './ring/reader';

export interface CollectorStats {
  /** Event records (packets and flows) decoded from the ring: consumed + discarded + held by a stream(). */
  delivered: number;
  /** Of the delivered, those that reached the consumer (yielded by an iterator, returned by nextBatch, read from stream()). */
  consumed: number;
  /**
   * Of the delivered, those dropped because the consumer stopped before taking them: the rest of a batch
   * after `break`/`return`/throw in a loop, a destroyed stream's buffer, what close() found with nobody reading.
   */
  discarded: number;
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
  /** 'open'; 'closing' while close() hands over or counts what is left; 'closed'. */
  state: CollectorState;
}

export type CollectorState = 'open' | 'closing' | 'closed';

export interface BatchOptions {
  /** Most records in one batch (gap records included). Default: the collector's batchSize. */
  maxRecords?: number;
  /**
   * Wait up to this many ms for a batch to fill to maxRecords: a partial batch is yielded when its
   * first record has waited this long. Default 0: a batch is what the ring held when asked.
   */
  maxWaitMs?: number;
}

/** Opens the reader that fills the ring. The default is the native one; tests pass a fake. */
export type ReaderFactory = (options: NativeReaderOptions) => NativeReader;

const openNativeReader: ReaderFactory = (options) => new (loadNative().NativeReader)(options);

/** The error an aborted signal ends iteration with, shaped as Node's own (name 'AbortError', code 'ABORT_ERR'). */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message = 'netfilter-collector: the operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

function isEvent(record: CollectorRecord): boolean {
  return record.kind !== 'gap';
}

function countEvents(records: readonly CollectorRecord[], from = 0): number {
  let n = 0;
  for (let i = from; i < records.length; i++) if (records[i].kind !== 'gap') n++;
  return n;
}

export interface CollectorEvents {
  /** A failure after start; iterations reject with the same error. */
  error: [Error];
  /** The consumer has caught up: the ring is empty after records were delivered. */
  idle: [];
  /** close() has settled: everything is handed over or counted. */
  close: [];
}

export class Collector extends EventEmitter<CollectorEvents> implements AsyncIterable<CollectorRecord>, AsyncDisposable {
  private readonly options: ResolvedOptions;
  private readonly ring: RingReader;
  private readonly decoder: DatagramDecoder;
  private readonly reader: NativeReader;
  private readonly waiters = new Set<() => void>();
  private currentState: CollectorState = 'open';
  private closing: Promise<void> | null = null;
  private settleClose: (() => void) | null = null;
  /** Iterations in progress (batches(), for await, stream()): close() hands what is left to them. */
  private consumers = 0;
  /** Closing: the sockets have been read empty (nothing more can reach the ring). */
  private socketsEmpty = false;
  private failure: Error | null = null;
  private deliveredPackets = 0;
  private deliveredFlows = 0;
  private consumedEvents = 0;
  private discardedEvents = 0;
  /** Events pushed into stream()s and not yet read from them. */
  private streamHeld = 0;
  private deliveredSinceIdle = false;
  private readonly flowEvents = { new: 0, update: 0, destroy: 0, dump: 0 };
  /** Said once at start when conntrack accounting or timestamps are off. */
  readonly warnings: string[] = [];
  private lastNative: NativeStats | null = null;
  private readonly abortListener?: () => void;
  private readonly signal?: AbortSignal;

  /** `openReader` is the seam for tests without root (test/helpers/fake-reader.ts); leave it out. */
  constructor(options: CollectorOptions, openReader: ReaderFactory = openNativeReader) {
    super();
    this.options = resolveOptions(options);
    const o = this.options;
    // An aborted signal refuses to start, before a socket is opened.
    if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
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
    this.reader = openReader({
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
      const signal = options.signal;
      this.signal = signal;
      this.abortListener = () => this.abort(signal.reason);
      signal.addEventListener('abort', this.abortListener, { once: true });
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
      // The kernel reports an expired flow's DESTROY when its garbage collector reaps it, which scans
      // at most every 60 s (GC_SCAN_INTERVAL_MAX): without timestamps that arrival is all there is.
      this.warnings.push(
        `net.netfilter.nf_conntrack_timestamp is 0 ${where}: flows will have no kernel start/end times; ` +
          (completed
            ? 'a completed flow starts when the collector saw NEW and ends when it received DESTROY, '
            : "a flow's end is only the time the collector received DESTROY, ") +
          "which for a flow that timed out comes when the kernel's conntrack garbage collector reaps it, up to about 60 s late " +
          '(set it to 1, or use enableSysctls / --ct-enable-sysctls)',
      );
    }
    if (this.options.emitWarnings) {
      for (const warning of this.warnings) process.emitWarning(warning, { code: 'NETFILTER_COLLECTOR_CONNTRACK' });
    }
  }

  /** The reader put entries in the ring (or finished): wake whoever waits, and let a close progress. */
  private wake(): void {
    if (this.waiters.size > 0) {
      const waiters = [...this.waiters];
      this.waiters.clear();
      for (const resolve of waiters) resolve();
    }
    if (this.currentState === 'closing') this.progressClose();
  }

  private waitForData(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (timeoutMs === undefined) {
        this.waiters.add(resolve);
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
    });
  }

  /** Decodes what the ring holds, up to about batchSize records. Synchronous; [] when empty. */
  private take(budget = this.options.batchSize): CollectorRecord[] {
    const out: CollectorRecord[] = [];
    if (this.currentState === 'closed') return out;
    const decoder = this.decoder;
    try {
      this.ring.drain(
        (bytes, view, offset, length, source, flags, receivedUs) =>
          decoder.decode(bytes, view, offset, length, source, flags, receivedUs, out),
        budget,
      );
    } catch (err) {
      // Decoders do not throw on hostile bytes; this is a bug, and the consumer hears of it.
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    this.reader.release();
    for (let i = 0; i < out.length; i++) {
      const record = out[i];
      if (record.kind === 'packet') this.deliveredPackets++;
      else if (record.kind === 'flow') {
        this.deliveredFlows++;
        this.flowEvents[record.event]++;
      }
    }
    if (out.length > 0) this.deliveredSinceIdle = true;
    return out;
  }

  /** Whether nothing more will come: closed, or closing with the sockets read empty and the ring empty. */
  private exhausted(): boolean {
    if (this.currentState === 'closed') return true;
    if (this.currentState !== 'closing' || this.ring.pending() !== 0) return false;
    // The reader thread has stopped: what the sockets still hold is read here, into the ring.
    if (!this.socketsEmpty) this.socketsEmpty = this.reader.drainRemaining();
    return this.socketsEmpty && this.ring.pending() === 0;
  }

  /**
   * The next batch of records, waiting until there is one; null once closed and everything is handed
   * over. Rejects with the AbortError after an abort, or with the error after a failure. Counts as
   * consumed what it returns. (A loop over nextBatch() is not an iteration close() waits for: use batches().)
   */
  async nextBatch(): Promise<CollectorRecord[] | null> {
    const batch = await this.pull();
    if (batch !== null) this.consumedEvents += countEvents(batch);
    return batch;
  }

  /** Like nextBatch(), without counting the batch consumed (the caller does). */
  private async pull(deadline?: number): Promise<CollectorRecord[] | null> {
    for (;;) {
      if (this.failure) throw this.failure;
      const batch = this.take();
      if (this.failure) {
        this.discardedEvents += countEvents(batch);
        throw this.failure;
      }
      if (batch.length > 0) return batch;
      if (this.currentState === 'closing') {
        if (this.exhausted()) {
          this.progressClose();
          return null;
        }
        // More was read from the sockets into the ring.
        if (this.ring.pending() > 0) continue;
      }
      if (this.currentState === 'closed') return null;
      if (this.deliveredSinceIdle) {
        this.deliveredSinceIdle = false;
        this.emit('idle');
      }
      if (deadline !== undefined) {
        const left = deadline - performance.now();
        if (left <= 0) return [];
        await this.waitForData(left);
      } else {
        await this.waitForData();
      }
    }
  }

  /**
   * Records in arrays, as they arrive: the fast way to consume. With maxRecords and maxWaitMs, batches
   * by size or time (for a bulk request per batch). Leaving the loop early (break, return, a throw)
   * closes the collector; what is left is counted in `discarded`.
   */
  async *batches(options: BatchOptions = {}): AsyncGenerator<CollectorRecord[], void, undefined> {
    const maxRecords = options.maxRecords ?? this.options.batchSize;
    const maxWaitMs = options.maxWaitMs ?? 0;
    if (!Number.isInteger(maxRecords) || maxRecords < 1)
      throw new RangeError(`netfilter-collector: batches maxRecords must be a positive integer, got ${maxRecords}`);
    if (!(maxWaitMs >= 0)) throw new RangeError(`netfilter-collector: batches maxWaitMs must be a number of ms >= 0, got ${maxWaitMs}`);
    this.consumers++;
    // Records taken from the ring beyond maxRecords wait here for the next batch, since heldSince.
    let held: CollectorRecord[] = [];
    let heldSince = 0;
    try {
      for (;;) {
        let batch = held;
        let since = heldSince;
        held = [];
        while (batch.length < maxRecords) {
          if (batch.length === 0) {
            const first = await this.pull();
            if (first === null) return;
            batch = first;
            since = performance.now();
            continue;
          }
          // A partial batch waits for more until its first record has waited maxWaitMs.
          const more = await this.pull(since + maxWaitMs);
          if (more === null || more.length === 0) break;
          batch = batch.concat(more);
        }
        if (batch.length > maxRecords) {
          held = batch.slice(maxRecords);
          heldSince = since;
          batch = batch.slice(0, maxRecords);
        }
        this.consumedEvents += countEvents(batch);
        yield batch;
      }
    } finally {
      this.discardedEvents += countEvents(held);
      this.consumers--;
      await this.closeAfterLoop();
    }
  }

  /** Records one at a time. Leaving the loop early closes the collector; the rest of the batch is counted in `discarded`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<CollectorRecord, void, undefined> {
    this.consumers++;
    let batch: CollectorRecord[] = [];
    let next = 0;
    try {
      for (;;) {
        const got = await this.pull();
        if (got === null) return;
        batch = got;
        next = 0;
        while (next < batch.length) {
          const record = batch[next++];
          if (isEvent(record)) this.consumedEvents++;
          yield record;
        }
      }
    } finally {
      this.discardedEvents += countEvents(batch, next);
      this.consumers--;
      await this.closeAfterLoop();
    }
  }

  /** An iteration ended: a loop left early closes the collector; a finished one lets close() settle. */
  private async closeAfterLoop(): Promise<void> {
    if (this.currentState === 'open') await this.close();
    else if (this.currentState === 'closing') {
      this.progressClose();
      await this.closing;
    }
  }

  /**
   * A Node Readable in object mode, one record per chunk. Closing the collector ends it; destroying it
   * closes the collector, and the records it still buffered are counted in `discarded`.
   */
  stream(): Readable {
    const collector = this;
    let reading = false;
    let held = 0;
    class RecordStream extends Readable {
      // Every way of reading a Readable (for await, pipe, 'data') goes through read().
      override read(size?: number): CollectorRecord | null {
        const record = super.read(size) as CollectorRecord | null;
        if (record !== null && isEvent(record)) {
          held--;
          collector.streamHeld--;
          collector.consumedEvents++;
        }
        return record;
      }
    }
    this.consumers++;
    let ended = false;
    const release = (): void => {
      if (ended) return;
      ended = true;
      this.consumers--;
      this.discardedEvents += held;
      this.streamHeld -= held;
      held = 0;
    };
    const stream: Readable = new RecordStream({
      objectMode: true,
      highWaterMark: this.options.batchSize,
      read: () => {
        if (reading) return;
        reading = true;
        this.pull().then(
          (batch) => {
            reading = false;
            if (batch === null) {
              stream.push(null);
              return;
            }
            const events = countEvents(batch);
            held += events;
            this.streamHeld += events;
            // The whole batch is pushed; when the consumer is full, read() is not called again until it drains.
            for (const record of batch) stream.push(record);
          },
          (err: unknown) => stream.destroy(err as Error),
        );
      },
      destroy: (err, callback) => {
        // Ended normally (all read): nothing held. Destroyed early: what it held is discarded.
        release();
        if (this.currentState === 'open') void this.close();
        else if (this.currentState === 'closing') this.progressClose();
        callback(err);
      },
    });
    return stream;
  }

  /** The reader thread's own counters, per socket kind (for diagnostics). */
  nativeStats(): NativeStats {
    // After close() the reader is gone: its last counters stand.
    return this.currentState === 'closed' && this.lastNative ? this.lastNative : this.reader.stats();
  }

  /** Interface names known in the collector's namespace. */
  interfaces(): Map<number, string> {
    return this.decoder.links.entries();
  }

  /** 'open', 'closing' (close() is handing over or counting what is left) or 'closed'. */
  get state(): CollectorState {
    return this.currentState;
  }

  stats(): CollectorStats {
    const n = this.nativeStats();
    const c: DecodeCounters = this.decoder.counters;
    return {
      delivered: this.deliveredPackets + this.deliveredFlows,
      consumed: this.consumedEvents,
      discarded: this.discardedEvents,
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
      state: this.currentState,
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
   * Stops collecting and settles when everything the collector still held is handed over or counted.
   * At once: the kernel stops sending (NFLOG groups are unbound, which flushes the entries it was
   * batching and frees the groups for another collector). Then what the sockets and the ring hold goes
   * to the iterations in progress (batches(), for await, stream()); with none, it is decoded and counted
   * in `discarded` before close() returns, and the sockets are closed. Loss stays in `lost`. Never
   * rejects; idempotent (returns the same promise).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      this.settleClose = resolve;
    });
    this.currentState = 'closing';
    if (this.signal && this.abortListener) this.signal.removeEventListener('abort', this.abortListener);
    this.reader.finish();
    this.wake();
    this.progressClose();
    return this.closing;
  }

  /** `await using collector = createCollector(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** While closing: with nobody reading, count what is left as discarded; settle once all is read. */
  private progressClose(): void {
    if (this.currentState !== 'closing') return;
    if (this.consumers === 0 || this.failure) {
      do {
        for (;;) {
          const rest = this.take(Number.MAX_SAFE_INTEGER);
          if (rest.length === 0) break;
          this.discardedEvents += countEvents(rest);
        }
      } while (!this.exhausted());
    }
    if (!this.exhausted()) return;
    this.lastNative = this.reader.stats();
    this.reader.close();
    this.currentState = 'closed';
    this.wake();
    this.settleClose?.();
    this.settleClose = null;
    this.emit('close');
  }

  private abort(reason: unknown): void {
    this.fail(new AbortError(undefined, { cause: reason }), false);
  }

  /** A failure after start: iterations reject with it, 'error' is emitted when someone listens, and the collector closes. */
  private fail(err: Error, emit = true): void {
    if (this.failure) return;
    this.failure = err;
    if (emit && this.listenerCount('error') > 0) this.emit('error', err);
    void this.close();
    this.wake();
  }
}

/** Opens the sockets and starts collecting. Throws when the kernel refuses (see the error's message). */
export function createCollector(options: CollectorOptions): Collector {
  return new Collector(options);
}
