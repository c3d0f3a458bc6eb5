// Turns whole netlink datagrams (as the reader thread received them) into
// records: NFLOG entries become packet records, rtnetlink link messages keep
// the interface table current, and every loss becomes a gap record.
import { readMessageHeader, nlAlign, NLMSG_ERROR, NLMSG_DONE, NLMSG_HDRLEN, type MessageHeader } from './netlink/message';
import { NflogDecoder, isNflogPacket } from './nflog/decode';
import { SequenceTracker } from './nflog/sequence';
import { LinkTable } from './rtnl/links';
import { ConntrackDecoder, isConntrackMessage } from './conntrack/decode';
import { CompletedFlows } from './conntrack/completed';
import { FlowFilter, type FlowFilterOptions } from './conntrack/filter';
import { FLAG_ENOBUFS, FLAG_TRUNCATED, SOURCE_CONNTRACK, SOURCE_CONNTRACK_DUMP, SOURCE_NFLOG, SOURCE_RTNL } from './ring/layout';
import type { CollectorRecord, GapRecord, NetnsLabel, PacketRecord } from './records';

/** The reader thread writes its own counts in this machine's byte order. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface DecodeCounters {
  /** Packet records produced. */
  packets: number;
  /** Flow records produced. */
  flows: number;
  /** Flows of table dumps (at start or to resynchronise). */
  dumpedFlows: number;
  /** Flows left out by the zone filter. */
  filteredFlows: number;
  /** Entries known lost (sum of gap counts). */
  lost: number;
  /** Gap records produced. */
  gaps: number;
  /** Records or messages with a decode fault. */
  decodeErrors: number;
  /** Datagrams decoded. */
  datagrams: number;
  /**
   * ENOBUFS reports not yet followed by a sequence gap: entries were dropped
   * whose number no later entry has revealed yet (loss at the tail of a burst).
   */
  unresolvedEnobufs: number;
}

export interface DatagramDecoderOptions {
  labels?: Map<number, string>;
  includePayload?: boolean;
  /** Resolve interface indexes to names from the link messages seen. Default true. */
  interfaceNames?: boolean;
  /** Groups bound by this collector: their sequence numbers start at 0. */
  boundGroups?: number[];
  /** Keep only flows of this conntrack zone. */
  zone?: number;
  /** Keep only flows these filters match (checked again after the kernel's filter). */
  flowFilter?: FlowFilterOptions;
  /** Completed-flow mode: one record per flow at DESTROY; the size of its start-time table. */
  completedFlows?: number;
  /** Put on every record: the namespace the datagrams come from. */
  netns?: NetnsLabel;
}

export class DatagramDecoder {
  readonly counters: DecodeCounters = {
    packets: 0,
    flows: 0,
    dumpedFlows: 0,
    filteredFlows: 0,
    lost: 0,
    gaps: 0,
    decodeErrors: 0,
    datagrams: 0,
    unresolvedEnobufs: 0,
  };
  readonly links = new LinkTable();
  /** Where decode() stopped in a datagram it has not finished (limit), or -1. */
  private resumeAt = -1;

  /** Whether the last decode() stopped before the end of its datagram: call it again with the same datagram. */
  get unfinished(): boolean {
    return this.resumeAt >= 0;
  }
  private readonly nflog: NflogDecoder;
  private readonly sequences = new SequenceTracker();
  private readonly header: MessageHeader = { length: 0, type: 0, flags: 0, seq: 0, pid: 0 };
  private readonly labels: Map<number, string>;
  private readonly interfaceNames: boolean;
  private readonly conntrack = new ConntrackDecoder();
  private readonly zone: number | undefined;
  private readonly flowFilter: FlowFilter | undefined;
  /** Present in completed-flow mode. */
  readonly completed: CompletedFlows | undefined;
  private readonly netns: NetnsLabel | undefined;

  constructor(options: DatagramDecoderOptions = {}) {
    this.nflog = new NflogDecoder(options.includePayload ?? false);
    this.labels = options.labels ?? new Map();
    this.interfaceNames = options.interfaceNames ?? true;
    this.zone = options.zone;
    this.netns = options.netns;
    const filter = options.flowFilter ? new FlowFilter(options.flowFilter) : undefined;
    this.flowFilter = filter?.active ? filter : undefined;
    this.completed = options.completedFlows === undefined ? undefined : new CompletedFlows(options.completedFlows);
    for (const group of options.boundGroups ?? []) this.sequences.start(group);
  }

  /**
   * Decodes the datagram at bytes[offset, offset + length) and appends its
   * records to `out`. Returns how many records were appended. With `limit`,
   * stops before the next message once `limit` records were appended and
   * leaves `unfinished` true: the next call, with the same datagram, goes on
   * from there (a consumer taking 512 records need not hold the 1,024 of a
   * whole datagram alive at once).
   */
  decode(
    bytes: Uint8Array,
    view: DataView,
    offset: number,
    length: number,
    source: number,
    flags: number,
    receivedUs: number,
    out: CollectorRecord[],
    limit = Number.POSITIVE_INFINITY,
  ): number {
    const before = out.length;
    const resume = this.resumeAt;
    this.resumeAt = -1;
    if (resume < 0) this.counters.datagrams++;
    if (flags & FLAG_ENOBUFS) {
      // How many were dropped shows up as a sequence gap on the next entry (when sequence numbers are on).
      if (source === SOURCE_NFLOG) this.counters.unresolvedEnobufs++;
      if (source === SOURCE_CONNTRACK) {
        // The reader counts the events the kernel dropped (the socket's drop counter), when the kernel says.
        const count = length >= 4 ? view.getUint32(offset, HOST_LITTLE_ENDIAN) : null;
        this.gap(out, 'conntrack', 'enobufs', count, receivedUs, 'the socket buffer overflowed: the kernel dropped events');
      } else if (source === SOURCE_CONNTRACK_DUMP) {
        // The reader abandons such a dump (and dumps again when resynchronising).
        this.gap(
          out,
          'conntrack',
          'dump-failed',
          null,
          receivedUs,
          'the kernel could not queue the next part of a table dump (ENOBUFS): the dump is incomplete',
        );
      } else {
        this.gap(out, sourceName(source), 'enobufs', null, receivedUs, 'the socket buffer overflowed');
      }
      return out.length - before;
    }
    const end = offset + length;
    const h = this.header;
    let at = resume >= 0 ? resume : offset;
    while (readMessageHeader(view, at, end, h)) {
      if (out.length - before >= limit) {
        this.resumeAt = at;
        return out.length - before;
      }
      if (source === SOURCE_NFLOG) {
        if (isNflogPacket(h.type)) this.packet(bytes, view, at, h.length, receivedUs, out);
        else if (h.type !== NLMSG_ERROR && h.type !== NLMSG_DONE) this.counters.decodeErrors++;
      } else if (source === SOURCE_RTNL) {
        if (!this.links.apply(bytes, view, at, h.length, h.type)) this.counters.decodeErrors++;
      } else if (source === SOURCE_CONNTRACK || source === SOURCE_CONNTRACK_DUMP) {
        if (isConntrackMessage(h.type)) this.flow(bytes, view, at, h.length, receivedUs, source === SOURCE_CONNTRACK_DUMP, out);
        else if (h.type === NLMSG_ERROR) this.netlinkError(view, at, h.length, receivedUs, out);
        else if (h.type !== NLMSG_DONE) this.counters.decodeErrors++;
      }
      at += nlAlign(h.length);
    }
    if (at < end) {
      const where = sourceName(source);
      if (flags & FLAG_TRUNCATED) {
        this.gap(out, where, 'truncated', null, receivedUs, 'a datagram was longer than the reader slot');
      } else {
        this.counters.decodeErrors++;
        this.gap(out, where, 'decode', null, receivedUs, `${end - at} bytes at the end of a datagram are not a netlink message`);
      }
    }
    return out.length - before;
  }

  private packet(bytes: Uint8Array, view: DataView, at: number, length: number, receivedUs: number, out: CollectorRecord[]): void {
    const record: PacketRecord = this.nflog.decode(bytes, view, at, length, receivedUs);
    if (record.decodeError) this.counters.decodeErrors++;
    if (record.seq !== undefined) {
      const missing = this.sequences.observe(record.group, record.seq);
      if (missing) {
        this.counters.unresolvedEnobufs = 0;
        const gap = this.gap(out, 'nflog', 'sequence', missing.count, receivedUs);
        gap.group = record.group;
        gap.fromSeq = missing.fromSeq;
        gap.toSeq = missing.toSeq;
      }
    }
    if (this.labels.size > 0) {
      const label = this.labels.get(record.group);
      if (label !== undefined) record.groupLabel = label;
    }
    if (this.interfaceNames) {
      const links = this.links;
      if (record.inIfindex !== undefined) record.inInterface = links.name(record.inIfindex);
      if (record.outIfindex !== undefined) record.outInterface = links.name(record.outIfindex);
      // Bridge ports are rare: their names are added only when known (the record has no key for them otherwise).
      if (record.physInIfindex !== undefined) {
        const name = links.name(record.physInIfindex);
        if (name !== undefined) record.physInInterface = name;
      }
      if (record.physOutIfindex !== undefined) {
        const name = links.name(record.physOutIfindex);
        if (name !== undefined) record.physOutInterface = name;
      }
    }
    if (this.netns) record.netns = this.netns;
    this.counters.packets++;
    out.push(record);
  }

  private flow(
    bytes: Uint8Array,
    view: DataView,
    at: number,
    length: number,
    receivedUs: number,
    dump: boolean,
    out: CollectorRecord[],
  ): void {
    const record = this.conntrack.decode(bytes, view, at, length, receivedUs, dump);
    if (record.decodeError) this.counters.decodeErrors++;
    if ((this.zone !== undefined && (record.zone ?? 0) !== this.zone) || (this.flowFilter && !this.flowFilter.matches(record))) {
      this.counters.filteredFlows++;
      return;
    }
    if (dump) this.counters.dumpedFlows++;
    const kept = this.completed ? this.completed.take(record) : record;
    if (kept === null) return;
    if (this.netns) kept.netns = this.netns;
    this.counters.flows++;
    out.push(kept);
  }

  /** An error answer on a conntrack socket (an ack is error 0): a dump that ended early. */
  private netlinkError(view: DataView, at: number, length: number, receivedUs: number, out: CollectorRecord[]): void {
    if (length < NLMSG_HDRLEN + 4) return;
    const errno = -view.getInt32(at + NLMSG_HDRLEN, true);
    if (errno === 0) return;
    // EPERM: the dump request needs CAP_NET_ADMIN at the time it is sent, which a process that dropped privileges lacks.
    const why = errno === 1 ? ' (EPERM: the process no longer has CAP_NET_ADMIN, e.g. after dropping privileges)' : '';
    this.gap(out, 'conntrack', 'dump-failed', null, receivedUs, `the kernel ended a table dump with errno ${errno}${why}`);
  }

  private gap(
    out: CollectorRecord[],
    source: GapRecord['source'],
    reason: GapRecord['reason'],
    count: number | null,
    timestampUs: number,
    detail?: string,
  ): GapRecord {
    const gap: GapRecord = { kind: 'gap', source, reason, count, timestampUs };
    if (detail) gap.detail = detail;
    if (this.netns) gap.netns = this.netns;
    this.counters.gaps++;
    if (count) this.counters.lost += count;
    out.push(gap);
    return gap;
  }
}

function sourceName(source: number): GapRecord['source'] {
  if (source === SOURCE_RTNL) return 'rtnl';
  if (source === SOURCE_CONNTRACK || source === SOURCE_CONNTRACK_DUMP) return 'conntrack';
  return 'nflog';
}
