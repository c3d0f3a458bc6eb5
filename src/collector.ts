// The collector: owns the native reader and the ring, and hands out records
// in batches when the consumer asks for them (pull-based: a slow consumer
// leaves data in the ring, then in the socket, and the kernel counts drops).
import { Readable } from 'node:stream';
import { DatagramDecoder, type DecodeCounters } from './datagram';
import { loadNative, type NativeReader, type NativeStats } from './native';
import { findNamespaces, namespaceInode } from './netns/find';
import { resolveOptions, type CollectorOptions, type NamespaceChange, type ResolvedOptions } from './options';
import type { CollectorRecord, NetnsLabel } from './records';
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

export class Collector implements AsyncIterable<CollectorRecord> {
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
  private waiter: (() => void) | null = null;
  private closed = false;
  private deliveredPackets = 0;
  private deliveredFlows = 0;
  private readonly flowEvents = { new: 0, update: 0, destroy: 0, dump: 0 };
  /** Said once at start when conntrack accounting or timestamps are off. */
  readonly warnings: string[] = [];
  private lastNative: NativeStats | null = null;
  private readonly lastNamespaces = new Map<number, NativeStats>();
  private readonly abortListener?: () => void;
  private readonly signal?: AbortSignal;

  constructor(options: CollectorOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    const native = loadNative();
    this.ring = new RingReader(o.ringSize);
    this.ownInode = namespaceInode('/proc/thread-self/ns/net');
    this.reader = new native.NativeReader({
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
      this.signal = options.signal;
      this.abortListener = () => this.close();
      if (options.signal.aborted) this.close();
      else options.signal.addEventListener('abort', this.abortListener, { once: true });
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
    if (this.closed) throw new Error('netfilter-collector: the collector is closed');
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
    if (!space) return false;
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
    if (!all || this.closed) return;
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
      warnings.push(
        `net.netfilter.nf_conntrack_timestamp is 0 ${where}: flows will have no kernel start/end times` +
          (completed ? '; completed flows use the times the collector saw NEW and DESTROY (a bounded table)' : '') +
          ' (set it to 1, or use enableSysctls / --ct-enable-sysctls)',
      );
    }
    for (const warning of warnings) {
      // A warning bound to the collector's list, which must not grow with namespaces that come and go.
      if (this.warnings.length < 100) this.warnings.push(warning);
      process.emitWarning(warning, { code: 'NETFILTER_COLLECTOR_CONNTRACK' });
    }
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
    const spaces = this.spaces;
    this.ring.drain((bytes, view, offset, length, source, flags, receivedUs, netns) => {
      const space = spaces[netns];
      return space ? space.decoder.decode(bytes, view, offset, length, source, flags, receivedUs, out) : 0;
    }, this.options.batchSize);
    if (!this.closed) this.reader.release();
    this.retire();
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
    const n = this.closed ? null : this.reader.namespace(space.index)?.stats;
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

  stats(): CollectorStats {
    const n = this.nativeStats();
    const c = this.decodeTotals();
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
   * Stops the reader thread and closes the sockets. Iterations still deliver
   * what the ring holds, then end. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.lastNative = this.reader.stats();
    for (const space of this.byPath.values()) {
      const last = this.reader.namespace(space.index)?.stats;
      if (last) this.lastNamespaces.set(space.index, last);
    }
    if (this.watchTimer) clearInterval(this.watchTimer);
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
