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
import { findNamespaces, namespaceInode } from './netns/find';
import { resolveOptions, type CollectorOptions, type NamespaceChange, type ResolvedOptions } from './options';
import type { CollectorRecord, NetnsLabel, RecordsFor } from './records';
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
  /** Per namespace attached now (one entry, name '', without namespaces). */
  namespaces: NamespaceStats[];
  /** Namespaces detached so far (their counts stay in the totals above). */
  namespacesDetached: number;
}

/** One namespace's share of the counters. */
export interface NamespaceStats {
  /** '' for the collector's own namespace. */
  name: string;
  inode: number;
  /** Packet and flow records produced from it. */
  packets: number;
  flows: number;
  lost: number;
  gaps: number;
  enobufs: number;
  decodeErrors: number;
  datagrams: number;
  bytes: number;
  ringFull: number;
}

/** A namespace the collector reads: its ring index, decoder and where it is in its life. */
interface Namespace {
  index: number;
  name: string;
  /** What the reader opened: the name, or a path. */
  path: string;
  inode: number;
  decoder: DatagramDecoder;
  /** Set when detached: the ring's write position then; its index is free once the reader passes it. */
  retiredAt: number | undefined;
}

const DECODE_SUMS = ['packets', 'flows', 'dumpedFlows', 'lost', 'gaps', 'decodeErrors', 'unresolvedEnobufs'] as const;

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

/** Longest close() counts what nobody reads in one turn of the event loop, ms. */
const DISCARD_SLICE_MS = 20;

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

/**
 * R: the records it yields. createCollector() picks it from the options (RecordsFor): with sequence
 * numbers on (the default) packet records have `seq: number`.
 */
export class Collector<R extends CollectorRecord = CollectorRecord>
  extends EventEmitter<CollectorEvents>
  implements AsyncIterable<R>, AsyncDisposable
{
  private readonly options: ResolvedOptions;
  private readonly ring: RingReader;
  private readonly reader: NativeReader;
  /** By ring index; undefined where free. */
  private readonly spaces: Array<Namespace | undefined> = [];
  private readonly byPath = new Map<string, Namespace>();
  private readonly freeIndexes: number[] = [];
  private readonly retiring: Namespace[] = [];
  /** Decode counters of namespaces that are gone. */
  private readonly retired: Record<(typeof DECODE_SUMS)[number], number> = {
    packets: 0,
    flows: 0,
    dumpedFlows: 0,
    lost: 0,
    gaps: 0,
    decodeErrors: 0,
    unresolvedEnobufs: 0,
  };
  private detachedCount = 0;
  private watchTimer: NodeJS.Timeout | undefined;
  /** Paths that could not be attached, with the inode then, so a failure is said once. */
  private readonly failed = new Map<string, number>();
  private readonly ownInode: number;
  private readonly waiters = new Set<() => void>();
  private currentState: CollectorState = 'open';
  private closing: Promise<void> | null = null;
  private settleClose: (() => void) | null = null;
  /** Iterations in progress (batches(), for await, stream()): close() hands what is left to them. */
  private consumers = 0;
  /** Closing with nobody reading: the next slice of counting what is left. */
  private discardTimer: NodeJS.Immediate | undefined;
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
  private readonly lastNamespaces = new Map<number, NativeStats>();
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
    this.ownInode = namespaceInode('/proc/thread-self/ns/net');
    this.reader = openReader({
      ring: this.ring.buffer,
      maxDatagram: o.maxDatagram,
      namespaces: o.netns,
      rcvbuf: o.socketBuffer,
      nflogGroups: o.groups,
      nflogBufferSize: o.nflogBufferSize,
      links: o.interfaceNames,
      conntrack: o.conntrack?.native,
      onData: () => this.wake(),
    });
    o.netns.forEach((path, index) => {
      const space = this.adopt(index, path, path);
      if (path !== '') this.tell({ change: 'attached', name: path, inode: space.inode });
    });
    if (o.allNetns) {
      this.watchNamespaces();
      this.watchTimer = setInterval(() => this.watchNamespaces(), o.allNetns.pollMs);
      this.watchTimer.unref();
    }
    if (options.signal) {
      const signal = options.signal;
      this.signal = signal;
      this.abortListener = () => this.abort(signal.reason);
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
  }

  /** A namespace the reader has opened under `index`: its decoder and bookkeeping. */
  private adopt(index: number, name: string, path: string): Namespace {
    const o = this.options;
    const info = this.reader.namespace(index);
    const inode = info?.inode ?? 0;
    const label: NetnsLabel | undefined = name === '' ? undefined : { name, inode };
    const decoder = new DatagramDecoder({
      labels: o.labels,
      includePayload: o.includePayload,
      interfaceNames: o.interfaceNames,
      boundGroups: o.sequence ? o.groups.map((g) => g.group) : [],
      zone: o.conntrack?.zone,
      flowFilter: o.conntrack?.native.filter,
      completedFlows: o.conntrack?.completed ? o.conntrack.completedTableSize : undefined,
      netns: label,
    });
    const space: Namespace = { index, name, path, inode, decoder, retiredAt: undefined };
    this.spaces[index] = space;
    this.byPath.set(path, space);
    if (o.conntrack) this.checkConntrackSettings(index, name, o.conntrack.completed);
    return space;
  }

  private tell(change: NamespaceChange): void {
    this.options.onNamespace?.(change);
  }

  /**
   * Starts collecting in one more namespace (a name under /run/netns or a path), into the same stream.
   * `name` is what its records say (default: the path). Throws when it cannot be opened.
   */
  attach(path: string, name: string = path): NetnsLabel {
    if (this.currentState !== 'open') throw new Error(`netfilter-collector: the collector is ${this.currentState}`);
    if (typeof path !== 'string' || path === '') throw new TypeError('netfilter-collector: attach needs a namespace name or path');
    const present = this.byPath.get(path);
    if (present) return { name: present.name, inode: present.inode };
    const index = this.freeIndexes.length > 0 ? (this.freeIndexes.pop() as number) : this.spaces.length;
    if (index > 65535) throw new RangeError('netfilter-collector: a collector reads at most 65536 namespaces at once');
    try {
      this.reader.attach(index, path);
    } catch (err) {
      if (index < this.spaces.length) this.freeIndexes.push(index);
      throw err;
    }
    const space = this.adopt(index, name, path);
    this.tell({ change: 'attached', name, inode: space.inode });
    return { name, inode: space.inode };
  }

  /**
   * Stops collecting in a namespace (by the path it was attached with). What it already sent is still
   * delivered. Returns false when it was not attached.
   */
  detach(path: string, reason = 'detached'): boolean {
    const space = this.byPath.get(path);
    // Closing: the reader has stopped and reads every namespace's sockets to the end.
    if (!space || this.currentState !== 'open') return false;
    this.reader.detach(space.index);
    this.byPath.delete(path);
    space.retiredAt = this.ring.writePos();
    this.retiring.push(space);
    this.detachedCount++;
    this.tell({ change: 'detached', name: space.name, inode: space.inode, reason });
    this.retire();
    return true;
  }

  /** Frees the indexes of detached namespaces whose last entries have been read. */
  private retire(): void {
    if (this.retiring.length === 0) return;
    const read = this.ring.readPos();
    for (let i = this.retiring.length - 1; i >= 0; i--) {
      const space = this.retiring[i];
      if (((read - (space.retiredAt as number)) | 0) < 0) continue;
      this.retiring.splice(i, 1);
      for (const key of DECODE_SUMS) this.retired[key] += space.decoder.counters[key];
      this.spaces[space.index] = undefined;
      this.freeIndexes.push(space.index);
    }
  }

  /** Attaches namespaces that appeared and detaches those that vanished (allNetns). */
  private watchNamespaces(): void {
    const all = this.options.allNetns;
    if (!all || this.currentState !== 'open') return;
    const listed = new Set(this.options.netns);
    const skip = new Set<number>([this.ownInode]);
    for (const path of listed) {
      const space = this.byPath.get(path);
      if (space) skip.add(space.inode);
    }
    const found = findNamespaces(all, skip);
    const present = new Set<string>();
    for (const ns of found) {
      present.add(ns.path);
      const attached = this.byPath.get(ns.path);
      // Same path, another namespace (a name deleted and made again between two looks): start over.
      if (attached && attached.inode !== ns.inode) this.detach(ns.path, 'replaced by another namespace of the same name');
      else if (attached) continue;
      if (this.failed.get(ns.path) === ns.inode) continue;
      try {
        this.attach(ns.path, ns.name);
        this.failed.delete(ns.path);
      } catch (err) {
        this.failed.set(ns.path, ns.inode);
        this.tell({ change: 'failed', name: ns.name, inode: ns.inode, reason: (err as Error).message });
      }
    }
    for (const path of [...this.byPath.keys()]) {
      if (!listed.has(path) && !present.has(path)) this.detach(path, 'the namespace is gone');
    }
    for (const path of [...this.failed.keys()]) if (!present.has(path)) this.failed.delete(path);
  }

  /** Without accounting and timestamps, flows have no bytes, packets or start/end: say so once. */
  private checkConntrackSettings(index: number, name: string, completed: boolean): void {
    const settings = this.reader.conntrackSettings(index);
    if (!settings) return;
    const where = name ? `in namespace ${name}` : 'in this namespace';
    const warnings: string[] = [];
    if (settings.accounting === 0) {
      warnings.push(
        `net.netfilter.nf_conntrack_acct is 0 ${where}: flows will have no byte or packet counts ` +
          '(set it to 1, or use the conntrack option enableSysctls / --ct-enable-sysctls)',
      );
    }
    if (settings.timestamps === 0) {
      // The kernel reports an expired flow's DESTROY when its garbage collector reaps it, which scans
      // at most every 60 s (GC_SCAN_INTERVAL_MAX): without timestamps that arrival is all there is.
      warnings.push(
        `net.netfilter.nf_conntrack_timestamp is 0 ${where}: flows will have no kernel start/end times; ` +
          (completed
            ? 'a completed flow starts when the collector saw NEW and ends when it received DESTROY, '
            : "a flow's end is only the time the collector received DESTROY, ") +
          "which for a flow that timed out comes when the kernel's conntrack garbage collector reaps it, up to about 60 s late " +
          '(set it to 1, or use enableSysctls / --ct-enable-sysctls)',
      );
    }
    for (const warning of warnings) {
      // A warning bound to the collector's list, which must not grow with namespaces that come and go.
      if (this.warnings.length < 100) this.warnings.push(warning);
      if (this.options.emitWarnings) process.emitWarning(warning, { code: 'NETFILTER_COLLECTOR_CONNTRACK' });
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

  /** Decodes what the ring holds, up to batchSize records (a datagram's rest waits). Synchronous; [] when empty. */
  private take(budget = this.options.batchSize): CollectorRecord[] {
    const out: CollectorRecord[] = [];
    if (this.currentState === 'closed') return out;
    const spaces = this.spaces;
    try {
      const ring = this.ring;
      ring.drain((bytes, view, offset, length, source, flags, receivedUs, netns) => {
        const space = spaces[netns];
        if (!space) return 0;
        // Up to the budget: the rest of a datagram waits in the ring for the next take.
        const n = space.decoder.decode(bytes, view, offset, length, source, flags, receivedUs, out, budget - out.length);
        if (space.decoder.unfinished) ring.hold();
        return n;
      }, budget);
    } catch (err) {
      // Decoders do not throw on hostile bytes; this is a bug, and the consumer hears of it.
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    this.reader.release();
    this.retire();
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
  async nextBatch(): Promise<R[] | null> {
    const batch = await this.pull();
    if (batch !== null) this.consumedEvents += countEvents(batch);
    return batch as R[] | null;
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
  async *batches(options: BatchOptions = {}): AsyncGenerator<R[], void, undefined> {
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
        yield batch as R[];
      }
    } finally {
      this.discardedEvents += countEvents(held);
      this.consumers--;
      await this.closeAfterLoop();
    }
  }

  /** Records one at a time. Leaving the loop early closes the collector; the rest of the batch is counted in `discarded`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<R, void, undefined> {
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
          yield record as R;
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

  /** Interface names known in a namespace (default: the first the collector opened). */
  interfaces(path?: string): Map<number, string> {
    const space = path === undefined ? this.spaces.find((s) => s !== undefined) : this.byPath.get(path);
    return space ? space.decoder.links.entries() : new Map();
  }

  /** The namespaces attached now: name and inode (name '' for the collector's own). */
  namespaces(): NetnsLabel[] {
    return [...this.byPath.values()].map((s) => ({ name: s.name, inode: s.inode }));
  }

  /** Decode counters summed over every namespace, gone ones included. */
  private decodeTotals(): DecodeCounters & { datagrams: number; filteredFlows: number } {
    const total = { ...this.retired, datagrams: 0, filteredFlows: 0 };
    for (const space of this.spaces) {
      if (!space) continue;
      for (const key of DECODE_SUMS) total[key] += space.decoder.counters[key];
    }
    return total;
  }

  private namespaceStats(space: Namespace): NamespaceStats {
    const c = space.decoder.counters;
    const n = this.currentState === 'closed' ? null : this.reader.namespace(space.index)?.stats;
    const known = n ?? this.lastNamespaces.get(space.index);
    return {
      name: space.name,
      inode: space.inode,
      packets: c.packets,
      flows: c.flows,
      lost: c.lost,
      gaps: c.gaps,
      enobufs: known?.enobufs ?? 0,
      decodeErrors: c.decodeErrors,
      datagrams: known?.datagrams ?? 0,
      bytes: known?.bytes ?? 0,
      ringFull: known?.ringFull ?? 0,
    };
  }

  /** 'open', 'closing' (close() is handing over or counting what is left) or 'closed'. */
  get state(): CollectorState {
    return this.currentState;
  }

  stats(): CollectorStats {
    const n = this.nativeStats();
    const c: DecodeCounters = this.decodeTotals();
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
      namespaces: [...this.byPath.values()].map((space) => this.namespaceStats(space)),
      namespacesDetached: this.detachedCount,
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
   * in `discarded` (in slices of DISCARD_SLICE_MS; an idle collector is closed when the call returns),
   * and the sockets are closed. Loss stays in `lost`. Never rejects; idempotent (returns the same promise).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      this.settleClose = resolve;
    });
    this.currentState = 'closing';
    if (this.watchTimer) clearInterval(this.watchTimer);
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
      // Counted in slices, so that a full ring and socket (hundreds of MB at the defaults) do not hold
      // the event loop: an idle collector closes within the call, a full one over a few turns.
      const until = performance.now() + DISCARD_SLICE_MS;
      while (!this.exhausted()) {
        if (performance.now() > until) {
          this.discardTimer ??= setImmediate(() => {
            this.discardTimer = undefined;
            this.progressClose();
          });
          return;
        }
        this.discardedEvents += countEvents(this.take());
      }
    }
    if (!this.exhausted()) return;
    this.lastNative = this.reader.stats();
    for (const space of this.byPath.values()) {
      const last = this.reader.namespace(space.index)?.stats;
      if (last) this.lastNamespaces.set(space.index, last);
    }
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

/**
 * Opens the sockets and starts collecting. Throws when the kernel refuses (see the error's message).
 * The records are typed from the options: `seq: number` on packet records unless `sequence` may be false.
 */
export function createCollector<O extends CollectorOptions>(options: O): Collector<RecordsFor<O>> {
  return new Collector<RecordsFor<O>>(options);
}
