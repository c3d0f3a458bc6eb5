// FlowRecord → ECS document: the one definition of the flow document
// (writeFlowDocument), rendered as an object (flowToEcs) or as a JSON line
// (flow-json.ts) through doc-writer.ts.
//
// Field choices (checked against the ECS reference the tests keep in
// test/fixtures/reference/ecs.json):
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
//   - observer.*, agent.*, ecs.version: who wrote the document (identity.ts).
//   - netfilter.netns: the namespace the flow was collected in, when not ours.
//   - everything else under netfilter.ct.* (see NetfilterFlowFields).
// Absent values are left out, never written as undefined or null.
import type { FlowRecord, FlowTuple, NetnsLabel } from '../records';
import { statusNames, tcpCtFlagNames } from '../conntrack/constants';
import { communityIdDigest, communityIdText, type CommunityIdInput } from './community-id';
import { familyName, ianaNumber, transportName } from './names';
import type { EcsAgent, EcsObserver, EcsOptions } from './packet';
import { ObjectWriter, type DocWriter } from './doc-writer';
import { putNumber, putText, SlotTable } from './slots';
import { ecsIdentity, openObserver, writeAgent, writeEcsVersion, type EcsIdentity } from './identity';

/** The options of packetToEcs that apply to flows (the same object can be passed to both). */
export type FlowEcsOptions = Pick<EcsOptions, 'communityIdSeed' | 'communityId' | 'observer' | 'agent'>;

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
  netns?: NetnsLabel;
  family: string;
  family_number: number;
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
  agent: EcsAgent;
  related?: { ip: string[] };
  netfilter: NetfilterFlowFields;
}

// Flag names per status and TCP flag value, made once: a burst repeats a handful of values, and the
// writers only read the lists (ObjectWriter copies them).
const FLAG_NAMES_LIMIT = 4096;
const STATUS_NAMES = new Map<number, readonly string[]>();
const TCP_FLAG_NAMES = new Map<number, readonly string[]>();

function cachedNames(cache: Map<number, readonly string[]>, value: number, names: (value: number) => string[]): readonly string[] {
  let list = cache.get(value);
  if (list === undefined) {
    list = names(value);
    if (cache.size < FLAG_NAMES_LIMIT) cache.set(value, list);
  }
  return list;
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

/** A tuple under netfilter.ct; `base` its first slot (FLOW_SLOT.originalSrc, .replySrc), or -1: written from the tuple, no slots. */
function writeTuple(w: DocWriter, key: string, t: FlowTuple, base: number): void {
  w.open(key);
  if (base < 0) {
    w.str('src_ip', t.src);
    w.str('dst_ip', t.dst);
  } else {
    slotStr(w, 'src_ip', base + TUPLE_SRC);
    slotStr(w, 'dst_ip', base + TUPLE_DST);
  }
  w.num('protocol', t.protocol);
  if (base < 0) {
    if (t.srcPort !== undefined) w.num('src_port', t.srcPort);
    if (t.dstPort !== undefined) w.num('dst_port', t.dstPort);
    if (t.icmpId !== undefined) w.num('icmp_id', t.icmpId);
  } else {
    if (has(base + TUPLE_SRC_PORT)) slotNum(w, 'src_port', base + TUPLE_SRC_PORT);
    if (has(base + TUPLE_DST_PORT)) slotNum(w, 'dst_port', base + TUPLE_DST_PORT);
    if (has(base + TUPLE_ICMP_ID)) slotNum(w, 'icmp_id', base + TUPLE_ICMP_ID);
  }
  if (t.icmpType !== undefined) w.num('icmp_type', t.icmpType);
  if (t.icmpCode !== undefined) w.num('icmp_code', t.icmpCode);
  if (t.zone !== undefined) w.num('zone', t.zone);
  w.close();
}

function writeSeqAdj(w: DocWriter, key: string, s: NonNullable<FlowRecord['seqAdjOriginal']>): void {
  w.open(key);
  w.num('position', s.position);
  w.num('offset_before', s.offsetBefore);
  w.num('offset_after', s.offsetAfter);
  w.close();
}

/** source or destination: the original tuple's end (slots `ip`, `port`), its NAT translation, its direction's counters. */
function writeEndpoint(
  w: DocWriter,
  key: string,
  ip: number,
  port: number,
  natIp: number,
  natPort: number,
  bytes: number,
  packets: number,
): void {
  if (!has(ip) && !has(natIp) && !has(bytes) && !has(packets)) return;
  w.open(key);
  if (has(ip)) {
    slotStr(w, 'ip', ip);
    if (has(port)) slotNum(w, 'port', port);
  }
  if (has(natIp)) {
    w.open('nat');
    slotStr(w, 'ip', natIp);
    if (has(natPort)) slotNum(w, 'port', natPort);
    w.close();
  }
  if (has(bytes)) slotNum(w, 'bytes', bytes);
  if (has(packets)) slotNum(w, 'packets', packets);
  w.close();
}

/** network.type: from the family, else from the original tuple's address. */
export function flowNetworkType(record: FlowRecord): string | undefined {
  if (record.family === 2) return 'ipv4';
  if (record.family === 10) return 'ipv6';
  const ip = record.original?.src;
  if (ip === undefined) return undefined;
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/**
 * network.community_id of the original tuple (ICMP: its type and code): its digest (community-id.ts)
 * into `digest`; false when off or not computable.
 */
function flowCommunityDigest(orig: FlowTuple, options: FlowEcsOptions | undefined, digest: Int32Array): boolean {
  if (options?.communityId === false) return false;
  const isIcmp = orig.protocol === 1 || orig.protocol === 58;
  // Reused from flow to flow: communityIdDigest reads it and keeps nothing.
  const input = CID_INPUT;
  input.srcIp = orig.src;
  input.dstIp = orig.dst;
  input.protocol = orig.protocol;
  input.srcPort = isIcmp ? undefined : orig.srcPort;
  input.dstPort = isIcmp ? undefined : orig.dstPort;
  input.icmpType = isIcmp ? orig.icmpType : undefined;
  input.icmpCode = isIcmp ? orig.icmpCode : undefined;
  return communityIdDigest(input, (options?.communityIdSeed ?? 0) & 0xffff, digest);
}

const CID_INPUT: CommunityIdInput = { srcIp: '', dstIp: '', protocol: 0 };

/** How a per-flow value is written: a date from µs, a number, a JSON string, a Community ID from its digest, an array of strings. */
export type FlowSlotKind = 'time' | 'number' | 'string' | 'communityId' | 'strings';

// A tuple's slots (original, reply) at these offsets from its first one.
const TUPLE_SRC = 0;
const TUPLE_DST = 1;
const TUPLE_SRC_PORT = 2;
const TUPLE_DST_PORT = 3;
const TUPLE_ICMP_ID = 4;

const SLOT_KINDS = {
  timestamp: 'time',
  created: 'time',
  start: 'time',
  end: 'time',
  duration: 'number',
  sourceNatIp: 'string',
  sourceNatPort: 'number',
  destinationNatIp: 'string',
  destinationNatPort: 'number',
  originalBytes: 'number',
  originalPackets: 'number',
  replyBytes: 'number',
  replyPackets: 'number',
  communityId: 'communityId',
  bytes: 'number',
  packets: 'number',
  relatedIp: 'strings',
  id: 'number',
  timeout: 'number',
  // The tuples, in the order of the TUPLE_ offsets (source.ip and .port are the original's values).
  originalSrc: 'string',
  originalDst: 'string',
  originalSrcPort: 'number',
  originalDstPort: 'number',
  originalIcmpId: 'number',
  replySrc: 'string',
  replyDst: 'string',
  replySrcPort: 'number',
  replyDstPort: 'number',
  replyIcmpId: 'number',
} as const satisfies Record<string, FlowSlotKind>;

/**
 * The per-flow values of the document ("slots"): what differs between the
 * flows of a burst that share everything else (times, addresses, ports, NAT
 * translation, counters, id, timeout, Community ID, related IPs).
 * readFlowSlots() reads them all; the definition writes each from there and
 * marks it (DocWriter.mark) for a template writer (flow-json.ts fills
 * templates with readFlowSlots() too). The master tuple has no slots: a flow
 * with one is written in full. FLOW_SLOT names an index, FLOW_SLOT_KINDS
 * says how each is written.
 */
export const FLOW_SLOT = Object.fromEntries(Object.keys(SLOT_KINDS).map((name, i) => [name, i])) as Record<keyof typeof SLOT_KINDS, number>;
export const FLOW_SLOT_KINDS: readonly FlowSlotKind[] = Object.values(SLOT_KINDS);

/** Slot values by FLOW_SLOT index (slots.ts), and related.ip's list. */
export class FlowSlotValues extends SlotTable {
  /** related.ip: every distinct address of the original and reply tuples. */
  readonly related: string[] = [];

  constructor() {
    super(FLOW_SLOT_KINDS.length);
  }
}

function putTuple(out: FlowSlotValues, base: number, t: FlowTuple | undefined): number {
  if (t === undefined) return 0;
  return (
    putText(out, base + TUPLE_SRC, t.src) |
    putText(out, base + TUPLE_DST, t.dst) |
    putNumber(out, base + TUPLE_SRC_PORT, t.srcPort) |
    putNumber(out, base + TUPLE_DST_PORT, t.dstPort) |
    putNumber(out, base + TUPLE_ICMP_ID, t.icmpId)
  );
}

/** Reads the record's slot values into `out` (indexed by FLOW_SLOT), and which are present. */
export function readFlowSlots(r: FlowRecord, options: FlowEcsOptions | undefined, out: FlowSlotValues): void {
  const orig = r.original;
  const reply = r.reply;
  let duration: number | undefined;
  if (r.startUs !== undefined && r.stopUs !== undefined && r.stopUs >= r.startUs) {
    const ns = (r.stopUs - r.startUs) * 1000;
    if (Number.isSafeInteger(ns)) duration = ns;
  }
  const ips = out.related;
  ips.length = 0;
  for (const t of [orig, reply]) {
    if (t === undefined) continue;
    if (!ips.includes(t.src)) ips.push(t.src);
    if (!ips.includes(t.dst)) ips.push(t.dst);
  }
  const S = FLOW_SLOT;
  out.present =
    putNumber(out, S.timestamp, r.timestampUs) |
    putNumber(out, S.created, r.receivedUs) |
    putNumber(out, S.start, r.startUs) |
    putNumber(out, S.end, r.stopUs) |
    putNumber(out, S.duration, duration) |
    putText(out, S.sourceNatIp, r.nat?.source?.translatedIp) |
    putNumber(out, S.sourceNatPort, r.nat?.source?.translatedPort) |
    putText(out, S.destinationNatIp, r.nat?.destination?.translatedIp) |
    putNumber(out, S.destinationNatPort, r.nat?.destination?.translatedPort) |
    putNumber(out, S.originalBytes, r.originalBytes) |
    putNumber(out, S.originalPackets, r.originalPackets) |
    putNumber(out, S.replyBytes, r.replyBytes) |
    putNumber(out, S.replyPackets, r.replyPackets) |
    (orig !== undefined && flowCommunityDigest(orig, options, out.communityId) ? 1 << S.communityId : 0) |
    putNumber(out, S.bytes, r.originalBytes !== undefined && r.replyBytes !== undefined ? r.originalBytes + r.replyBytes : undefined) |
    putNumber(
      out,
      S.packets,
      r.originalPackets !== undefined && r.replyPackets !== undefined ? r.originalPackets + r.replyPackets : undefined,
    ) |
    (ips.length > 0 ? 1 << S.relatedIp : 0) |
    putNumber(out, S.id, r.id) |
    putNumber(out, S.timeout, r.timeout) |
    putTuple(out, S.originalSrc, orig) |
    putTuple(out, S.replySrc, reply);
}

// The definition's own slot values (read before it writes).
const VALUES = new FlowSlotValues();

function has(id: number): boolean {
  return VALUES.has(id);
}

function slotNum(w: DocWriter, key: string, id: number): void {
  w.mark(id);
  w.num(key, VALUES.numbers[id]);
}

function slotTime(w: DocWriter, key: string, id: number): void {
  w.mark(id);
  w.time(key, VALUES.numbers[id]);
}

function slotStr(w: DocWriter, key: string, id: number): void {
  w.mark(id);
  w.str(key, VALUES.texts[id] as string);
}

/** Converts one conntrack flow record into an ECS document. Never throws on odd records. */
export function flowToEcs(record: FlowRecord, options?: FlowEcsOptions): EcsFlowDocument {
  const w = new ObjectWriter();
  const doc = w.begin();
  writeFlowDocument(w, record, options, ecsIdentity(options));
  return doc as unknown as EcsFlowDocument;
}

/**
 * The flow document, field by field in document order: the one definition
 * both renderings follow. Keys in reading order: @timestamp, ecs, event,
 * source, destination, network, observer, agent, related, netfilter.
 */
export function writeFlowDocument(w: DocWriter, record: FlowRecord, options: FlowEcsOptions | undefined, identity: EcsIdentity): void {
  const orig = record.original;
  const reply = record.reply;
  readFlowSlots(record, options, VALUES);
  const S = FLOW_SLOT;

  slotTime(w, '@timestamp', S.timestamp);
  writeEcsVersion(w);

  w.open('event');
  w.str('kind', 'event');
  w.strPair('category', 'network', undefined);
  const types = FLOW_EVENT_TYPES[record.event];
  if (types === undefined) w.strPair('type', 'connection', 'info');
  else w.strs('type', types);
  w.str('action', FLOW_ACTIONS[record.event] ?? 'flow-' + String(record.event));
  w.str('module', 'netfilter');
  w.str('dataset', 'netfilter.flow');
  slotTime(w, 'created', S.created);
  if (has(S.start)) slotTime(w, 'start', S.start);
  if (has(S.end)) slotTime(w, 'end', S.end);
  if (has(S.duration)) slotNum(w, 'duration', S.duration);
  w.close();

  const o = S.originalSrc;
  writeEndpoint(w, 'source', o + TUPLE_SRC, o + TUPLE_SRC_PORT, S.sourceNatIp, S.sourceNatPort, S.originalBytes, S.originalPackets);
  writeEndpoint(
    w,
    'destination',
    o + TUPLE_DST,
    o + TUPLE_DST_PORT,
    S.destinationNatIp,
    S.destinationNatPort,
    S.replyBytes,
    S.replyPackets,
  );

  w.open('network');
  const type = flowNetworkType(record);
  if (type !== undefined) w.str('type', type);
  if (orig !== undefined) {
    w.str('transport', transportName(orig.protocol));
    w.str('iana_number', ianaNumber(orig.protocol));
    if (has(S.communityId)) {
      w.mark(S.communityId);
      w.str('community_id', communityIdText(VALUES.communityId));
    }
  }
  if (has(S.bytes)) slotNum(w, 'bytes', S.bytes);
  if (has(S.packets)) slotNum(w, 'packets', S.packets);
  w.close();

  openObserver(w, identity);
  w.close();
  writeAgent(w, identity);

  if (has(S.relatedIp)) {
    w.open('related');
    w.mark(S.relatedIp);
    w.strs('ip', VALUES.related);
    w.close();
  }

  w.open('netfilter');
  if (record.netns !== undefined) {
    w.open('netns');
    w.str('name', record.netns.name);
    w.num('inode', record.netns.inode);
    w.close();
  }
  w.str('family', familyName(record.family) ?? String(record.family));
  w.num('family_number', record.family);
  w.open('ct');
  w.str('event', record.event);
  if (has(S.id)) slotNum(w, 'id', S.id);
  if (record.status !== undefined) {
    w.num('status', record.status);
    w.strs('status_flags', cachedNames(STATUS_NAMES, record.status, statusNames));
  }
  if (record.stateName !== undefined) w.str('state', record.stateName);
  if (record.state !== undefined) w.num('state_number', record.state);
  if (has(S.timeout)) slotNum(w, 'timeout', S.timeout);
  if (record.mark !== undefined) w.num('mark', record.mark);
  if (record.zone !== undefined) w.num('zone', record.zone);
  if (record.labels !== undefined) w.str('labels', record.labels);
  if (record.use !== undefined) w.num('use', record.use);
  if (record.helper !== undefined) w.str('helper', record.helper);
  if (record.secctx !== undefined) w.str('secctx', record.secctx);
  if (orig !== undefined) writeTuple(w, 'original', orig, S.originalSrc);
  if (reply !== undefined) writeTuple(w, 'reply', reply, S.replySrc);
  if (record.master !== undefined) writeTuple(w, 'master', record.master, -1);
  if (
    record.tcpFlagsOriginal !== undefined ||
    record.tcpFlagsReply !== undefined ||
    record.tcpWscaleOriginal !== undefined ||
    record.tcpWscaleReply !== undefined
  ) {
    w.open('tcp');
    if (record.tcpFlagsOriginal !== undefined) {
      w.strs('flags_original', cachedNames(TCP_FLAG_NAMES, record.tcpFlagsOriginal, tcpCtFlagNames));
      w.num('flags_original_bits', record.tcpFlagsOriginal);
    }
    if (record.tcpFlagsReply !== undefined) {
      w.strs('flags_reply', cachedNames(TCP_FLAG_NAMES, record.tcpFlagsReply, tcpCtFlagNames));
      w.num('flags_reply_bits', record.tcpFlagsReply);
    }
    if (record.tcpWscaleOriginal !== undefined) w.num('wscale_original', record.tcpWscaleOriginal);
    if (record.tcpWscaleReply !== undefined) w.num('wscale_reply', record.tcpWscaleReply);
    w.close();
  }
  if (record.seqAdjOriginal !== undefined || record.seqAdjReply !== undefined) {
    w.open('seq_adj');
    if (record.seqAdjOriginal !== undefined) writeSeqAdj(w, 'original', record.seqAdjOriginal);
    if (record.seqAdjReply !== undefined) writeSeqAdj(w, 'reply', record.seqAdjReply);
    w.close();
  }
  if (record.timesFromCollector === true) w.bool('times_from_collector', true);
  if (record.decodeError !== undefined) w.str('decode_error', record.decodeError);
  w.close();
  w.close();
}
