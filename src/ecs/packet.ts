// PacketRecord → ECS document: a plain nested object, ready for JSON.stringify.
//
// Field choices (see the ECS reference in ../shared/reference/ecs/):
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
//   - observer.type 'firewall', observer.product 'netfilter'.
//   - everything else netfilter-specific under `netfilter.*`.
// Absent values are left out, never written as undefined or null.
import type { PacketRecord } from '../records';
import type { ActionResult } from '../verdict/action';
import { packetFacts } from './packet-facts';
import {
  familyName,
  hookDirection,
  hookName,
  ianaNumber,
  ipv4FlagNames,
  transportName,
} from './names';
import { tcpFlagNames } from '../packet/tcp';
import { ecsObserver, type EcsObserver } from './observer';
import { formatTimestampUs } from './timestamp';

/** The ECS version the documents conform to (every field used exists in it). */
export const ECS_VERSION = '9.5.0';

export interface EcsOptions {
  /** Prefix → verdict; the default rules of action.ts when absent. */
  actionMapper?: (prefix: string) => ActionResult | undefined;
  /** Seed of network.community_id (default 0). */
  communityIdSeed?: number;
  /** Compute network.community_id (default true). */
  communityId?: boolean;
  /** Labels of NFLOG groups, used when the record carries none. */
  groupLabels?: Record<number, string>;
  /** observer.hostname / observer.name. */
  observer?: { hostname?: string; name?: string };
}

export interface EcsInterface {
  interface: { name?: string; id?: string };
}

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
  rule?: { name: string };
  netfilter: NetfilterFields;
}

/** Project fields: what ECS has no place for. */
export interface NetfilterFields {
  group: number;
  group_label?: string;
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


function iface(name: string | undefined, index: number | undefined): EcsInterface | undefined {
  if (name === undefined && index === undefined) return undefined;
  const i: { name?: string; id?: string } = {};
  if (name !== undefined) i.name = name;
  if (index !== undefined) i.id = String(index);
  return { interface: i };
}

function phys(name: string | undefined, index: number | undefined): { name?: string; ifindex?: number } | undefined {
  if (name === undefined && index === undefined) return undefined;
  const p: { name?: string; ifindex?: number } = {};
  if (name !== undefined) p.name = name;
  if (index !== undefined) p.ifindex = index;
  return p;
}

/** Converts one NFLOG packet record into an ECS document. Never throws on odd records. */
export function packetToEcs(record: PacketRecord, options?: EcsOptions): EcsDocument {
  const pkt = record.packet;
  const net = pkt.network;
  const tr = pkt.transport;

  const facts = packetFacts(record, options);
  const verdict = facts.verdict;
  const label = facts.label;
  const isIp = facts.isIp;
  const types: string[] = isIp ? ['connection'] : [];
  types.push(verdict?.type ?? 'info');

  const event: EcsDocument['event'] = {
    kind: 'event',
    category: ['network'],
    type: types,
    module: 'netfilter',
    dataset: 'netfilter.log',
    created: formatTimestampUs(record.receivedUs),
  };
  if (verdict !== undefined) {
    event.action = verdict.action;
    if (verdict.outcome !== undefined) event.outcome = verdict.outcome;
  }
  if (record.seq !== undefined) event.sequence = record.seq;

  // --- observer --------------------------------------------------------------
  const observer: EcsDocument['observer'] = ecsObserver(options);
  const ingress = iface(record.inInterface, record.inIfindex);
  if (ingress !== undefined) observer.ingress = ingress;
  const egress = iface(record.outInterface, record.outIfindex);
  if (egress !== undefined) observer.egress = egress;

  // --- netfilter namespace ---------------------------------------------------
  const nf: NetfilterFields = {
    group: record.group,
    family: familyName(record.family) ?? String(record.family),
    family_number: record.family,
    hook_number: record.hook,
    prefix: record.prefix,
    kernel_timestamp: record.kernelTimestamp,
    payload_length: record.payloadLength,
    hw_protocol: record.hwProtocol,
  };
  if (label !== undefined) nf.group_label = label;
  const hook = hookName(record.family, record.hook);
  if (hook !== undefined) nf.hook = hook;
  if (record.mark !== undefined) nf.mark = record.mark;
  if (record.uid !== undefined) nf.uid = record.uid;
  if (record.gid !== undefined) nf.gid = record.gid;
  if (record.seq !== undefined) nf.seq = record.seq;
  if (record.seqGlobal !== undefined) nf.seq_global = record.seqGlobal;
  if (record.ctInfo !== undefined) nf.ct_info = record.ctInfo;
  const physin = phys(record.physInInterface, record.physInIfindex);
  if (physin !== undefined) nf.physin = physin;
  const physout = phys(record.physOutInterface, record.physOutIfindex);
  if (physout !== undefined) nf.physout = physout;
  const decodeError = record.decodeError ?? pkt.error;
  if (decodeError !== undefined) nf.decode_error = decodeError;

  // --- network ---------------------------------------------------------------
  const network: EcsDocument['network'] = {};
  const direction = hookDirection(record.family, record.hook);

  const { srcIp, dstIp, outerVlan, innerVlan } = facts;

  if (net !== undefined) {
    if (net.kind === 'ipv4') {
      network.type = 'ipv4';
      const ip: NonNullable<NetfilterFields['ip']> = {
        ttl: net.ttl,
        id: net.id,
        tos: net.tos,
        flags: ipv4FlagNames(net.flagReserved, net.dontFragment, net.moreFragments),
        fragment_offset: net.fragmentOffset,
      };
      if (net.options.length > 0) ip.options = net.options;
      nf.ip = ip;
    } else if (net.kind === 'ipv6') {
      network.type = 'ipv6';
      const ip: NonNullable<NetfilterFields['ip']> = {
        hop_limit: net.hopLimit,
        flow_label: net.flowLabel,
        traffic_class: net.trafficClass,
      };
      if (net.extensionHeaders.length > 0) ip.extension_headers = net.extensionHeaders.slice();
      if (net.fragment !== undefined) {
        ip.fragment = { offset: net.fragment.offset, more_fragments: net.fragment.moreFragments, id: net.fragment.id };
      }
      nf.ip = ip;
    } else {
      network.type = 'arp';
      const arp: NonNullable<NetfilterFields['arp']> = { operation: net.operation };
      if (net.senderMac !== undefined) arp.sender_mac = net.senderMac;
      if (net.targetMac !== undefined) arp.target_mac = net.targetMac;
      nf.arp = arp;
    }
  }

  if (tr !== undefined) {
    switch (tr.kind) {
      case 'tcp': {
        const tcp: NonNullable<NetfilterFields['tcp']> = {
          flags: tcpFlagNames(tr.flags),
          window: tr.window,
          seq: tr.seq,
          ack: tr.ack,
        };
        if (tr.urgentPointer !== 0) tcp.urgent_pointer = tr.urgentPointer;
        if (tr.mss !== undefined) tcp.mss = tr.mss;
        if (tr.options.length > 0) tcp.options = tr.options;
        nf.tcp = tcp;
        break;
      }
      case 'udp':
      case 'udplite':
        nf.udp = { length: tr.length };
        break;
      case 'sctp':
        nf.sctp =
          tr.firstChunkType === undefined
            ? { verification_tag: tr.verificationTag }
            : { verification_tag: tr.verificationTag, chunk_type: tr.firstChunkType };
        break;
      case 'icmp':
      case 'icmpv6': {
        const icmp: NonNullable<NetfilterFields['icmp']> = { type: tr.type, code: tr.code };
        if (tr.id !== undefined) icmp.id = tr.id;
        if (tr.sequence !== undefined) icmp.sequence = tr.sequence;
        if (tr.mtu !== undefined) icmp.mtu = tr.mtu;
        if (tr.pointer !== undefined) icmp.pointer = tr.pointer;
        if (tr.kind === 'icmp') {
          if (tr.gateway !== undefined) icmp.gateway = tr.gateway;
        } else if (tr.target !== undefined) {
          icmp.target = tr.target;
        }
        const emb = tr.embedded;
        if (emb !== undefined && (emb.network !== undefined || emb.transport !== undefined)) {
          const original: NonNullable<NonNullable<NetfilterFields['icmp']>['original']> = {};
          if (emb.network !== undefined) {
            original.src_ip = emb.network.src;
            original.dst_ip = emb.network.dst;
            original.protocol = emb.network.protocol;
          }
          const et = emb.transport;
          if (et !== undefined && (et.kind === 'tcp' || et.kind === 'udp' || et.kind === 'udplite' || et.kind === 'sctp')) {
            original.src_port = et.srcPort;
            original.dst_port = et.dstPort;
          }
          icmp.original = original;
        }
        nf.icmp = icmp;
        break;
      }
      case 'gre': {
        const gre: NonNullable<NetfilterFields['gre']> = { version: tr.version, protocol: tr.protocol };
        if (tr.key !== undefined) gre.key = tr.key;
        if (tr.sequence !== undefined) gre.sequence = tr.sequence;
        if (tr.callId !== undefined) gre.call_id = tr.callId;
        nf.gre = gre;
        break;
      }
      case 'esp':
        nf.esp = { spi: tr.spi, sequence: tr.sequence };
        break;
      case 'ah':
        nf.ah = { spi: tr.spi, sequence: tr.sequence, next_header: tr.nextHeader };
        break;
      case 'other':
        break;
    }
  }

  if (facts.protocol >= 0 && isIp) {
    network.transport = transportName(facts.protocol);
    network.iana_number = ianaNumber(facts.protocol);
    if (facts.communityId !== undefined) network.community_id = facts.communityId;
  }
  if (direction !== undefined) network.direction = direction;
  if (outerVlan !== undefined) {
    network.vlan = { id: String(outerVlan) };
    nf.vlan = innerVlan === undefined ? { id: outerVlan } : { id: outerVlan, inner_id: innerVlan };
    if (innerVlan !== undefined) network.inner = { vlan: { id: String(innerVlan) } };
  }

  const { srcPort, dstPort, srcMac, dstMac, bytes } = facts;

  // --- assemble --------------------------------------------------------------
  // Keys in reading order: @timestamp, ecs, event, source, destination, network, observer, rule, related, netfilter.
  const doc = {
    '@timestamp': formatTimestampUs(record.timestampUs),
    ecs: { version: ECS_VERSION },
    event,
  } as EcsDocument;
  if (srcIp !== undefined || srcPort !== undefined || srcMac !== undefined || bytes !== undefined) {
    const source: NonNullable<EcsDocument['source']> = {};
    if (srcIp !== undefined) source.ip = srcIp;
    if (srcPort !== undefined) source.port = srcPort;
    if (srcMac !== undefined) source.mac = srcMac;
    if (bytes !== undefined) {
      source.bytes = bytes;
      source.packets = 1;
    }
    doc.source = source;
  }
  if (dstIp !== undefined || dstPort !== undefined || dstMac !== undefined) {
    const destination: NonNullable<EcsDocument['destination']> = {};
    if (dstIp !== undefined) destination.ip = dstIp;
    if (dstPort !== undefined) destination.port = dstPort;
    if (dstMac !== undefined) destination.mac = dstMac;
    doc.destination = destination;
  }
  doc.network = network;
  doc.observer = observer;
  const ruleName = record.prefix.trim();
  if (ruleName.length > 0) doc.rule = { name: ruleName };
  if (srcIp !== undefined || dstIp !== undefined) {
    const ips: string[] = [];
    if (srcIp !== undefined) ips.push(srcIp);
    if (dstIp !== undefined && dstIp !== srcIp) ips.push(dstIp);
    doc.related = { ip: ips };
  }
  doc.netfilter = nf;
  return doc;
}
