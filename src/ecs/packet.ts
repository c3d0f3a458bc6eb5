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
import type { TransportLayer } from '../packet/types';
import { type ActionMapper, type ActionResult, defaultActionMapper } from './action';
import { tryCommunityId, type CommunityIdInput } from './community-id';
import {
  ecsMac,
  ecsMacFromHex,
  familyName,
  hookDirection,
  hookName,
  ianaNumber,
  ipv4FlagNames,
  tcpFlagNames,
  transportName,
} from './names';
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
  observer: {
    type: 'firewall';
    product: 'netfilter';
    hostname?: string;
    name?: string;
    ingress?: EcsInterface;
    egress?: EcsInterface;
  };
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

const PROTO_NUMBERS: Record<TransportLayer['kind'], number> = {
  tcp: 6,
  udp: 17,
  udplite: 136,
  icmp: 1,
  icmpv6: 58,
  sctp: 132,
  gre: 47,
  esp: 50,
  ah: 51,
  other: -1,
};

// Reused input of the community ID: one object, fields overwritten per packet.
const CID_INPUT: CommunityIdInput = { srcIp: '', dstIp: '', protocol: 0 };
const CID_OPTIONS: { seed: number } = { seed: 0 };

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

  // --- verdict ---------------------------------------------------------------
  const mapper: ActionMapper = options?.actionMapper ?? defaultActionMapper;
  const label = record.groupLabel ?? options?.groupLabels?.[record.group];
  let verdict: ActionResult | undefined = record.prefix.length > 0 ? mapper(record.prefix) : undefined;
  if (verdict === undefined && label !== undefined && label.length > 0) verdict = mapper(label);

  const isIp = net !== undefined && net.kind !== 'arp';
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
  const observer: EcsDocument['observer'] = { type: 'firewall', product: 'netfilter' };
  const obs = options?.observer;
  if (obs !== undefined) {
    if (obs.hostname !== undefined) observer.hostname = obs.hostname;
    if (obs.name !== undefined) observer.name = obs.name;
  }
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

  // VLAN: the offloaded tag (NFULA_VLAN) is the outer one, then tags in the frame.
  const linkVlans = pkt.link?.vlans;
  let outerVlan = record.vlan?.id;
  let innerVlan: number | undefined;
  if (linkVlans !== undefined && linkVlans.length > 0) {
    if (outerVlan === undefined) {
      outerVlan = linkVlans[0].id;
      if (linkVlans.length > 1) innerVlan = linkVlans[1].id;
    } else {
      innerVlan = linkVlans[0].id;
    }
  }
  // --- endpoints -------------------------------------------------------------
  let srcIp: string | undefined;
  let dstIp: string | undefined;
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  let bytes: number | undefined;
  let protocol = -1;

  if (net !== undefined) {
    if (net.kind === 'ipv4') {
      network.type = 'ipv4';
      srcIp = net.src;
      dstIp = net.dst;
      bytes = net.totalLength;
      protocol = net.protocol;
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
      srcIp = net.src;
      dstIp = net.dst;
      bytes = net.payloadLength + 40;
      protocol = net.protocol;
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
      srcIp = net.senderIp;
      dstIp = net.targetIp;
      const arp: NonNullable<NetfilterFields['arp']> = { operation: net.operation };
      if (net.senderMac !== undefined) arp.sender_mac = net.senderMac;
      if (net.targetMac !== undefined) arp.target_mac = net.targetMac;
      nf.arp = arp;
    }
  }

  let icmpType: number | undefined;
  let icmpCode: number | undefined;
  if (tr !== undefined) {
    if (protocol < 0) protocol = tr.kind === 'other' ? tr.protocol : PROTO_NUMBERS[tr.kind];
    switch (tr.kind) {
      case 'tcp': {
        srcPort = tr.srcPort;
        dstPort = tr.dstPort;
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
        srcPort = tr.srcPort;
        dstPort = tr.dstPort;
        nf.udp = { length: tr.length };
        break;
      case 'sctp':
        srcPort = tr.srcPort;
        dstPort = tr.dstPort;
        nf.sctp =
          tr.firstChunkType === undefined
            ? { verification_tag: tr.verificationTag }
            : { verification_tag: tr.verificationTag, chunk_type: tr.firstChunkType };
        break;
      case 'icmp':
      case 'icmpv6': {
        icmpType = tr.type;
        icmpCode = tr.code;
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

  if (protocol >= 0 && isIp) {
    network.transport = transportName(protocol);
    network.iana_number = ianaNumber(protocol);
    if (options?.communityId !== false && srcIp !== undefined && dstIp !== undefined) {
      const cid = CID_INPUT;
      cid.srcIp = srcIp;
      cid.dstIp = dstIp;
      cid.protocol = protocol;
      cid.srcPort = srcPort;
      cid.dstPort = dstPort;
      cid.icmpType = icmpType;
      cid.icmpCode = icmpCode;
      CID_OPTIONS.seed = options?.communityIdSeed ?? 0;
      const id = tryCommunityId(cid, CID_OPTIONS);
      if (id !== undefined) network.community_id = id;
    }
  }
  if (direction !== undefined) network.direction = direction;
  if (outerVlan !== undefined) {
    network.vlan = { id: String(outerVlan) };
    nf.vlan = innerVlan === undefined ? { id: outerVlan } : { id: outerVlan, inner_id: innerVlan };
    if (innerVlan !== undefined) network.inner = { vlan: { id: String(innerVlan) } };
  }

  // --- MAC addresses -----------------------------------------------------------
  let srcMac: string | undefined;
  let dstMac: string | undefined;
  const link = pkt.link;
  if (link !== undefined) {
    srcMac = ecsMac(link.src);
    dstMac = ecsMac(link.dst);
  } else {
    if (record.hwAddr !== undefined) srcMac = ecsMac(record.hwAddr);
    // The bridge family's NFULA_L2HDR (an Ethernet header: dst, src, type) when the frame was not decoded.
    const header = record.l2Header;
    if (header !== undefined && header.length >= 28) {
      dstMac = ecsMacFromHex(header, 0);
      if (srcMac === undefined) srcMac = ecsMacFromHex(header, 12);
    }
  }

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
