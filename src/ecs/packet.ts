// PacketRecord → ECS document: the one definition of the packet document
// (writePacketDocument), rendered as an object (packetToEcs) or as a JSON line
// (packet-json.ts) through doc-writer.ts.
//
// Field choices (checked against the ECS reference the tests keep in
// test/fixtures/reference/ecs.json):
//   - @timestamp: the packet's time (kernel timestamp when present);
//     event.created: when the reader thread received it.
//   - event.kind 'event', event.category ['network'], event.type
//     ['connection', 'allowed' | 'denied'] when the prefix (or the group label)
//     names a verdict, ['connection', 'info'] when it does not ('connection' only
//     for IP packets). event.outcome: see action.ts ('success' for a known
//     verdict, absent otherwise).
//   - source.bytes: the IP datagram length (IPv4 total length, IPv6 payload
//     length + 40), as SIEM intakes fill it from the LOG line's LEN=;
//     source.packets: 1 — one NFLOG entry is one packet, so sums over events give
//     packet counts next to byte counts.
//   - source.mac / destination.mac: ECS form, upper case with dashes.
//   - network.direction: 'ingress' on input/ingress hooks, 'egress' on
//     output/egress hooks (host point of view); absent for forwarded traffic.
//   - observer.*, agent.*, ecs.version: who wrote the document (identity.ts).
//   - rule.name: the verdict's rule name (a convention's label) or the prefix
//     trimmed; rule.ruleset / rule.id where a prefix convention names them.
//   - everything else netfilter-specific under `netfilter.*`.
// Absent values are left out, never written as undefined or null.
import type { PacketRecord, NetnsLabel } from '../records';
import type { ActionResult } from '../verdict/action';
import { communityIdText } from './community-id';
import { packetFacts, type PacketFacts } from './packet-facts';
import { familyName, hookDirection, hookName, ianaNumber, ipv4FlagNames, transportName } from './names';
import { tcpFlagNames } from '../packet/tcp';
import { ObjectWriter, type DocWriter } from './doc-writer';
import { putDigest, putNumber, putText, SlotTable } from './slots';
import {
  ECS_VERSION as IDENTITY_ECS_VERSION,
  ecsIdentity,
  openObserver,
  writeAgent,
  writeEcsVersion,
  type EcsIdentity,
  type EcsIdentityOptions,
} from './identity';

// Every export of this module is a plain value: a re-export (an accessor on the CommonJS exports object)
// turned that object into a dictionary, and each use of SLOT or readSlots from it into a hash lookup.
/** The ECS release the documents follow (identity.ts). */
export const ECS_VERSION = IDENTITY_ECS_VERSION;

export interface EcsOptions extends EcsIdentityOptions {
  /** Prefix → verdict; the default rules of action.ts when absent. */
  actionMapper?: (prefix: string) => ActionResult | undefined;
  /** Seed of network.community_id (default 0). */
  communityIdSeed?: number;
  /** Compute network.community_id (default true). */
  communityId?: boolean;
  /** Labels of NFLOG groups, used when the record carries none. */
  groupLabels?: Record<number, string>;
}

/** observer.* as every document writes it. */
export interface EcsObserver {
  type: 'firewall';
  product: 'netfilter';
  hostname: string;
  name?: string;
  ip?: string[];
}

/** agent.* as every document writes it. */
export interface EcsAgent {
  type: 'netfilter-collector';
  version: string;
  name: string;
  id?: string;
}

// A type alias, not an interface: Elastic's EcsObserver types ingress/egress as Record<string, unknown>,
// which an interface (no implicit index signature) cannot be assigned to (test/types/consumer.ts).
export type EcsInterface = {
  interface: { name?: string; id?: string };
};

export interface EcsDocument {
  '@timestamp': string;
  ecs: { version: string };
  event: {
    kind: 'event';
    category: string[];
    type: string[];
    action?: string;
    outcome?: string;
    module: 'netfilter';
    dataset: 'netfilter.log';
    created: string;
    sequence?: number;
  };
  observer: EcsObserver & { ingress?: EcsInterface; egress?: EcsInterface };
  agent: EcsAgent;
  network: {
    type?: string;
    transport?: string;
    iana_number?: string;
    community_id?: string;
    direction?: string;
    vlan?: { id: string };
    inner?: { vlan: { id: string } };
  };
  source?: { ip?: string; port?: number; mac?: string; bytes?: number; packets?: number };
  destination?: { ip?: string; port?: number; mac?: string };
  related?: { ip: string[] };
  rule?: { name?: string; ruleset?: string; id?: string };
  netfilter: NetfilterFields;
}

/** Project fields: what ECS has no place for. */
export interface NetfilterFields {
  group: number;
  group_label?: string;
  netns?: NetnsLabel;
  family: string;
  family_number: number;
  hook?: string;
  hook_number: number;
  prefix: string;
  kernel_timestamp: boolean;
  payload_length: number;
  hw_protocol: number;
  mark?: number;
  uid?: number;
  gid?: number;
  seq?: number;
  seq_global?: number;
  ct_info?: number;
  physin?: { name?: string; ifindex?: number };
  physout?: { name?: string; ifindex?: number };
  vlan?: { id: number; inner_id?: number };
  ip?: {
    ttl?: number;
    id?: number;
    tos?: number;
    flags?: string[];
    fragment_offset?: number;
    options?: string;
    hop_limit?: number;
    flow_label?: number;
    traffic_class?: number;
    extension_headers?: number[];
    fragment?: { offset: number; more_fragments: boolean; id: number };
  };
  tcp?: { flags: string[]; window: number; seq: number; ack: number; urgent_pointer?: number; mss?: number; options?: string };
  udp?: { length: number };
  icmp?: {
    type: number;
    code: number;
    id?: number;
    sequence?: number;
    mtu?: number;
    gateway?: string;
    pointer?: number;
    target?: string;
    original?: { src_ip?: string; dst_ip?: string; protocol?: number; src_port?: number; dst_port?: number };
  };
  sctp?: { verification_tag: number; chunk_type?: number };
  gre?: { version: number; protocol: number; key?: number; sequence?: number; call_id?: number };
  esp?: { spi: number; sequence: number };
  ah?: { spi: number; sequence: number; next_header: number };
  arp?: { operation: number; sender_mac?: string; target_mac?: string };
  decode_error?: string;
}

/**
 * How a per-packet value is written: a date from µs, a number, a JSON string, a Community ID from its
 * digest (community-id.ts); 'ips': the related IPs' array (see below).
 */
export type SlotKind = 'time' | 'number' | 'string' | 'communityId' | 'ips' | 'second';

const SLOT_KINDS = {
  timestamp: 'time',
  created: 'time',
  seq: 'number',
  seqGlobal: 'number',
  payloadLength: 'number',
  srcIp: 'string',
  dstIp: 'string',
  srcPort: 'number',
  dstPort: 'number',
  bytes: 'number',
  communityId: 'communityId',
  // related.ip: [relatedIp] or [relatedIp, relatedIp2] ('second': written only as part of the array before it).
  relatedIp: 'ips',
  relatedIp2: 'second',
  ipId: 'number',
  flowLabel: 'number',
  tcpWindow: 'number',
  tcpSeq: 'number',
  tcpAck: 'number',
  tcpOptions: 'string',
  udpLength: 'number',
  icmpSequence: 'number',
} as const satisfies Record<string, SlotKind>;

/**
 * The per-packet values of the document ("slots"): what differs between the
 * packets of a flow, or of a scan (timestamps, sequence numbers, lengths, IP
 * id, TCP seq/ack/window/options, ICMP sequence, addresses, ports, Community
 * ID). readSlots() reads them all; the definition writes each through slot(),
 * which marks it for a template writer (packet-json.ts fills templates with
 * readSlots() too). SLOT names an index, PACKET_SLOT_KINDS says how each is written.
 */
// Declared, then exported: the module's own uses read the constant, not the CommonJS exports object.
const SLOT = Object.fromEntries(Object.keys(SLOT_KINDS).map((name, i) => [name, i])) as Record<keyof typeof SLOT_KINDS, number>;
export { SLOT };
export const PACKET_SLOT_KINDS: readonly SlotKind[] = Object.values(SLOT_KINDS);

/** Slot values by SLOT index (slots.ts). */
export class SlotValues extends SlotTable {
  constructor() {
    super(PACKET_SLOT_KINDS.length);
  }
}

/** Reads the record's slot values into `out` (indexed by SLOT), and which are present. */
export function readSlots(r: PacketRecord, f: PacketFacts, out: SlotValues): void {
  const net = r.packet.network;
  const tr = r.packet.transport;
  const tcp = tr?.kind === 'tcp' ? tr : undefined;
  out.present =
    putNumber(out, SLOT.timestamp, r.timestampUs) |
    putNumber(out, SLOT.created, r.receivedUs) |
    putNumber(out, SLOT.seq, r.seq) |
    putNumber(out, SLOT.seqGlobal, r.seqGlobal) |
    putNumber(out, SLOT.payloadLength, r.payloadLength) |
    putText(out, SLOT.srcIp, f.srcIp) |
    putText(out, SLOT.dstIp, f.dstIp) |
    putNumber(out, SLOT.srcPort, f.srcPort) |
    putNumber(out, SLOT.dstPort, f.dstPort) |
    putNumber(out, SLOT.bytes, f.bytes) |
    putDigest(out, SLOT.communityId, f.communityId) |
    putText(out, SLOT.relatedIp, f.srcIp ?? f.dstIp) |
    putText(out, SLOT.relatedIp2, f.srcIp !== undefined && f.dstIp !== undefined && f.dstIp !== f.srcIp ? f.dstIp : undefined) |
    putNumber(out, SLOT.ipId, net?.kind === 'ipv4' ? net.id : undefined) |
    // Linux gives each flow its own IPv6 flow label (a hash of the flow): in a scan, every packet another.
    putNumber(out, SLOT.flowLabel, net?.kind === 'ipv6' ? net.flowLabel : undefined) |
    putNumber(out, SLOT.tcpWindow, tcp?.window) |
    putNumber(out, SLOT.tcpSeq, tcp?.seq) |
    putNumber(out, SLOT.tcpAck, tcp?.ack) |
    // Written only when there are options.
    putText(out, SLOT.tcpOptions, tcp !== undefined && tcp.options.length > 0 ? tcp.options : undefined) |
    putNumber(out, SLOT.udpLength, tr?.kind === 'udp' || tr?.kind === 'udplite' ? tr.length : undefined) |
    putNumber(out, SLOT.icmpSequence, tr?.kind === 'icmp' || tr?.kind === 'icmpv6' ? tr.sequence : undefined);
}

// The definition's own slot values (read before it writes, as the last thing the facts are read for).
const VALUES = new SlotValues();

/** Marks the next call's value as slot `id`, and returns the value. */
function slot(w: DocWriter, id: number): number {
  w.mark(id);
  return VALUES.numbers[id];
}

function slotText(w: DocWriter, id: number): string {
  w.mark(id);
  return VALUES.texts[id] as string;
}

/** Converts one NFLOG packet record into an ECS document. Never throws on odd records. */
export function packetToEcs(record: PacketRecord, options?: EcsOptions): EcsDocument {
  const w = new ObjectWriter();
  const doc = w.begin();
  writePacketDocument(w, record, options, ecsIdentity(options));
  return doc as unknown as EcsDocument;
}

function writeInterface(w: DocWriter, key: string, name: string | undefined, index: number | undefined): void {
  w.open(key);
  w.open('interface');
  if (name !== undefined) w.str('name', name);
  if (index !== undefined) w.str('id', String(index));
  w.close();
  w.close();
}

function writePhys(w: DocWriter, key: string, name: string | undefined, index: number | undefined): void {
  w.open(key);
  if (name !== undefined) w.str('name', name);
  if (index !== undefined) w.num('ifindex', index);
  w.close();
}

/**
 * The packet document, field by field in document order: the one definition
 * both renderings follow. Keys in reading order: @timestamp, ecs, event,
 * source, destination, network, observer, agent, rule, related, netfilter.
 */
export function writePacketDocument(w: DocWriter, record: PacketRecord, options: EcsOptions | undefined, identity: EcsIdentity): void {
  const pkt = record.packet;
  const net = pkt.network;
  const tr = pkt.transport;
  const f = packetFacts(record, options);
  const verdict = f.verdict;
  readSlots(record, f, VALUES);

  w.time('@timestamp', slot(w, SLOT.timestamp));
  writeEcsVersion(w);

  w.open('event');
  w.str('kind', 'event');
  w.strPair('category', 'network', undefined);
  if (f.isIp) w.strPair('type', 'connection', verdict?.type ?? 'info');
  else w.strPair('type', verdict?.type ?? 'info', undefined);
  w.str('module', 'netfilter');
  w.str('dataset', 'netfilter.log');
  w.time('created', slot(w, SLOT.created));
  if (verdict !== undefined) {
    w.str('action', verdict.action);
    if (verdict.outcome !== undefined) w.str('outcome', verdict.outcome);
  }
  if (record.seq !== undefined) w.num('sequence', slot(w, SLOT.seq));
  w.close();

  const { srcIp, dstIp, srcPort, dstPort, srcMac, dstMac, bytes } = f;
  if (srcIp !== undefined || srcPort !== undefined || srcMac !== undefined || bytes !== undefined) {
    w.open('source');
    if (srcIp !== undefined) w.str('ip', slotText(w, SLOT.srcIp));
    if (srcPort !== undefined) w.num('port', slot(w, SLOT.srcPort));
    if (srcMac !== undefined) w.str('mac', srcMac);
    if (bytes !== undefined) {
      w.num('bytes', slot(w, SLOT.bytes));
      w.num('packets', 1);
    }
    w.close();
  }
  if (dstIp !== undefined || dstPort !== undefined || dstMac !== undefined) {
    w.open('destination');
    if (dstIp !== undefined) w.str('ip', slotText(w, SLOT.dstIp));
    if (dstPort !== undefined) w.num('port', slot(w, SLOT.dstPort));
    if (dstMac !== undefined) w.str('mac', dstMac);
    w.close();
  }

  w.open('network');
  if (net !== undefined) w.str('type', net.kind);
  if (f.protocol >= 0 && f.isIp) {
    w.str('transport', transportName(f.protocol));
    w.str('iana_number', ianaNumber(f.protocol));
    if (f.communityId !== undefined) {
      w.mark(SLOT.communityId);
      w.str('community_id', communityIdText(VALUES.communityId));
    }
  }
  const direction = hookDirection(record.family, record.hook);
  if (direction !== undefined) w.str('direction', direction);
  if (f.outerVlan !== undefined) {
    w.open('vlan');
    w.str('id', String(f.outerVlan));
    w.close();
    if (f.innerVlan !== undefined) {
      w.open('inner');
      w.open('vlan');
      w.str('id', String(f.innerVlan));
      w.close();
      w.close();
    }
  }
  w.close();

  openObserver(w, identity);
  if (record.inInterface !== undefined || record.inIfindex !== undefined)
    writeInterface(w, 'ingress', record.inInterface, record.inIfindex);
  if (record.outInterface !== undefined || record.outIfindex !== undefined)
    writeInterface(w, 'egress', record.outInterface, record.outIfindex);
  w.close();
  writeAgent(w, identity);

  const ruleName = verdict?.ruleName ?? f.trimmedPrefix;
  if (ruleName.length > 0 || verdict?.ruleset !== undefined || verdict?.ruleId !== undefined) {
    w.open('rule');
    if (ruleName.length > 0) w.str('name', ruleName);
    if (verdict?.ruleset !== undefined) w.str('ruleset', verdict.ruleset);
    if (verdict?.ruleId !== undefined) w.str('id', verdict.ruleId);
    w.close();
  }
  if (srcIp !== undefined || dstIp !== undefined) {
    w.open('related');
    w.strPair('ip', slotText(w, SLOT.relatedIp), VALUES.texts[SLOT.relatedIp2]);
    w.close();
  }

  w.open('netfilter');
  w.num('group', record.group);
  if (f.label !== undefined) w.str('group_label', f.label);
  if (record.netns !== undefined) {
    w.open('netns');
    w.str('name', record.netns.name);
    w.num('inode', record.netns.inode);
    w.close();
  }
  w.str('family', familyName(record.family) ?? String(record.family));
  w.num('family_number', record.family);
  const hook = hookName(record.family, record.hook);
  if (hook !== undefined) w.str('hook', hook);
  w.num('hook_number', record.hook);
  w.str('prefix', record.prefix);
  w.bool('kernel_timestamp', record.kernelTimestamp);
  w.num('payload_length', slot(w, SLOT.payloadLength));
  w.num('hw_protocol', record.hwProtocol);
  if (record.mark !== undefined) w.num('mark', record.mark);
  if (record.uid !== undefined) w.num('uid', record.uid);
  if (record.gid !== undefined) w.num('gid', record.gid);
  if (record.seq !== undefined) w.num('seq', slot(w, SLOT.seq));
  if (record.seqGlobal !== undefined) w.num('seq_global', slot(w, SLOT.seqGlobal));
  if (record.ctInfo !== undefined) w.num('ct_info', record.ctInfo);
  if (record.physInInterface !== undefined || record.physInIfindex !== undefined)
    writePhys(w, 'physin', record.physInInterface, record.physInIfindex);
  if (record.physOutInterface !== undefined || record.physOutIfindex !== undefined)
    writePhys(w, 'physout', record.physOutInterface, record.physOutIfindex);
  if (f.outerVlan !== undefined) {
    w.open('vlan');
    w.num('id', f.outerVlan);
    if (f.innerVlan !== undefined) w.num('inner_id', f.innerVlan);
    w.close();
  }
  const decodeError = record.decodeError ?? pkt.error;
  if (decodeError !== undefined) w.str('decode_error', decodeError);

  if (net !== undefined) {
    if (net.kind === 'ipv4') {
      w.open('ip');
      w.num('ttl', net.ttl);
      w.num('id', slot(w, SLOT.ipId));
      w.num('tos', net.tos);
      w.strs('flags', ipv4FlagNames(net.flagReserved, net.dontFragment, net.moreFragments));
      w.num('fragment_offset', net.fragmentOffset);
      if (net.options.length > 0) w.str('options', net.options);
      w.close();
    } else if (net.kind === 'ipv6') {
      w.open('ip');
      w.num('hop_limit', net.hopLimit);
      w.num('flow_label', slot(w, SLOT.flowLabel));
      w.num('traffic_class', net.trafficClass);
      if (net.extensionHeaders.length > 0) w.nums('extension_headers', net.extensionHeaders);
      if (net.fragment !== undefined) {
        w.open('fragment');
        w.num('offset', net.fragment.offset);
        w.bool('more_fragments', net.fragment.moreFragments);
        w.num('id', net.fragment.id);
        w.close();
      }
      w.close();
    } else {
      w.open('arp');
      w.num('operation', net.operation);
      if (net.senderMac !== undefined) w.str('sender_mac', net.senderMac);
      if (net.targetMac !== undefined) w.str('target_mac', net.targetMac);
      w.close();
    }
  }

  if (tr !== undefined) writeTransport(w, tr);
  w.close();
}

function writeTransport(w: DocWriter, tr: NonNullable<PacketRecord['packet']['transport']>): void {
  switch (tr.kind) {
    case 'tcp':
      w.open('tcp');
      w.strs('flags', tcpFlagNames(tr.flags));
      w.num('window', slot(w, SLOT.tcpWindow));
      w.num('seq', slot(w, SLOT.tcpSeq));
      w.num('ack', slot(w, SLOT.tcpAck));
      if (tr.urgentPointer !== 0) w.num('urgent_pointer', tr.urgentPointer);
      if (tr.mss !== undefined) w.num('mss', tr.mss);
      if (tr.options.length > 0) w.str('options', slotText(w, SLOT.tcpOptions));
      w.close();
      return;
    case 'udp':
    case 'udplite':
      w.open('udp');
      w.num('length', slot(w, SLOT.udpLength));
      w.close();
      return;
    case 'sctp':
      w.open('sctp');
      w.num('verification_tag', tr.verificationTag);
      if (tr.firstChunkType !== undefined) w.num('chunk_type', tr.firstChunkType);
      w.close();
      return;
    case 'icmp':
    case 'icmpv6': {
      w.open('icmp');
      w.num('type', tr.type);
      w.num('code', tr.code);
      if (tr.id !== undefined) w.num('id', tr.id);
      if (tr.sequence !== undefined) w.num('sequence', slot(w, SLOT.icmpSequence));
      if (tr.mtu !== undefined) w.num('mtu', tr.mtu);
      if (tr.pointer !== undefined) w.num('pointer', tr.pointer);
      if (tr.kind === 'icmp') {
        if (tr.gateway !== undefined) w.str('gateway', tr.gateway);
      } else if (tr.target !== undefined) {
        w.str('target', tr.target);
      }
      const emb = tr.embedded;
      if (emb !== undefined && (emb.network !== undefined || emb.transport !== undefined)) {
        w.open('original');
        if (emb.network !== undefined) {
          w.str('src_ip', emb.network.src);
          w.str('dst_ip', emb.network.dst);
          w.num('protocol', emb.network.protocol);
        }
        const et = emb.transport;
        if (et !== undefined && (et.kind === 'tcp' || et.kind === 'udp' || et.kind === 'udplite' || et.kind === 'sctp')) {
          w.num('src_port', et.srcPort);
          w.num('dst_port', et.dstPort);
        }
        w.close();
      }
      w.close();
      return;
    }
    case 'gre':
      w.open('gre');
      w.num('version', tr.version);
      w.num('protocol', tr.protocol);
      if (tr.key !== undefined) w.num('key', tr.key);
      if (tr.sequence !== undefined) w.num('sequence', tr.sequence);
      if (tr.callId !== undefined) w.num('call_id', tr.callId);
      w.close();
      return;
    case 'esp':
      w.open('esp');
      w.num('spi', tr.spi);
      w.num('sequence', tr.sequence);
      w.close();
      return;
    case 'ah':
      w.open('ah');
      w.num('spi', tr.spi);
      w.num('sequence', tr.sequence);
      w.num('next_header', tr.nextHeader);
      w.close();
      return;
    case 'other':
      return;
  }
}
