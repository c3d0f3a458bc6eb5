// The kernel's LOG line for a PacketRecord, byte for byte as
// net/netfilter/nf_log_syslog.c prints it (Linux 6.x): what follows the
// syslog/kmsg header, without the trailing newline.
//
// The kernel reads skb->len where we read the NFLOG payload length: the two
// agree when the group copies whole packets (the default copy range).

import { HEX_LOWER, HEX_UPPER } from '../packet/hex';
import type {
  AhHeader,
  EmbeddedPacket,
  Icmpv6Header,
  IcmpHeader,
  Ipv4Header,
  Ipv6Header,
  TcpHeader,
  TransportLayer,
  UdpHeader,
} from '../packet/types';
import type { PacketRecord } from '../records';
import { ipv6Full } from './ipv6-full';
import { interfaceText } from './interface-name';
import { ARPHRD_ETHER, NFPROTO_ARP, NFPROTO_IPV4, NFPROTO_IPV6 } from '../packet/protocols';

/** The kernel's log flags (include/uapi/linux/netfilter/nf_log.h). */
export const NF_LOG_TCPSEQ = 0x01;
export const NF_LOG_TCPOPT = 0x02;
export const NF_LOG_IPOPT = 0x04;
export const NF_LOG_UID = 0x08;
export const NF_LOG_MACDECODE = 0x20;

/** Which optional parts to print: the LOG target's flags (nft `log flags …`, iptables `--log-…`). */
export interface LogLineOptions {
  /** NF_LOG_TCPSEQ: SEQ= and ACK= (nft `flags tcp sequence`, iptables --log-tcp-sequence). */
  tcpSequence?: boolean;
  /** NF_LOG_TCPOPT: TCP options as hex (nft `flags tcp options`, --log-tcp-options). */
  tcpOptions?: boolean;
  /** NF_LOG_IPOPT: IPv4 options, IPv6 extension headers (nft `flags ip options`, --log-ip-options). */
  ipOptions?: boolean;
  /** NF_LOG_UID: UID= GID= of the local socket (nft `flags skuid`, --log-uid). */
  uid?: boolean;
  /** NF_LOG_MACDECODE: MACSRC= MACDST= MACPROTO= instead of MAC= (nft `flags ether`, --log-macdecode). */
  macDecode?: boolean;
}

/** Options from an NF_LOG_* bit mask (NF_LOG_MASK 0x2f: all of them). */
export function logLineOptionsFromFlags(flags: number): LogLineOptions {
  return {
    tcpSequence: (flags & NF_LOG_TCPSEQ) !== 0,
    tcpOptions: (flags & NF_LOG_TCPOPT) !== 0,
    ipOptions: (flags & NF_LOG_IPOPT) !== 0,
    uid: (flags & NF_LOG_UID) !== 0,
    macDecode: (flags & NF_LOG_MACDECODE) !== 0,
  };
}

/** "aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:08:00": Ethernet header text length. */
const ETH_HEADER_TEXT = 41;

/** Kernel TCP flag words in its order (AE CWR ECE URG ACK PSH RST SYN FIN), one string per 9-bit value. */
const TCP_FLAG_TEXT: readonly string[] = (() => {
  const names: Array<[number, string]> = [
    [0x100, 'AE '],
    [0x80, 'CWR '],
    [0x40, 'ECE '],
    [0x20, 'URG '],
    [0x10, 'ACK '],
    [0x08, 'PSH '],
    [0x04, 'RST '],
    [0x02, 'SYN '],
    [0x01, 'FIN '],
  ];
  const out: string[] = [];
  for (let f = 0; f < 512; f++)
    out.push(
      names
        .filter(([bit]) => (f & bit) !== 0)
        .map(([, n]) => n)
        .join(''),
    );
  return out;
})();

/** Bytes an ICMP type needs before the kernel prints its fields (required_len in nf_log_syslog.c). */
const ICMP_REQUIRED = [4, 0, 0, 28, 28, 28, 0, 0, 4, 0, 0, 28, 28, 20, 20, 0, 0, 12, 12];

/**
 * Set by a protocol part when the kernel's dump function returns early
 * (INCOMPLETE TCP/UDP, truncated options): nothing follows, not even UID/MARK.
 */
let stopped = false;

/** The LOG line the kernel prints for this packet (prefix first, no newline). */
export function packetToLogLine(record: PacketRecord, options: LogLineOptions = {}): string {
  let flags = 0;
  if (options.tcpSequence) flags |= NF_LOG_TCPSEQ;
  if (options.tcpOptions) flags |= NF_LOG_TCPOPT;
  if (options.ipOptions) flags |= NF_LOG_IPOPT;
  if (options.uid) flags |= NF_LOG_UID;
  if (options.macDecode) flags |= NF_LOG_MACDECODE;

  // An index without a name prints as #INDEX (interface-name.ts).
  let s =
    record.prefix +
    'IN=' +
    interfaceText(record.inInterface, record.inIfindex) +
    ' OUT=' +
    interfaceText(record.outInterface, record.outIfindex) +
    ' ';
  if ((record.physInInterface !== undefined || record.physInIfindex !== undefined) && record.physInIfindex !== record.inIfindex)
    s += 'PHYSIN=' + interfaceText(record.physInInterface, record.physInIfindex) + ' ';
  if ((record.physOutInterface !== undefined || record.physOutIfindex !== undefined) && record.physOutIfindex !== record.outIfindex)
    s += 'PHYSOUT=' + interfaceText(record.physOutInterface, record.physOutIfindex) + ' ';

  // Which of the kernel's loggers ran: by family, and for bridge/netdev by the packet's EtherType.
  let logger = record.family;
  if (logger !== NFPROTO_IPV4 && logger !== NFPROTO_IPV6 && logger !== NFPROTO_ARP) {
    const proto = record.hwProtocol;
    logger = proto === 0x0800 ? NFPROTO_IPV4 : proto === 0x86dd ? NFPROTO_IPV6 : proto === 0x0806 || proto === 0x8035 ? NFPROTO_ARP : 0;
  }
  const hasIn = record.inIfindex !== undefined;
  const skbLen = record.payloadLength;
  const network = record.packet.network;
  switch (logger) {
    case NFPROTO_IPV4:
      if (hasIn) s += macHeader(record, flags);
      stopped = false;
      return s + dumpIpv4(network?.kind === 'ipv4' ? network : undefined, record.packet.transport, skbLen, flags, record);
    case NFPROTO_IPV6:
      if (hasIn) s += macHeader(record, flags);
      stopped = false;
      return s + dumpIpv6(network?.kind === 'ipv6' ? network : undefined, record.packet.transport, skbLen, flags, record);
    case NFPROTO_ARP:
      return s + dumpArp(record, flags);
    default:
      return s + macHeader(record, flags);
  }
}

/** MAC= with the raw link header, or MACSRC=/MACDST=/MACPROTO= under NF_LOG_MACDECODE on Ethernet. */
function macHeader(record: PacketRecord, flags: number): string {
  const hw = record.hwHeader;
  if ((flags & NF_LOG_MACDECODE) !== 0 && record.hwType === ARPHRD_ETHER) {
    if (hw === undefined || hw.length < ETH_HEADER_TEXT) return '';
    return macDecoded(record, hw);
  }
  return hw === undefined ? 'MAC= ' : 'MAC=' + hw + ' ';
}

/** Ethernet header text (dst:src:type) decoded as the kernel's MACDECODE prints it. */
function macDecoded(record: PacketRecord, hw: string): string {
  let s = 'MACSRC=' + hw.slice(18, 35) + ' MACDST=' + hw.slice(0, 17) + ' ';
  const vlan = record.vlan;
  // The kernel prints the whole TCI as VID (skb_vlan_tag_get).
  if (vlan !== undefined) s += 'VPROTO=' + HEX_LOWER[vlan.proto >> 8] + HEX_LOWER[vlan.proto & 0xff] + ' VID=' + vlan.tci + ' ';
  return s + 'MACPROTO=' + hw.slice(36, 38) + hw.slice(39, 41) + ' ';
}

function dumpArp(record: PacketRecord, flags: number): string {
  const arp = record.packet.network;
  if (arp === undefined || arp.kind !== 'arp') return 'TRUNCATED';
  let s = '';
  const hw = record.hwHeader;
  if ((flags & NF_LOG_MACDECODE) !== 0 && record.hwType === ARPHRD_ETHER && hw !== undefined && hw.length >= ETH_HEADER_TEXT)
    s += macDecoded(record, hw);
  s += 'ARP HTYPE=' + arp.hardwareType + ' PTYPE=0x' + hex4(arp.protocolType) + ' OPCODE=' + arp.operation;
  if (arp.hardwareType !== ARPHRD_ETHER || arp.hardwareLength !== 6 || arp.protocolLength !== 4) return s;
  if (arp.senderMac === undefined || record.payloadLength < 28) return s + ' INCOMPLETE [' + (record.payloadLength - 8) + ' bytes]';
  return s + ' MACSRC=' + arp.senderMac + ' IPSRC=' + arp.senderIp + ' MACDST=' + arp.targetMac + ' IPDST=' + arp.targetIp;
}

/**
 * dump_ipv4_packet: `len` is skb->len from this IPv4 header on; `record` is
 * set for the outer packet (UID, MARK, the ICMP error's quote) and null for
 * the quoted one.
 */
function dumpIpv4(
  ip: Ipv4Header | undefined,
  transport: TransportLayer | undefined,
  len: number,
  flags: number,
  record: PacketRecord | null,
): string {
  if (ip === undefined || len < 20) return 'TRUNCATED';
  let s =
    'SRC=' +
    ip.src +
    ' DST=' +
    ip.dst +
    ' LEN=' +
    ip.totalLength +
    ' TOS=0x' +
    HEX_UPPER[ip.tos & 0x1e] +
    ' PREC=0x' +
    HEX_UPPER[ip.tos & 0xe0] +
    ' TTL=' +
    ip.ttl +
    ' ID=' +
    ip.id +
    ' ';
  if (ip.flagReserved) s += 'CE ';
  if (ip.dontFragment) s += 'DF ';
  if (ip.moreFragments) s += 'MF ';
  const fragment = ip.fragmentOffset !== 0;
  if (fragment) s += 'FRAG:' + ip.fragmentOffset + ' ';
  if ((flags & NF_LOG_IPOPT) !== 0 && ip.headerLength > 20) {
    if (len < ip.headerLength) return s + 'TRUNCATED';
    s += 'OPT (' + ip.options + ') ';
  }

  const avail = len - ip.headerLength;
  switch (ip.protocol) {
    case 6:
      s += dumpTcp(transport, avail, fragment, flags);
      break;
    case 17:
    case 136:
      s += dumpUdp(ip.protocol, transport, avail, fragment);
      break;
    case 1:
      s += 'PROTO=ICMP ';
      if (!fragment) s += dumpIcmp(transport?.kind === 'icmp' ? transport : undefined, avail, flags, record);
      break;
    case 51:
      if (fragment) break;
      s += 'PROTO=AH ';
      s += avail < 12 || transport?.kind !== 'ah' ? incomplete(avail) : 'SPI=0x' + transport.spi.toString(16) + ' ';
      break;
    case 50:
      s += 'PROTO=ESP ';
      if (fragment) break;
      s += avail < 8 || transport?.kind !== 'esp' ? incomplete(avail) : 'SPI=0x' + transport.spi.toString(16) + ' ';
      break;
    default:
      s += 'PROTO=' + ip.protocol + ' ';
  }
  if (stopped || record === null) return s;
  return s + socketAndMark(record, flags);
}

/** dump_ipv6_packet; `record` as for dumpIpv4 (null: the quote, which is not recursed into). */
function dumpIpv6(
  ip: Ipv6Header | undefined,
  transport: TransportLayer | undefined,
  len: number,
  flags: number,
  record: PacketRecord | null,
): string {
  if (ip === undefined || len < 40) return 'TRUNCATED';
  let s =
    'SRC=' +
    ipv6Full(ip.src) +
    ' DST=' +
    ipv6Full(ip.dst) +
    ' LEN=' +
    (ip.payloadLength + 40) +
    ' TC=' +
    ip.trafficClass +
    ' HOPLIMIT=' +
    ip.hopLimit +
    ' FLOWLBL=' +
    ip.flowLabel +
    ' ';
  const opt = (flags & NF_LOG_IPOPT) !== 0;
  let fragment = false;
  let current = ip.protocol;
  let ptr = ip.headerLength ?? 40;
  const ext = ip.extensionHeaders;
  for (let i = 0; i < ext.length; i++) {
    const h = ext[i];
    // The kernel does not count the mobility header as an extension header: it is the protocol.
    if (h === 135) {
      current = h;
      break;
    }
    if (opt) s += 'OPT ( ';
    if (h === 44) {
      const f = ip.fragment;
      const offset = f === undefined ? 0 : f.offset;
      s += 'FRAG:' + offset * 8 + ' ';
      if (f?.moreFragments) s += 'INCOMPLETE ';
      s += 'ID:' + hex8(f === undefined ? 0 : f.id) + ' ';
      fragment = offset !== 0;
    } else if (h === 51) {
      // Our walk ends at AH (the record's transport); the kernel goes on to what follows it.
      if (opt) {
        s += 'AH ';
        if (transport?.kind !== 'ah') return s + 'INCOMPLETE [' + (len - ptr) + ' bytes] )';
        s += 'SPI=0x' + transport.spi.toString(16) + ' ';
      }
      if (transport?.kind === 'ah') {
        const ah: AhHeader = transport;
        current = ah.nextHeader;
        ptr += ah.length;
        transport = ah.next;
      }
    }
    if (opt) s += ') ';
  }

  if (current === 0 || current === 43 || current === 60 || current === 51) {
    // Extension headers past where our walk stopped: after a later fragment, or a cut-off header.
    if (!fragment) return s + 'TRUNCATED';
    return opt ? s + 'OPT ( ' + (current === 51 ? 'AH ' : '') + ')' : s;
  }
  if (current === 50) {
    // The kernel ends the line at ESP (no protocol, UID or MARK).
    if (!opt) return s;
    s += 'OPT ( ESP ';
    if (fragment) return s + ')';
    if (len - ptr < 8 || transport?.kind !== 'esp') return s + 'INCOMPLETE [' + (len - ptr) + ' bytes] )';
    return s + 'SPI=0x' + transport.spi.toString(16) + ' )';
  }

  const avail = len - ptr;
  switch (current) {
    case 6:
      s += dumpTcp(transport, avail, fragment, flags);
      break;
    case 17:
    case 136:
      s += dumpUdp(current, transport, avail, fragment);
      break;
    case 58:
      s += 'PROTO=ICMPv6 ';
      if (!fragment) s += dumpIcmpv6(transport?.kind === 'icmpv6' ? transport : undefined, avail, flags, record);
      break;
    default:
      s += 'PROTO=' + current + ' ';
  }
  if (stopped || record === null) return s;
  return s + socketAndMark(record, flags);
}

function dumpTcp(t: TransportLayer | undefined, avail: number, fragment: boolean, flags: number): string {
  if (fragment) return 'PROTO=TCP ';
  if (avail < 20 || t === undefined || t.kind !== 'tcp') {
    stopped = true;
    return 'PROTO=TCP ' + incomplete(avail);
  }
  const tcp: TcpHeader = t;
  let s = 'PROTO=TCP SPT=' + tcp.srcPort + ' DPT=' + tcp.dstPort + ' ';
  if ((flags & NF_LOG_TCPSEQ) !== 0) s += 'SEQ=' + tcp.seq + ' ACK=' + tcp.ack + ' ';
  // RES: TCP_RESERVED_BITS (0x0E000000) >> 22, the three reserved bits shifted left by 3.
  s +=
    'WINDOW=' +
    tcp.window +
    ' RES=0x' +
    HEX_LOWER[((tcp.reserved ?? 0) & 7) << 3] +
    ' ' +
    TCP_FLAG_TEXT[tcp.flags & 0x1ff] +
    'URGP=' +
    tcp.urgentPointer +
    ' ';
  if ((flags & NF_LOG_TCPOPT) !== 0 && tcp.dataOffset > 5) {
    if (avail < tcp.dataOffset * 4) {
      stopped = true;
      return s + 'OPT (TRUNCATED)';
    }
    s += 'OPT (' + tcp.options + ') ';
  }
  return s;
}

function dumpUdp(protocol: number, t: TransportLayer | undefined, avail: number, fragment: boolean): string {
  const s = protocol === 17 ? 'PROTO=UDP ' : 'PROTO=UDPLITE ';
  if (fragment) return s;
  if (avail < 8 || t === undefined || (t.kind !== 'udp' && t.kind !== 'udplite')) {
    stopped = true;
    return s + incomplete(avail);
  }
  const udp: UdpHeader = t;
  return s + 'SPT=' + udp.srcPort + ' DPT=' + udp.dstPort + ' LEN=' + udp.length + ' ';
}

/** ICMP after "PROTO=ICMP "; quotes the offending packet of an error when `record` is set (one level). */
function dumpIcmp(icmp: IcmpHeader | undefined, avail: number, flags: number, record: PacketRecord | null): string {
  if (avail < 8 || icmp === undefined) return incomplete(avail);
  const type = icmp.type;
  let s = 'TYPE=' + type + ' CODE=' + icmp.code + ' ';
  if (type < ICMP_REQUIRED.length && avail < ICMP_REQUIRED[type]) return s + incomplete(avail);
  if (type === 0 || type === 8) return s + 'ID=' + (icmp.id ?? 0) + ' SEQ=' + (icmp.sequence ?? 0) + ' ';
  if (type === 12) return s + 'PARAMETER=' + (icmp.pointer ?? 0) + ' ';
  if (type === 5) s += 'GATEWAY=' + (icmp.gateway ?? '0.0.0.0') + ' ';
  if (type === 3 || type === 4 || type === 5 || type === 11) {
    if (record !== null) {
      const quoted: EmbeddedPacket = icmp.embedded ?? {};
      const net = quoted.network?.kind === 'ipv4' ? quoted.network : undefined;
      s += '[' + dumpIpv4(net, quoted.transport, avail - 8, flags, null) + '] ';
      stopped = false; // the quote's early end ends only the quote
    }
    if (type === 3 && icmp.code === 4) s += 'MTU=' + (icmp.mtu ?? 0) + ' ';
  }
  return s;
}

/** ICMPv6 after "PROTO=ICMPv6 "; quotes the offending packet of an error when `record` is set. */
function dumpIcmpv6(icmp: Icmpv6Header | undefined, avail: number, flags: number, record: PacketRecord | null): string {
  if (avail < 8 || icmp === undefined) {
    stopped = true;
    return incomplete(avail);
  }
  const type = icmp.type;
  let s = 'TYPE=' + type + ' CODE=' + icmp.code + ' ';
  if (type === 128 || type === 129) return s + 'ID=' + (icmp.id ?? 0) + ' SEQ=' + (icmp.sequence ?? 0) + ' ';
  if (type === 4) s += 'POINTER=' + hex8(icmp.pointer ?? 0) + ' ';
  if (type >= 1 && type <= 4) {
    if (record !== null) {
      const quoted: EmbeddedPacket = icmp.embedded ?? {};
      const net = quoted.network?.kind === 'ipv6' ? quoted.network : undefined;
      s += '[' + dumpIpv6(net, quoted.transport, avail - 8, flags, null) + '] ';
      stopped = false;
    }
    if (type === 2) s += 'MTU=' + (icmp.mtu ?? 0) + ' ';
  }
  return s;
}

/** UID=/GID= (with NF_LOG_UID, when the packet had a local socket) and MARK= (when not 0). */
function socketAndMark(record: PacketRecord, flags: number): string {
  let s = '';
  if ((flags & NF_LOG_UID) !== 0 && record.uid !== undefined) s += 'UID=' + record.uid + ' GID=' + (record.gid ?? 0) + ' ';
  if (record.mark !== undefined && record.mark !== 0) s += 'MARK=0x' + record.mark.toString(16) + ' ';
  return s;
}

function incomplete(avail: number): string {
  return 'INCOMPLETE [' + avail + ' bytes] ';
}

/** %04x. */
function hex4(v: number): string {
  return HEX_LOWER[(v >> 8) & 0xff] + HEX_LOWER[v & 0xff];
}

/** %08x. */
function hex8(v: number): string {
  return HEX_LOWER[(v >>> 24) & 0xff] + HEX_LOWER[(v >>> 16) & 0xff] + HEX_LOWER[(v >>> 8) & 0xff] + HEX_LOWER[v & 0xff];
}
