// ulogd2's LOGEMU line for a PacketRecord: what its PRINTPKT filter builds
// (util/printpkt.c over the keys of the BASE filter, ulogd 2.0.8), which
// LOGEMU writes after a "Mon DD HH:MM:SS host " header. It mimics the kernel's
// LOG line but differs in places: TOS in hex without 0x, SEQ=/ACK= always, no
// RES= / CWR / ECE / options, MAC= always, MARK=0x… always, ICMP fields chosen
// by the ICMP *code* (a long-standing ulogd quirk), no ICMP error quote, and
// no SPI for AH/ESP (BASE does not fill it).

import { HEX_LOWER, HEX_UPPER } from '../packet/hex';
import type { Ipv4Header, Ipv6Header, TransportLayer } from '../packet/types';
import type { PacketRecord } from '../records';
import { interfaceText } from './interface-name';
import { NFPROTO_ARP, NFPROTO_BRIDGE, NFPROTO_IPV4, NFPROTO_IPV6 } from '../packet/protocols';

export interface LogemuLineOptions {
  /**
   * Prepend LOGEMU's header: the packet's local time as ctime() prints it
   * ("Nov 21 23:51:06") and this host name (cut at the first '.', as ulogd
   * does). Without it the line starts with the prefix.
   */
  hostname?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The TCP flags PRINTPKT prints, in its order, one string per 8-bit flag value. */
const TCP_FLAG_TEXT: readonly string[] = (() => {
  const names: Array<[number, string]> = [
    [0x20, 'URG '],
    [0x10, 'ACK '],
    [0x08, 'PSH '],
    [0x04, 'RST '],
    [0x02, 'SYN '],
    [0x01, 'FIN '],
  ];
  const out: string[] = [];
  for (let f = 0; f < 256; f++)
    out.push(
      names
        .filter(([bit]) => (f & bit) !== 0)
        .map(([, n]) => n)
        .join(''),
    );
  return out;
})();

/** The line ulogd's LOGEMU writes for this packet, without its newline. */
export function packetToLogemuLine(record: PacketRecord, options: LogemuLineOptions = {}): string {
  let s = options.hostname === undefined ? '' : logemuHeader(record.timestampUs, options.hostname);
  // An index without a name prints as #INDEX (interface-name.ts).
  s +=
    record.prefix +
    ' IN=' +
    interfaceText(record.inInterface, record.inIfindex) +
    ' OUT=' +
    interfaceText(record.outInterface, record.outIfindex) +
    ' ';
  s += record.hwHeader === undefined ? 'MAC= ' : 'MAC=' + record.hwHeader + ' ';

  let family = record.family;
  if (family === NFPROTO_BRIDGE) {
    const proto = record.hwProtocol;
    family = proto === 0x0800 ? NFPROTO_IPV4 : proto === 0x86dd ? NFPROTO_IPV6 : proto === 0x0806 ? NFPROTO_ARP : -1;
    if (family === -1) s += 'PROTO=' + proto + ' ';
  }
  const network = record.packet.network;
  const transport = record.packet.transport;
  if (family === NFPROTO_IPV4 && network?.kind === 'ipv4') s += ipv4(network, transport, record.payloadLength);
  else if (family === NFPROTO_IPV6 && network?.kind === 'ipv6') s += ipv6(network, transport);
  else if (family === NFPROTO_ARP && network?.kind === 'arp') s += arp(record);

  if (record.uid !== undefined) s += 'UID=' + record.uid + ' ';
  if (record.gid !== undefined) s += 'GID=' + record.gid + ' ';
  return s + 'MARK=0x' + (record.mark ?? 0).toString(16) + ' ';
}

/** "Mon DD HH:MM:SS host ": ctime(3) of the time in local time, characters 4–18, then the short host name. */
export function logemuHeader(timestampUs: number, hostname: string): string {
  const d = new Date(Math.floor(timestampUs / 1e6) * 1000);
  const day = d.getDate();
  const dot = hostname.indexOf('.');
  return (
    MONTHS[d.getMonth()] +
    (day < 10 ? '  ' : ' ') +
    day +
    ' ' +
    two(d.getHours()) +
    ':' +
    two(d.getMinutes()) +
    ':' +
    two(d.getSeconds()) +
    ' ' +
    (dot < 0 ? hostname : hostname.slice(0, dot)) +
    ' '
  );
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function ipv4(ip: Ipv4Header, transport: TransportLayer | undefined, captured: number): string {
  // BASE reads nothing of a packet that is only an IPv4 header: every key is 0.
  if (captured <= ip.headerLength) return 'LEN=0 TOS=00 PREC=0x00 TTL=0 ID=0 PROTO=0 ';
  let s =
    'SRC=' +
    ip.src +
    ' DST=' +
    ip.dst +
    ' LEN=' +
    ip.totalLength +
    ' TOS=' +
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
  if (ip.fragmentOffset !== 0) s += 'FRAG:' + ip.fragmentOffset + ' ';
  if (ip.protocol === 1) return s + 'PROTO=ICMP ' + icmp(transport, captured - ip.headerLength);
  return s + transportText(ip.protocol, ip.protocol, transport);
}

function ipv6(ip: Ipv6Header, transport: TransportLayer | undefined): string {
  let s =
    'SRC=' +
    ip.src +
    ' DST=' +
    ip.dst +
    ' LEN=' +
    (ip.payloadLength + 40) +
    ' TC=' +
    ip.trafficClass +
    ' HOPLIMIT=' +
    ip.hopLimit +
    ' FLOWLBL=' +
    ip.flowLabel +
    ' ';
  const f = ip.fragment;
  if (f !== undefined) s += 'FRAG: ' + f.offset * 8 + ' ID: ' + hex8(f.id) + ' ';
  // BASE walks hop-by-hop, routing, destination options, fragment and AH; it stops at ESP and
  // at the mobility header (which it takes for the protocol); after a later fragment it reads nothing.
  let next = ip.protocol;
  const mobility = ip.extensionHeaders.indexOf(135);
  if (mobility >= 0) next = 135;
  else if (transport?.kind === 'ah') {
    next = transport.nextHeader;
    transport = transport.next;
  }
  if (f !== undefined && f.offset !== 0) transport = undefined;
  if (next === 58) {
    if (transport?.kind !== 'icmpv6') return s + 'PROTO=ICMPv6 INCOMPLETE';
    s += 'PROTO=ICMPv6 TYPE=' + transport.type + ' CODE=' + transport.code + ' ';
    if (transport.type === 128 || transport.type === 129) s += 'ID=' + (transport.id ?? 0) + ' SEQ=' + (transport.sequence ?? 0) + ' ';
    return s;
  }
  // PRINTPKT names AH/ESP from ip.protocol, which BASE leaves unset (0) for IPv6 ESP.
  return s + transportText(next, next === 50 ? 0 : next, transport);
}

/** printpkt_proto, or PROTO=<n> for protocols it does not know. */
function transportText(protocol: number, nameProtocol: number, t: TransportLayer | undefined): string {
  switch (protocol) {
    case 6:
      if (t?.kind !== 'tcp') return 'PROTO=TCP INCOMPLETE';
      return (
        'PROTO=TCP SPT=' +
        t.srcPort +
        ' DPT=' +
        t.dstPort +
        ' SEQ=' +
        t.seq +
        ' ACK=' +
        t.ack +
        ' WINDOW=' +
        t.window +
        ' ' +
        TCP_FLAG_TEXT[t.flags & 0xff] +
        'URGP=' +
        t.urgentPointer +
        ' '
      );
    case 17:
      if (t?.kind !== 'udp') return 'PROTO=UDP INCOMPLETE';
      return 'PROTO=UDP SPT=' + t.srcPort + ' DPT=' + t.dstPort + ' LEN=' + t.length + ' ';
    case 132:
      if (t?.kind !== 'sctp') return 'PROTO=SCTP INCOMPLETE';
      return 'PROTO=SCTP SPT=' + t.srcPort + ' DPT=' + t.dstPort + ' ';
    case 50:
    case 51:
      return (nameProtocol === 50 ? 'PROTO=ESP ' : 'PROTO=AH ') + 'INCOMPLETE';
    default:
      return 'PROTO=' + protocol + ' ';
  }
}

/**
 * After "PROTO=ICMP ": BASE reads the 8-byte header (`avail` bytes are there);
 * PRINTPKT switches on the code, and BASE fills each field only for its own type (else 0).
 */
function icmp(t: TransportLayer | undefined, avail: number): string {
  if (t?.kind !== 'icmp' || avail < 8) return 'INCOMPLETE';
  let s = 'TYPE=' + t.type + ' CODE=' + t.code + ' ';
  const echo = t.type === 0 || t.type === 8;
  switch (t.code) {
    case 0:
    case 8:
      s += 'ID=' + (echo ? (t.id ?? 0) : 0) + ' SEQ=' + (echo ? (t.sequence ?? 0) : 0) + ' ';
      break;
    case 12:
      // The first byte of the gateway field: the pointer of a parameter problem.
      s += 'PARAMETER=' + (t.type === 12 ? (t.pointer ?? 0) : t.type === 5 ? Number((t.gateway ?? '0').split('.')[0]) : 0) + ' ';
      break;
    case 5:
      s += 'GATEWAY=' + (t.type === 5 ? (t.gateway ?? '0.0.0.0') : t.type === 12 ? (t.pointer ?? 0) + '.0.0.0' : '0.0.0.0') + ' ';
      break;
  }
  return s;
}

function arp(record: PacketRecord): string {
  const a = record.packet.network;
  if (a === undefined || a.kind !== 'arp') return '';
  let s = '';
  if (a.senderIp !== undefined) s += 'SRC=' + a.senderIp + ' ';
  if (a.targetIp !== undefined) s += 'DST=' + a.targetIp + ' ';
  s += 'PROTO=ARP ';
  const op = a.operation;
  s += op === 1 ? 'REQUEST ' : op === 2 ? 'REPLY ' : op === 10 ? 'NAK ' : 'CODE=' + op + ' ';
  if (op === 2 && a.senderMac !== undefined) s += 'REPLY_MAC=' + a.senderMac + ' ';
  return s;
}

function hex8(v: number): string {
  return HEX_LOWER[(v >>> 24) & 0xff] + HEX_LOWER[(v >>> 16) & 0xff] + HEX_LOWER[(v >>> 8) & 0xff] + HEX_LOWER[v & 0xff];
}
