// FlowRecord → ECS document: a plain nested object, ready for JSON.stringify.
//
// Field choices (see the ECS reference in ../shared/reference/ecs/):
//   - @timestamp: the record's timestampUs (flow stop for a destroy, flow
//     start for a new flow, when the kernel gave them; else the receive
//     time); event.created: when the reader thread received the event.
//   - event.kind 'event', event.category ['network'], event.type by event:
//       new     → ['connection', 'start']   action 'flow-new'
//       destroy → ['connection', 'end']     action 'flow-destroy'
//       update  → ['connection', 'info']    action 'flow-update'
//       dump    → ['connection', 'info']    action 'flow-dump'
//     ('change' is not an expected type of the network category in ECS, so an
//     update is 'info', told apart from a dump by event.action.)
//   - event.start / event.end: the flow's start and stop (CTA_TIMESTAMP, with
//     net.netfilter.nf_conntrack_timestamp=1); event.duration: stop − start in
//     nanoseconds (µs resolution) when both are known.
//   - event.module 'netfilter', event.dataset 'netfilter.flow'.
//   - source / destination: the original tuple (who opened the flow, to whom).
//     source.nat: the address:port the source was translated to (SNAT /
//     masquerade); destination.nat: where the destination was translated to
//     (DNAT / port forward: the internal server). See conntrack/nat.ts.
//   - source.bytes/packets: original-direction counters; destination.bytes/
//     packets: reply-direction counters (ECS: "sent from the destination to
//     the source"); network.bytes/packets: their sums (only when both
//     directions are known).
//   - network.type from the family, network.transport / iana_number from the
//     original tuple's protocol, network.community_id of the original tuple
//     (ICMP: its type and code).
//   - related.ip: every distinct address of the original and reply tuples.
//   - observer.type 'firewall', observer.product 'netfilter'.
//   - everything else under netfilter.ct.* (see NetfilterFlowFields).
// Absent values are left out, never written as undefined or null.
import type { FlowRecord, FlowTuple } from '../records';
import { statusNames, tcpCtFlagNames } from '../conntrack/constants';
import { tryCommunityId, type CommunityIdInput } from './community-id';
import { familyName, ianaNumber, transportName } from './names';
import { ECS_VERSION, type EcsOptions } from './packet';
import { ecsObserver, type EcsObserver } from './observer';
import { formatTimestampUs } from './timestamp';

/** The options of packetToEcs that apply to flows (the same object can be passed to both). */
export type FlowEcsOptions = Pick<EcsOptions, 'communityIdSeed' | 'communityId' | 'observer'>;

/** netfilter.ct.reply / .master / .original. */
export interface EcsFlowTuple {
  src_ip: string;
  dst_ip: string;
  protocol: number;
  src_port?: number;
  dst_port?: number;
  icmp_id?: number;
  icmp_type?: number;
  icmp_code?: number;
  zone?: number;
}

export interface EcsSeqAdj {
  position: number;
  offset_before: number;
  offset_after: number;
}

/** Project fields: what ECS has no place for. */
export interface NetfilterFlowFields {
  family: string;
  family_number: number;
  /** The network namespace of the conntrack table (when the collector reads more than its own). */
  netns?: { name: string; inode: number };
  ct: {
    event: FlowRecord['event'];
    id?: number;
    status?: number;
    status_flags?: string[];
    /** TCP / SCTP / DCCP state name ('ESTABLISHED' …), the number in state_number. */
    state?: string;
    state_number?: number;
    timeout?: number;
    mark?: number;
    zone?: number;
    labels?: string;
    use?: number;
    helper?: string;
    secctx?: string;
    original?: EcsFlowTuple;
    reply?: EcsFlowTuple;
    master?: EcsFlowTuple;
    tcp?: {
      flags_original?: string[];
      flags_original_bits?: number;
      flags_reply?: string[];
      flags_reply_bits?: number;
      wscale_original?: number;
      wscale_reply?: number;
    };
    seq_adj?: { original?: EcsSeqAdj; reply?: EcsSeqAdj };
    /** event.start / event.end are the collector's receive times of NEW and DESTROY, not the kernel's. */
    times_from_collector?: boolean;
    decode_error?: string;
  };
}

export interface EcsFlowEndpoint {
  ip?: string;
  port?: number;
  nat?: { ip: string; port?: number };
  bytes?: number;
  packets?: number;
}

export interface EcsFlowDocument {
  '@timestamp': string;
  ecs: { version: string };
  event: {
    kind: 'event';
    category: string[];
    type: string[];
    action: string;
    module: 'netfilter';
    dataset: 'netfilter.flow';
    created: string;
    start?: string;
    end?: string;
    duration?: number;
  };
  source?: EcsFlowEndpoint;
  destination?: EcsFlowEndpoint;
  network: {
    type?: string;
    transport?: string;
    iana_number?: string;
    community_id?: string;
    bytes?: number;
    packets?: number;
  };
  observer: EcsObserver;
  related?: { ip: string[] };
  netfilter: NetfilterFlowFields;
}

/** event.type per conntrack event. */
export const FLOW_EVENT_TYPES: Record<FlowRecord['event'], readonly string[]> = {
  new: ['connection', 'start'],
  destroy: ['connection', 'end'],
  update: ['connection', 'info'],
  dump: ['connection', 'info'],
};

/** event.action per conntrack event. */
export const FLOW_ACTIONS: Record<FlowRecord['event'], string> = {
  new: 'flow-new',
  destroy: 'flow-destroy',
  update: 'flow-update',
  dump: 'flow-dump',
};

function ecsTuple(t: FlowTuple): EcsFlowTuple {
  const out: EcsFlowTuple = { src_ip: t.src, dst_ip: t.dst, protocol: t.protocol };
  if (t.srcPort !== undefined) out.src_port = t.srcPort;
  if (t.dstPort !== undefined) out.dst_port = t.dstPort;
  if (t.icmpId !== undefined) out.icmp_id = t.icmpId;
  if (t.icmpType !== undefined) out.icmp_type = t.icmpType;
  if (t.icmpCode !== undefined) out.icmp_code = t.icmpCode;
  if (t.zone !== undefined) out.zone = t.zone;
  return out;
}

function seqAdj(s: NonNullable<FlowRecord['seqAdjOriginal']>): EcsSeqAdj {
  return { position: s.position, offset_before: s.offsetBefore, offset_after: s.offsetAfter };
}

/** network.type: from the family, else from the original tuple's address. */
export function flowNetworkType(record: FlowRecord): string | undefined {
  if (record.family === 2) return 'ipv4';
  if (record.family === 10) return 'ipv6';
  const ip = record.original?.src;
  if (ip === undefined) return undefined;
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/** network.community_id of the original tuple (ICMP: its type and code); undefined when off or not computable. */
export function flowCommunityId(orig: FlowTuple, options: FlowEcsOptions | undefined): string | undefined {
  if (options?.communityId === false) return undefined;
  const isIcmp = orig.protocol === 1 || orig.protocol === 58;
  // Reused from flow to flow: tryCommunityId reads them and keeps nothing.
  const input = CID_INPUT;
  input.srcIp = orig.src;
  input.dstIp = orig.dst;
  input.protocol = orig.protocol;
  input.srcPort = isIcmp ? undefined : orig.srcPort;
  input.dstPort = isIcmp ? undefined : orig.dstPort;
  input.icmpType = isIcmp ? orig.icmpType : undefined;
  input.icmpCode = isIcmp ? orig.icmpCode : undefined;
  CID_OPTIONS.seed = options?.communityIdSeed ?? 0;
  return tryCommunityId(input, CID_OPTIONS);
}

const CID_INPUT: CommunityIdInput = { srcIp: '', dstIp: '', protocol: 0 };
const CID_OPTIONS: { seed: number } = { seed: 0 };

/** Converts one conntrack flow record into an ECS document. Never throws on odd records. */
export function flowToEcs(record: FlowRecord, options?: FlowEcsOptions): EcsFlowDocument {
  const orig = record.original;
  const reply = record.reply;

  const event: EcsFlowDocument['event'] = {
    kind: 'event',
    category: ['network'],
    type: FLOW_EVENT_TYPES[record.event]?.slice() ?? ['connection', 'info'],
    action: FLOW_ACTIONS[record.event] ?? 'flow-' + String(record.event),
    module: 'netfilter',
    dataset: 'netfilter.flow',
    created: formatTimestampUs(record.receivedUs),
  };
  if (record.startUs !== undefined) event.start = formatTimestampUs(record.startUs);
  if (record.stopUs !== undefined) event.end = formatTimestampUs(record.stopUs);
  if (record.startUs !== undefined && record.stopUs !== undefined && record.stopUs >= record.startUs) {
    const ns = (record.stopUs - record.startUs) * 1000;
    if (Number.isSafeInteger(ns)) event.duration = ns;
  }

  // --- netfilter.ct ------------------------------------------------------------
  const ct: NetfilterFlowFields['ct'] = { event: record.event };
  if (record.id !== undefined) ct.id = record.id;
  if (record.status !== undefined) {
    ct.status = record.status;
    ct.status_flags = statusNames(record.status);
  }
  if (record.stateName !== undefined) ct.state = record.stateName;
  if (record.state !== undefined) ct.state_number = record.state;
  if (record.timeout !== undefined) ct.timeout = record.timeout;
  if (record.mark !== undefined) ct.mark = record.mark;
  if (record.zone !== undefined) ct.zone = record.zone;
  if (record.labels !== undefined) ct.labels = record.labels;
  if (record.use !== undefined) ct.use = record.use;
  if (record.helper !== undefined) ct.helper = record.helper;
  if (record.secctx !== undefined) ct.secctx = record.secctx;
  if (orig !== undefined) ct.original = ecsTuple(orig);
  if (reply !== undefined) ct.reply = ecsTuple(reply);
  if (record.master !== undefined) ct.master = ecsTuple(record.master);
  if (
    record.tcpFlagsOriginal !== undefined ||
    record.tcpFlagsReply !== undefined ||
    record.tcpWscaleOriginal !== undefined ||
    record.tcpWscaleReply !== undefined
  ) {
    const tcp: NonNullable<NetfilterFlowFields['ct']['tcp']> = {};
    if (record.tcpFlagsOriginal !== undefined) {
      tcp.flags_original = tcpCtFlagNames(record.tcpFlagsOriginal);
      tcp.flags_original_bits = record.tcpFlagsOriginal;
    }
    if (record.tcpFlagsReply !== undefined) {
      tcp.flags_reply = tcpCtFlagNames(record.tcpFlagsReply);
      tcp.flags_reply_bits = record.tcpFlagsReply;
    }
    if (record.tcpWscaleOriginal !== undefined) tcp.wscale_original = record.tcpWscaleOriginal;
    if (record.tcpWscaleReply !== undefined) tcp.wscale_reply = record.tcpWscaleReply;
    ct.tcp = tcp;
  }
  if (record.seqAdjOriginal !== undefined || record.seqAdjReply !== undefined) {
    const s: NonNullable<NetfilterFlowFields['ct']['seq_adj']> = {};
    if (record.seqAdjOriginal !== undefined) s.original = seqAdj(record.seqAdjOriginal);
    if (record.seqAdjReply !== undefined) s.reply = seqAdj(record.seqAdjReply);
    ct.seq_adj = s;
  }
  if (record.timesFromCollector === true) ct.times_from_collector = true;
  if (record.decodeError !== undefined) ct.decode_error = record.decodeError;

  // --- network -------------------------------------------------------------------
  const network: EcsFlowDocument['network'] = {};
  const type = flowNetworkType(record);
  if (type !== undefined) network.type = type;
  if (orig !== undefined) {
    network.transport = transportName(orig.protocol);
    network.iana_number = ianaNumber(orig.protocol);
    const id = flowCommunityId(orig, options);
    if (id !== undefined) network.community_id = id;
  }
  if (record.originalBytes !== undefined && record.replyBytes !== undefined) {
    network.bytes = record.originalBytes + record.replyBytes;
  }
  if (record.originalPackets !== undefined && record.replyPackets !== undefined) {
    network.packets = record.originalPackets + record.replyPackets;
  }

  // --- source / destination ---------------------------------------------------------
  const source: EcsFlowEndpoint = {};
  const destination: EcsFlowEndpoint = {};
  if (orig !== undefined) {
    source.ip = orig.src;
    if (orig.srcPort !== undefined) source.port = orig.srcPort;
    destination.ip = orig.dst;
    if (orig.dstPort !== undefined) destination.port = orig.dstPort;
  }
  const nat = record.nat;
  if (nat?.source !== undefined) {
    source.nat =
      nat.source.translatedPort === undefined
        ? { ip: nat.source.translatedIp }
        : { ip: nat.source.translatedIp, port: nat.source.translatedPort };
  }
  if (nat?.destination !== undefined) {
    destination.nat =
      nat.destination.translatedPort === undefined
        ? { ip: nat.destination.translatedIp }
        : { ip: nat.destination.translatedIp, port: nat.destination.translatedPort };
  }
  if (record.originalBytes !== undefined) source.bytes = record.originalBytes;
  if (record.originalPackets !== undefined) source.packets = record.originalPackets;
  if (record.replyBytes !== undefined) destination.bytes = record.replyBytes;
  if (record.replyPackets !== undefined) destination.packets = record.replyPackets;

  // --- observer ----------------------------------------------------------------------
  const observer: EcsFlowDocument['observer'] = ecsObserver(options);

  // --- assemble ----------------------------------------------------------------------
  // Keys in reading order: @timestamp, ecs, event, source, destination, network, observer, related, netfilter.
  const doc = {
    '@timestamp': formatTimestampUs(record.timestampUs),
    ecs: { version: ECS_VERSION },
    event,
  } as EcsFlowDocument;
  if (Object.keys(source).length > 0) doc.source = source;
  if (Object.keys(destination).length > 0) doc.destination = destination;
  doc.network = network;
  doc.observer = observer;
  const ips: string[] = [];
  for (const t of [orig, reply]) {
    if (t === undefined) continue;
    if (!ips.includes(t.src)) ips.push(t.src);
    if (!ips.includes(t.dst)) ips.push(t.dst);
  }
  if (ips.length > 0) doc.related = { ip: ips };
  doc.netfilter = {
    family: familyName(record.family) ?? String(record.family),
    family_number: record.family,
    ...(record.netns ? { netns: { name: record.netns.name, inode: record.netns.inode } } : {}),
    ct,
  };
  return doc;
}
