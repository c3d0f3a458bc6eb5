// A packet record as ulogd2 2.0.8 writes it with the stack
// NFLOG → BASE → IFINDEX → IP2STR → HWHDR → JSON: the keys each plugin sets, in
// the order the JSON plugin lists its inputs (NFLOG's, BASE's, IFINDEX's,
// IP2STR's, HWHDR's outputs), with ulogd's own quirks kept (see the comments).
import type { PacketRecord } from '../records';
import type {
  ArpPacket,
  IcmpHeader,
  Icmpv6Header,
  Ipv4Header,
  Ipv6Header,
  SctpHeader,
  TcpHeader,
  TransportLayer,
  UdpHeader,
} from '../packet/types';
import { UlogdLine, type UlogdJsonOptions } from './ulogd-writer';
import {
  ARPHRD_ETHER,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  NFPROTO_ARP,
  NFPROTO_BRIDGE,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
} from '../packet/protocols';

/** HWHDR's raw.type when there is a source address but no MAC header. */
const ARPHRD_VOID = 0xffff;
/** Extension headers ulogd's BASE walks over (hop-by-hop, routing, fragment, ESP, AH, destination options). */
const IPV6_EXTENSIONS = new Set([0, 43, 44, 50, 51, 60]);

/** The address family IP2STR converts with, or 0 when it refuses the packet. */
function ip2strFamily(record: PacketRecord): number {
  switch (record.family) {
    case NFPROTO_IPV4:
    case NFPROTO_ARP:
      return 4;
    case NFPROTO_IPV6:
      return 6;
    case NFPROTO_BRIDGE:
      if (record.hwProtocol === ETHERTYPE_IPV6) return 6;
      if (record.hwProtocol === ETHERTYPE_IPV4 || record.hwProtocol === ETHERTYPE_ARP) return 4;
      return 0;
    default:
      return 0;
  }
}

/** The layer BASE decodes: by family, and for bridge by the NFLOG hardware protocol. */
function baseLayer(record: PacketRecord): 'ipv4' | 'ipv6' | 'arp' | null {
  switch (record.family) {
    case NFPROTO_IPV4:
      return 'ipv4';
    case NFPROTO_IPV6:
      return 'ipv6';
    case NFPROTO_ARP:
      return 'arp';
    case NFPROTO_BRIDGE:
      if (record.hwProtocol === ETHERTYPE_IPV4) return 'ipv4';
      if (record.hwProtocol === ETHERTYPE_IPV6) return 'ipv6';
      if (record.hwProtocol === ETHERTYPE_ARP) return 'arp';
      return null;
    default:
      return null;
  }
}

/** The MAC header's bytes from the record's 'aa:bb:…' form. */
function macHeaderBytes(hwHeader: string): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < hwHeader.length; i += 3) out.push(parseInt(hwHeader.slice(i, i + 2), 16));
  return out;
}

/** Number of bytes in an 'aa:bb:…' string. */
function macLength(mac: string): number {
  return mac === '' ? 0 : (mac.length + 1) / 3;
}

/** ICMP checksums: BASE stores the field without ntohs, so on little-endian hosts its bytes come out swapped. */
function swap16(value: number): number {
  return ((value & 0xff) << 8) | (value >> 8);
}

/**
 * One ulogd2 JSON line (no newline) for an NFLOG packet record. Keys ulogd
 * only knows from its host (its clock when the kernel sent no timestamp, its
 * time zone, its settings) come from options.
 */
export function packetToUlogdJson(record: PacketRecord, options: UlogdJsonOptions = {}): string {
  // NFLOG takes its own clock when the kernel sent no timestamp (or a zero second).
  let timeUs = record.timestampUs;
  if (!record.kernelTimestamp || record.timestampUs < 1e6) timeUs = options.nowUs ?? record.receivedUs;
  const seconds = Math.floor(timeUs / 1e6);
  const micros = Math.round(timeUs - seconds * 1e6);

  const hwHeader = record.hwHeader !== undefined && record.hwLen ? macHeaderBytes(record.hwHeader) : null;
  const ethernet = hwHeader !== null && (record.hwType ?? 0) === ARPHRD_ETHER;
  // HWHDR overwrites oob.protocol with the MAC header's EtherType; JSON reads HWHDR's copy.
  const protocol = ethernet && hwHeader.length >= 14 ? (hwHeader[12] << 8) | hwHeader[13] : record.hwProtocol;

  const line = new UlogdLine();
  line.head(options, seconds, micros);

  // NFLOG
  if (record.payloadLength > 0) line.int('raw.pktlen', record.payloadLength);
  line.int('raw.pktcount', 1);
  line.bytes('oob.prefix', record.prefix);
  line.int('oob.time.sec', seconds);
  line.int('oob.time.usec', micros);
  line.int('oob.mark', record.mark ?? 0);
  if (record.inIfindex) line.int('oob.ifindex_in', record.inIfindex);
  if (record.outIfindex) line.int('oob.ifindex_out', record.outIfindex);
  line.int('oob.hook', record.hook);
  if (hwHeader !== null) line.int('raw.mac_len', record.hwLen as number);
  if (record.seq !== undefined) line.int('oob.seq.local', record.seq);
  if (record.seqGlobal !== undefined) line.int('oob.seq.global', record.seqGlobal);
  line.int('oob.family', record.family);
  line.int('oob.protocol', protocol);
  if (record.uid !== undefined) line.int('oob.uid', record.uid);
  if (record.gid !== undefined) line.int('oob.gid', record.gid);
  line.label(options);
  // raw.type as HWHDR leaves it: the hardware type with a MAC header, "void" with only a source address.
  if (hwHeader !== null) line.int('raw.type', record.hwType ?? 0);
  else if (record.hwAddr !== undefined) line.int('raw.type', ARPHRD_VOID);
  if (record.hwAddr !== undefined) line.int('raw.mac.addrlen', macLength(record.hwAddr));

  // BASE
  const layer = baseLayer(record);
  const network = record.packet.network;
  let src: string | undefined;
  let dst: string | undefined;
  if (layer === 'ipv4' && network?.kind === 'ipv4') {
    if (baseIpv4(line, record, network)) {
      src = network.src;
      dst = network.dst;
    }
  } else if (layer === 'ipv6' && network?.kind === 'ipv6') {
    if (record.payloadLength >= 40) {
      baseIpv6(line, record, network);
      src = network.src;
      dst = network.dst;
    }
  }
  let arp: ArpPacket | undefined;
  if (layer === 'arp' && network?.kind === 'arp' && record.payloadLength >= 28) {
    arp = network;
    line.int('arp.hwtype', arp.hardwareType);
    line.int('arp.protocoltype', arp.protocolType);
    line.int('arp.operation', arp.operation);
  }
  if (layer === 'ipv4' && network?.kind === 'ipv4' && network.fragmentOffset === 0) {
    const t = record.packet.transport;
    if (t?.kind === 'sctp' && record.payloadLength - network.headerLength >= 12) sctpKeys(line, t);
  }

  // IFINDEX: names in ulogd's namespace; '' for no interface.
  line.str('oob.in', record.inInterface ?? '');
  line.str('oob.out', record.outInterface ?? '');

  // IP2STR (cim names src_ip / dest_ip)
  if (ip2strFamily(record) !== 0) {
    if (src !== undefined && dst !== undefined) {
      line.str('src_ip', src);
      line.str('dest_ip', dst);
    }
    if (arp?.senderIp !== undefined && arp.targetIp !== undefined) {
      line.str('arp.saddr.str', arp.senderIp);
      line.str('arp.daddr.str', arp.targetIp);
    }
  }

  // HWHDR
  if (record.hwAddr !== undefined) line.str('mac.saddr.str', record.hwAddr);
  else if (ethernet && record.hwHeader !== undefined && hwHeader.length >= 12) line.str('mac.saddr.str', record.hwHeader.slice(18, 35));
  if (ethernet && record.hwHeader !== undefined && hwHeader.length >= 6) line.str('mac.daddr.str', record.hwHeader.slice(0, 17));
  if (hwHeader !== null && record.hwHeader !== undefined) line.str('mac.str', record.hwHeader);
  return line.done();
}

/** BASE's IPv4 keys and the transport's. False when BASE skips the packet (too short). */
function baseIpv4(line: UlogdLine, record: PacketRecord, ip: Ipv4Header): boolean {
  const len = record.payloadLength;
  if (len < 20 || len <= ip.headerLength) return false;
  line.int('ip.protocol', ip.protocol);
  line.int('ip.tos', ip.tos);
  line.int('ip.ttl', ip.ttl);
  line.int('ip.totlen', ip.totalLength);
  line.int('ip.ihl', ip.headerLength / 4);
  line.int('ip.csum', ip.checksum);
  line.int('ip.id', ip.id);
  // The whole 16-bit field: flags and offset.
  const fragoff = (ip.flagReserved ? 0x8000 : 0) | (ip.dontFragment ? 0x4000 : 0) | (ip.moreFragments ? 0x2000 : 0) | ip.fragmentOffset;
  line.int('ip.fragoff', fragoff);
  // ulogd reads a later fragment's data as a transport header; the record has no header there.
  if (ip.fragmentOffset !== 0) return true;
  transportKeys(line, record.packet.transport, len - ip.headerLength, false);
  return true;
}

/** BASE's IPv6 keys: its walk over the extension headers decides ip.protocol and ip6.nexthdr. */
function baseIpv6(line: UlogdLine, record: PacketRecord, ip: Ipv6Header): void {
  let transport: TransportLayer | undefined = record.packet.transport;
  let last = ip.protocol;
  let stoppedEarly = false;
  // ulogd stops at headers it does not know as extensions (mobility, 135), the record walks on.
  const exts = ip.extensionHeaders;
  for (let i = 0; i < exts.length; i++) {
    if (!IPV6_EXTENSIONS.has(exts[i])) {
      last = exts[i];
      transport = undefined;
      break;
    }
  }
  // AH is an extension header to ulogd: it goes on to the header after it.
  if (transport?.kind === 'ah' && last === 51) {
    last = transport.nextHeader;
    transport = transport.next;
    if (IPV6_EXTENSIONS.has(last)) stoppedEarly = true;
  }
  const fragment = ip.fragment;
  const laterFragment = fragment !== undefined && fragment.offset !== 0;
  // A truncated extension header: ulogd returns before ip.protocol and ip6.nexthdr.
  if (record.packet.error === 'ipv6.truncated' || record.packet.error === 'ipv6.too-many-extension-headers') stoppedEarly = true;

  // ESP ends the walk without ip.protocol, as does a later fragment.
  if (!stoppedEarly && !laterFragment && last !== 50) line.int('ip.protocol', last);
  line.int('ip6.payloadlen', ip.payloadLength);
  line.int('ip6.priority', ip.trafficClass);
  line.int('ip6.flowlabel', ip.flowLabel);
  line.int('ip6.hoplimit', ip.hopLimit);
  if (!stoppedEarly) line.int('ip6.nexthdr', last);
  if (fragment !== undefined) {
    line.int('ip6.fragoff', fragment.offset * 8);
    line.int('ip6.fragid', fragment.id);
  }
  if (stoppedEarly || laterFragment || last === 50) return;
  const headerLength = ip.headerLength ?? 40;
  transportKeys(line, transport, record.payloadLength - headerLength, true);
}

/** TCP, UDP, ICMP / ICMPv6 keys when BASE has enough bytes for the header (`left`). */
function transportKeys(line: UlogdLine, t: TransportLayer | undefined, left: number, v6: boolean): void {
  if (t === undefined) return;
  if (t.kind === 'tcp' && left >= 20) tcpKeys(line, t);
  else if (t.kind === 'udp' && left >= 8) udpKeys(line, t);
  else if (t.kind === 'icmp' && !v6 && left >= 8) icmpKeys(line, t);
  else if (t.kind === 'icmpv6' && v6 && left >= 8) icmpv6Keys(line, t);
}

function tcpKeys(line: UlogdLine, tcp: TcpHeader): void {
  line.int('src_port', tcp.srcPort);
  line.int('dest_port', tcp.dstPort);
  line.int('tcp.seq', tcp.seq);
  line.int('tcp.ackseq', tcp.ack);
  line.int('tcp.window', tcp.window);
  // BASE passes the 4-bit data offset and reserved fields through ntohs into a u8: always 0.
  line.int('tcp.offset', 0);
  line.int('tcp.reserved', 0);
  const f = tcp.flags;
  line.int('tcp.urg', f & 0x20 ? 1 : 0);
  if (f & 0x20) line.int('tcp.urgp', tcp.urgentPointer);
  line.int('tcp.ack', f & 0x10 ? 1 : 0);
  line.int('tcp.psh', f & 0x08 ? 1 : 0);
  line.int('tcp.rst', f & 0x04 ? 1 : 0);
  line.int('tcp.syn', f & 0x02 ? 1 : 0);
  line.int('tcp.fin', f & 0x01 ? 1 : 0);
  // res1: the 4 bits after the data offset (3 reserved + AE); res2: ECE and CWR. Booleans.
  line.int('tcp.res1', f & 0x100 || tcp.reserved ? 1 : 0);
  line.int('tcp.res2', f & 0xc0 ? 1 : 0);
  line.int('tcp.csum', tcp.checksum);
}

function udpKeys(line: UlogdLine, udp: UdpHeader): void {
  line.int('src_port', udp.srcPort);
  line.int('dest_port', udp.dstPort);
  line.int('udp.len', udp.length);
  line.int('udp.csum', udp.checksum);
}

function icmpKeys(line: UlogdLine, icmp: IcmpHeader): void {
  line.int('icmp.type', icmp.type);
  line.int('icmp.code', icmp.code);
  if ((icmp.type === 0 || icmp.type === 8) && icmp.id !== undefined && icmp.sequence !== undefined) {
    line.int('icmp.echoid', icmp.id);
    line.int('icmp.echoseq', icmp.sequence);
  }
  // icmp.gateway (redirect, parameter problem) is an address key: the JSON plugin skips those.
  if (icmp.type === 3 && icmp.code === 4 && icmp.mtu !== undefined) line.int('icmp.fragmtu', icmp.mtu);
  line.int('icmp.csum', swap16(icmp.checksum));
}

function icmpv6Keys(line: UlogdLine, icmp: Icmpv6Header): void {
  line.int('icmpv6.type', icmp.type);
  line.int('icmpv6.code', icmp.code);
  if ((icmp.type === 128 || icmp.type === 129) && icmp.id !== undefined && icmp.sequence !== undefined) {
    line.int('icmpv6.echoid', icmp.id);
    line.int('icmpv6.echoseq', icmp.sequence);
  }
  line.int('icmpv6.csum', swap16(icmp.checksum));
}

/** SCTP keys come last among BASE's (after the ARP ones); ulogd decodes SCTP over IPv4 only. */
function sctpKeys(line: UlogdLine, sctp: SctpHeader): void {
  line.int('src_port', sctp.srcPort);
  line.int('dest_port', sctp.dstPort);
  line.int('sctp.csum', sctp.checksum);
}
