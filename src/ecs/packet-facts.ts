// What the packet document (packet.ts) derives from a record before writing
// fields: the verdict, the endpoints, the VLAN ids, the MACs and the
// Community ID.
import type { PacketRecord } from '../records';
import type { TransportLayer } from '../packet/types';
import { type ActionResult, defaultActionMapper } from '../verdict/action';
import { type CommunityIdInput, communityIdDigest } from './community-id';
import type { EcsOptions } from './packet';
import { ecsMac, ecsMacFromHex } from './names';

export interface PacketFacts {
  label: string | undefined;
  verdict: ActionResult | undefined;
  isIp: boolean;
  srcIp: string | undefined;
  dstIp: string | undefined;
  srcPort: number | undefined;
  dstPort: number | undefined;
  /** IP datagram length: IPv4 total length, IPv6 payload length + 40. */
  bytes: number | undefined;
  /** IP protocol, -1 when unknown. */
  protocol: number;
  outerVlan: number | undefined;
  innerVlan: number | undefined;
  srcMac: string | undefined;
  dstMac: string | undefined;
  /** The Community ID's SHA-1 digest (community-id.ts writes its text); shared, like the facts. */
  communityId: Int32Array | undefined;
  /** The prefix without its surrounding spaces (rule.name when no convention names the rule). */
  trimmedPrefix: string;
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

// Reused between calls (the hot path allocates nothing here); callers read it before the next call.
const FACTS: PacketFacts = {
  label: undefined,
  verdict: undefined,
  isIp: false,
  srcIp: undefined,
  dstIp: undefined,
  srcPort: undefined,
  dstPort: undefined,
  bytes: undefined,
  protocol: -1,
  outerVlan: undefined,
  innerVlan: undefined,
  srcMac: undefined,
  dstMac: undefined,
  communityId: undefined,
  trimmedPrefix: '',
};
const CID_INPUT: CommunityIdInput = { srcIp: '', dstIp: '', protocol: 0 };
// The digest of a flow not in the cache: the facts point at it until the next call.
const CID_DIGEST = new Int32Array(5);

// The Community IDs of recent flows, direct-mapped by a hash of the ports and
// addresses: a flow's next packets find theirs without hashing it again, and
// a scan (every packet a new flow) pays one compare and no garbage for it. A
// flow's ID is kept from its second packet on (its first leaves a fingerprint
// in CID_SEEN): kept from the first, every packet of a scan would keep its ID
// alive past the young generation, for the garbage collector to move and
// then collect as old (12 % of a scan's time went to GC).
const CID_SLOTS = 4096;
const CID_SEEN = new Int32Array(CID_SLOTS);
interface CidEntry {
  srcIp: string;
  dstIp: string;
  /** protocol and both ports (or ICMP type and code) in one number. */
  rest: number;
  seed: number;
  digest: Int32Array;
}
const CID_CACHE: Array<CidEntry | undefined> = new Array(CID_SLOTS);

function lastChars(s: string): number {
  const n = s.length;
  return n < 2 ? n : (s.charCodeAt(n - 1) * 31 + s.charCodeAt(n - 2)) * 31 + n;
}

// The last prefix and its trimmed form (prefixes repeat: a rule logs many packets).
let lastPrefix = '';
let lastTrimmed = '';

/** The derived facts of a record. The returned object is shared: read it before calling again. */
export function packetFacts(record: PacketRecord, options: EcsOptions | undefined): PacketFacts {
  const f = packetEndpoints(record, options);
  const pkt = record.packet;

  const mapper = options?.actionMapper ?? defaultActionMapper;
  f.label = record.groupLabel ?? options?.groupLabels?.[record.group];
  f.verdict = record.prefix.length > 0 ? mapper(record.prefix) : undefined;
  if (f.verdict === undefined && f.label !== undefined && f.label.length > 0) f.verdict = mapper(f.label);

  if (record.prefix !== lastPrefix) {
    lastPrefix = record.prefix;
    lastTrimmed = record.prefix.trim();
  }
  f.trimmedPrefix = lastTrimmed;

  // VLAN: the offloaded tag (NFULA_VLAN) is the outer one, then tags in the frame.
  const linkVlans = pkt.link?.vlans;
  f.outerVlan = record.vlan?.id;
  f.innerVlan = undefined;
  if (linkVlans !== undefined && linkVlans.length > 0) {
    if (f.outerVlan === undefined) {
      f.outerVlan = linkVlans[0].id;
      if (linkVlans.length > 1) f.innerVlan = linkVlans[1].id;
    } else {
      f.innerVlan = linkVlans[0].id;
    }
  }

  f.srcMac = f.dstMac = undefined;
  const link = pkt.link;
  if (link !== undefined) {
    f.srcMac = ecsMac(link.src);
    f.dstMac = ecsMac(link.dst);
  } else {
    if (record.hwAddr !== undefined) f.srcMac = ecsMac(record.hwAddr);
    // The bridge family's NFULA_L2HDR (an Ethernet header: dst, src, type) when the frame was not decoded.
    const header = record.l2Header;
    if (header !== undefined && header.length >= 28) {
      f.dstMac = ecsMacFromHex(header, 0);
      if (f.srcMac === undefined) f.srcMac = ecsMacFromHex(header, 12);
    }
  }
  return f;
}

/**
 * Only the endpoints of packetFacts (isIp, addresses, ports, bytes, protocol,
 * Community ID): what the document's per-packet values need (a line template
 * has the rest). The same shared object.
 */
export function packetEndpoints(record: PacketRecord, options: EcsOptions | undefined): PacketFacts {
  const f = FACTS;
  const pkt = record.packet;
  const net = pkt.network;
  const tr = pkt.transport;
  f.isIp = net !== undefined && net.kind !== 'arp';

  f.srcIp = f.dstIp = undefined;
  f.srcPort = f.dstPort = f.bytes = undefined;
  f.protocol = -1;
  if (net !== undefined) {
    if (net.kind === 'arp') {
      f.srcIp = net.senderIp;
      f.dstIp = net.targetIp;
    } else {
      f.srcIp = net.src;
      f.dstIp = net.dst;
      f.bytes = net.kind === 'ipv4' ? net.totalLength : net.payloadLength + 40;
      f.protocol = net.protocol;
    }
  }
  let icmpType: number | undefined;
  let icmpCode: number | undefined;
  if (tr !== undefined) {
    if (f.protocol < 0) f.protocol = tr.kind === 'other' ? tr.protocol : PROTO_NUMBERS[tr.kind];
    if (tr.kind === 'tcp' || tr.kind === 'udp' || tr.kind === 'udplite' || tr.kind === 'sctp') {
      f.srcPort = tr.srcPort;
      f.dstPort = tr.dstPort;
    } else if (tr.kind === 'icmp' || tr.kind === 'icmpv6') {
      icmpType = tr.type;
      icmpCode = tr.code;
    }
  }

  f.communityId = undefined;
  if (f.protocol >= 0 && f.isIp && options?.communityId !== false && f.srcIp !== undefined && f.dstIp !== undefined) {
    const seed = (options?.communityIdSeed ?? 0) & 0xffff;
    const a = f.srcPort ?? icmpType ?? 0x10000;
    const b = f.dstPort ?? icmpCode ?? 0x10000;
    // 8 + 17 + 17 bits: exact in a double.
    const rest = ((f.protocol & 0xff) * 0x20000 + a) * 0x20000 + b;
    const h = Math.imul(a ^ (b << 16), 0x9e3779b1) ^ lastChars(f.srcIp) ^ Math.imul(lastChars(f.dstIp), 0x85ebca6b);
    const slot = h >>> 20;
    const hit = CID_CACHE[slot];
    if (hit !== undefined && hit.rest === rest && hit.seed === seed && hit.srcIp === f.srcIp && hit.dstIp === f.dstIp) {
      f.communityId = hit.digest;
    } else {
      const cid = CID_INPUT;
      cid.srcIp = f.srcIp;
      cid.dstIp = f.dstIp;
      cid.protocol = f.protocol;
      cid.srcPort = f.srcPort;
      cid.dstPort = f.dstPort;
      cid.icmpType = icmpType;
      cid.icmpCode = icmpCode;
      if (communityIdDigest(cid, seed, CID_DIGEST)) {
        f.communityId = CID_DIGEST;
        // Never 0, the table's initial value.
        const fingerprint = (h ^ f.protocol) | 1;
        if (CID_SEEN[slot] !== fingerprint) CID_SEEN[slot] = fingerprint;
        else if (hit === undefined) {
          CID_CACHE[slot] = { srcIp: f.srcIp, dstIp: f.dstIp, rest, seed, digest: CID_DIGEST.slice() };
        } else {
          hit.srcIp = f.srcIp;
          hit.dstIp = f.dstIp;
          hit.rest = rest;
          hit.seed = seed;
          hit.digest.set(CID_DIGEST);
        }
      }
    }
  }
  return f;
}
