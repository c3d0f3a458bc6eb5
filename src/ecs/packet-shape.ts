// What a packet's ECS line depends on besides its slots (packet-template.ts):
// two records of equal shape get the same template. Every field that
// packet-json.ts writes as text, or tests for presence, is here; the unit test
// changes each field of a record in turn and checks that the line follows.
//
// Only the common shapes are kept: IPv4, IPv6 without extension headers, and
// TCP, UDP, UDP-Lite, ICMP/ICMPv6 without an error quote or the fields of
// redirects and errors (or no transport). The rest is written in full each time.
import type { PacketRecord } from '../records';

/** Whether records like this one may share a template. */
export function shapeCacheable(r: PacketRecord): boolean {
  const net = r.packet.network;
  if (net === undefined || net.kind === 'arp') return false;
  if (net.kind === 'ipv6' && (net.extensionHeaders.length > 0 || net.fragment !== undefined)) return false;
  const tr = r.packet.transport;
  if (tr === undefined) return true;
  switch (tr.kind) {
    case 'tcp':
    case 'udp':
    case 'udplite':
      return true;
    case 'icmp':
      return tr.embedded === undefined && tr.gateway === undefined && tr.mtu === undefined && tr.pointer === undefined;
    case 'icmpv6':
      return tr.embedded === undefined && tr.target === undefined && tr.mtu === undefined && tr.pointer === undefined;
    default:
      return false;
  }
}

/** A table index for a cacheable record: ports (or ICMP id), group, hook and the addresses' last characters. */
export function packetShapeHash(r: PacketRecord): number {
  const net = r.packet.network as { src: string; dst: string; protocol: number };
  const tr = r.packet.transport as { srcPort?: number; dstPort?: number; id?: number } | undefined;
  let h = (tr?.srcPort ?? tr?.id ?? 0) * 31 + (tr?.dstPort ?? 0);
  h = h * 31 + r.group * 7 + r.hook;
  h = h * 31 + net.src.charCodeAt(net.src.length - 1) * 5 + net.dst.charCodeAt(net.dst.length - 1);
  return (h ^ (h >>> 8)) >>> 0;
}

/** The shape of one cacheable record, compared field by field. */
export class PacketShape {
  // The NFLOG entry.
  private group = 0;
  private groupLabel: string | undefined;
  /** One object per namespace (the decoder's), so identity is equality. */
  private netns: PacketRecord['netns'];
  private family = 0;
  private hook = 0;
  private hwProtocol = 0;
  private prefix = '';
  private kernelTimestamp = false;
  private mark: number | undefined;
  private uid: number | undefined;
  private gid: number | undefined;
  private ctInfo: number | undefined;
  private hasSeq = false;
  private hasSeqGlobal = false;
  private inIfindex: number | undefined;
  private outIfindex: number | undefined;
  private physInIfindex: number | undefined;
  private physOutIfindex: number | undefined;
  private inInterface: string | undefined;
  private outInterface: string | undefined;
  private physInInterface: string | undefined;
  private physOutInterface: string | undefined;
  private hwAddr: string | undefined;
  private l2Header: string | undefined;
  private vlanId: number | undefined;
  private decodeError: string | undefined;
  private packetError: string | undefined;
  // Link layer.
  private linkSrc: string | undefined;
  private linkDst: string | undefined;
  private linkVlans = 0;
  private linkVlan0 = 0;
  private linkVlan1 = 0;
  // Network layer (IPv4 or IPv6).
  private netKind = '';
  private src = '';
  private dst = '';
  private protocol = 0;
  private ttl = 0;
  private tos = 0;
  private ipv4Flags = 0;
  private fragmentOffset = 0;
  private ipOptions = '';
  private hopLimit = 0;
  private trafficClass = 0;
  private flowLabel = 0;
  // Transport layer.
  private trKind = '';
  private srcPort = 0;
  private dstPort = 0;
  private tcpFlags = 0;
  private urgentPointer = 0;
  private mss: number | undefined;
  private hasTcpOptions = false;
  private icmpType = 0;
  private icmpCode = 0;
  private icmpId: number | undefined;
  private hasIcmpSequence = false;

  /** Takes the shape of a record for which shapeCacheable() is true. */
  set(r: PacketRecord): void {
    this.group = r.group;
    this.groupLabel = r.groupLabel;
    this.netns = r.netns;
    this.family = r.family;
    this.hook = r.hook;
    this.hwProtocol = r.hwProtocol;
    this.prefix = r.prefix;
    this.kernelTimestamp = r.kernelTimestamp;
    this.mark = r.mark;
    this.uid = r.uid;
    this.gid = r.gid;
    this.ctInfo = r.ctInfo;
    this.hasSeq = r.seq !== undefined;
    this.hasSeqGlobal = r.seqGlobal !== undefined;
    this.inIfindex = r.inIfindex;
    this.outIfindex = r.outIfindex;
    this.physInIfindex = r.physInIfindex;
    this.physOutIfindex = r.physOutIfindex;
    this.inInterface = r.inInterface;
    this.outInterface = r.outInterface;
    this.physInInterface = r.physInInterface;
    this.physOutInterface = r.physOutInterface;
    this.hwAddr = r.hwAddr;
    this.l2Header = r.l2Header;
    this.vlanId = r.vlan?.id;
    this.decodeError = r.decodeError;
    const pkt = r.packet;
    this.packetError = pkt.error;

    const link = pkt.link;
    this.linkSrc = link?.src;
    this.linkDst = link?.dst;
    this.linkVlans = link === undefined ? 0 : link.vlans.length;
    this.linkVlan0 = this.linkVlans > 0 ? link!.vlans[0].id : 0;
    this.linkVlan1 = this.linkVlans > 1 ? link!.vlans[1].id : 0;

    const net = pkt.network!;
    this.netKind = net.kind;
    if (net.kind === 'ipv4') {
      this.src = net.src;
      this.dst = net.dst;
      this.protocol = net.protocol;
      this.ttl = net.ttl;
      this.tos = net.tos;
      this.ipv4Flags = ipv4FlagBits(net.flagReserved, net.dontFragment, net.moreFragments);
      this.fragmentOffset = net.fragmentOffset;
      this.ipOptions = net.options;
    } else if (net.kind === 'ipv6') {
      this.src = net.src;
      this.dst = net.dst;
      this.protocol = net.protocol;
      this.hopLimit = net.hopLimit;
      this.trafficClass = net.trafficClass;
      this.flowLabel = net.flowLabel;
    }

    const tr = pkt.transport;
    this.trKind = tr?.kind ?? '';
    this.srcPort = this.dstPort = this.tcpFlags = this.urgentPointer = this.icmpType = this.icmpCode = 0;
    this.mss = this.icmpId = undefined;
    this.hasTcpOptions = this.hasIcmpSequence = false;
    if (tr === undefined) return;
    if (tr.kind === 'tcp') {
      this.srcPort = tr.srcPort;
      this.dstPort = tr.dstPort;
      this.tcpFlags = tr.flags;
      this.urgentPointer = tr.urgentPointer;
      this.mss = tr.mss;
      this.hasTcpOptions = tr.options.length > 0;
    } else if (tr.kind === 'udp' || tr.kind === 'udplite') {
      this.srcPort = tr.srcPort;
      this.dstPort = tr.dstPort;
    } else if (tr.kind === 'icmp' || tr.kind === 'icmpv6') {
      this.icmpType = tr.type;
      this.icmpCode = tr.code;
      this.icmpId = tr.id;
      this.hasIcmpSequence = tr.sequence !== undefined;
    }
  }

  /** Whether a cacheable record has this shape. */
  matches(r: PacketRecord): boolean {
    const pkt = r.packet;
    const net = pkt.network!;
    if (net.kind !== this.netKind || net.kind === 'arp' || net.src !== this.src || net.dst !== this.dst || net.protocol !== this.protocol)
      return false;
    if (net.kind === 'ipv4') {
      if (
        net.ttl !== this.ttl ||
        net.tos !== this.tos ||
        ipv4FlagBits(net.flagReserved, net.dontFragment, net.moreFragments) !== this.ipv4Flags ||
        net.fragmentOffset !== this.fragmentOffset ||
        net.options !== this.ipOptions
      )
        return false;
    } else if (net.hopLimit !== this.hopLimit || net.trafficClass !== this.trafficClass || net.flowLabel !== this.flowLabel) {
      return false;
    }

    const tr = pkt.transport;
    if ((tr?.kind ?? '') !== this.trKind) return false;
    if (tr !== undefined) {
      if (tr.kind === 'tcp') {
        if (
          tr.srcPort !== this.srcPort ||
          tr.dstPort !== this.dstPort ||
          tr.flags !== this.tcpFlags ||
          tr.urgentPointer !== this.urgentPointer ||
          tr.mss !== this.mss ||
          tr.options.length > 0 !== this.hasTcpOptions
        )
          return false;
      } else if (tr.kind === 'udp' || tr.kind === 'udplite') {
        if (tr.srcPort !== this.srcPort || tr.dstPort !== this.dstPort) return false;
      } else if (tr.kind === 'icmp' || tr.kind === 'icmpv6') {
        if (
          tr.type !== this.icmpType ||
          tr.code !== this.icmpCode ||
          tr.id !== this.icmpId ||
          (tr.sequence !== undefined) !== this.hasIcmpSequence
        )
          return false;
      }
    }

    const link = pkt.link;
    if (link?.src !== this.linkSrc || link?.dst !== this.linkDst) return false;
    const vlans = link === undefined ? 0 : link.vlans.length;
    if (
      vlans !== this.linkVlans ||
      (vlans > 0 && link!.vlans[0].id !== this.linkVlan0) ||
      (vlans > 1 && link!.vlans[1].id !== this.linkVlan1)
    )
      return false;

    return (
      r.group === this.group &&
      r.hook === this.hook &&
      r.prefix === this.prefix &&
      r.family === this.family &&
      r.hwProtocol === this.hwProtocol &&
      r.kernelTimestamp === this.kernelTimestamp &&
      r.mark === this.mark &&
      r.inIfindex === this.inIfindex &&
      r.outIfindex === this.outIfindex &&
      r.inInterface === this.inInterface &&
      r.outInterface === this.outInterface &&
      (r.seq !== undefined) === this.hasSeq &&
      (r.seqGlobal !== undefined) === this.hasSeqGlobal &&
      r.groupLabel === this.groupLabel &&
      r.netns === this.netns &&
      r.uid === this.uid &&
      r.gid === this.gid &&
      r.ctInfo === this.ctInfo &&
      r.physInIfindex === this.physInIfindex &&
      r.physOutIfindex === this.physOutIfindex &&
      r.physInInterface === this.physInInterface &&
      r.physOutInterface === this.physOutInterface &&
      r.hwAddr === this.hwAddr &&
      r.l2Header === this.l2Header &&
      r.vlan?.id === this.vlanId &&
      r.decodeError === this.decodeError &&
      pkt.error === this.packetError
    );
  }
}

function ipv4FlagBits(reserved: boolean, dontFragment: boolean, moreFragments: boolean): number {
  return (reserved ? 4 : 0) | (dontFragment ? 2 : 0) | (moreFragments ? 1 : 0);
}
