// One record as one line a person can read at a terminal:
//
//   14:03:07.412  accept  [DM-A]                  in=r0 out=r1   tcp   10.60.1.2:43120 → 10.60.2.2:80 SYN  (group 2 LOG_AND_*)
//   14:03:07.413  new     flow                    -              tcp   10.60.1.2:43120 → 10.60.2.2:80  snat 10.60.1.2:43120 → 10.60.2.1:43120  (conntrack)
//   14:03:09.000  LOST 3  nflog sequence          -              -     group 2, seq 5-7  (nflog)
//
// Columns: time, verdict (from the prefix) or flow event, prefix, interfaces,
// protocol, endpoints and what is specific to the protocol, then where the
// record came from. A pure function of the record: no clock, no state.
import { defaultAction, type ActionMapper } from '../verdict/action';
import { interfaceText } from './interface-name';
import type { CollectorRecord, FlowRecord, FlowTuple, GapRecord, PacketRecord } from '../records';
import type { EmbeddedPacket, IcmpHeader, Icmpv6Header, TransportLayer } from '../packet/types';

export interface ReadableOptions {
  /** Times in UTC rather than the local time zone. */
  utc?: boolean;
  /** Prefix → verdict; defaults to the collector's default mapping. */
  actionMapper?: ActionMapper;
}

const VERDICT_WIDTH = 7;
const PREFIX_WIDTH = 22;
const INTERFACES_WIDTH = 14;
const PROTO_WIDTH = 5;

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** HH:MM:SS.mmm of microseconds since the epoch. */
export function clockTime(us: number, utc = false): string {
  const d = new Date(Number.isFinite(us) ? Math.floor(us / 1000) : 0);
  const h = utc ? d.getUTCHours() : d.getHours();
  const m = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  const ms = utc ? d.getUTCMilliseconds() : d.getMilliseconds();
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${String(ms).padStart(3, '0')}`;
}

/** Control characters (and the terminal's escape) as \xNN: log prefixes come from rules anyone may have written. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

function column(text: string, width: number): string {
  return text.length >= width ? text + ' ' : text.padEnd(width + 1);
}

function endpoint(ip: string, port: number | undefined): string {
  if (port === undefined) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const PROTOCOLS: Record<number, string> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmp6',
  132: 'sctp',
  136: 'udplite',
};

function protocolName(protocol: number): string {
  return PROTOCOLS[protocol] ?? `ip/${protocol}`;
}

// TCP flags as tcpdump users know them, most telling first.
const TCP_FLAGS: Array<[number, string]> = [
  [0x02, 'SYN'],
  [0x01, 'FIN'],
  [0x04, 'RST'],
  [0x08, 'PSH'],
  [0x10, 'ACK'],
  [0x20, 'URG'],
  [0x40, 'ECE'],
  [0x80, 'CWR'],
  [0x100, 'AE'],
];

function tcpFlags(flags: number): string {
  const names: string[] = [];
  for (const [bit, name] of TCP_FLAGS) if ((flags & bit) !== 0) names.push(name);
  return names.length > 0 ? names.join(',') : 'none';
}

const ICMP_TYPES: Record<number, string> = {
  0: 'echo-reply',
  3: 'unreachable',
  4: 'source-quench',
  5: 'redirect',
  8: 'echo-request',
  11: 'time-exceeded',
  12: 'parameter-problem',
  13: 'timestamp',
  14: 'timestamp-reply',
};
const ICMP_UNREACHABLE: Record<number, string> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'protocol-unreachable',
  3: 'port-unreachable',
  4: 'fragmentation-needed',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};
const ICMPV6_TYPES: Record<number, string> = {
  1: 'unreachable',
  2: 'packet-too-big',
  3: 'time-exceeded',
  4: 'parameter-problem',
  128: 'echo-request',
  129: 'echo-reply',
  133: 'router-solicitation',
  134: 'router-advertisement',
  135: 'neighbor-solicitation',
  136: 'neighbor-advertisement',
  137: 'redirect',
};
const ICMPV6_UNREACHABLE: Record<number, string> = {
  0: 'no-route',
  1: 'admin-prohibited',
  3: 'address-unreachable',
  4: 'port-unreachable',
  5: 'source-policy-failed',
  6: 'reject-route',
};

function icmpName(t: IcmpHeader | Icmpv6Header): string {
  const v6 = t.kind === 'icmpv6';
  const unreachable = v6 ? t.type === 1 : t.type === 3;
  if (unreachable) {
    const name = (v6 ? ICMPV6_UNREACHABLE : ICMP_UNREACHABLE)[t.code];
    return name ?? `unreachable code=${t.code}`;
  }
  const name = (v6 ? ICMPV6_TYPES : ICMP_TYPES)[t.type];
  if (name === undefined) return `type=${t.type} code=${t.code}`;
  return t.code === 0 ? name : `${name} code=${t.code}`;
}

function ports(t: TransportLayer | undefined): { src?: number; dst?: number } {
  if (t === undefined) return {};
  if (t.kind === 'tcp' || t.kind === 'udp' || t.kind === 'udplite' || t.kind === 'sctp') return { src: t.srcPort, dst: t.dstPort };
  return {};
}

function quoted(e: EmbeddedPacket): string {
  const n = e.network;
  if (n === undefined) return ' (for a truncated packet)';
  const p = ports(e.transport);
  return ` (for ${protocolName(n.protocol)} ${endpoint(n.src, p.src)} → ${endpoint(n.dst, p.dst)})`;
}

function transportDetail(t: TransportLayer | undefined): string {
  if (t === undefined) return '';
  switch (t.kind) {
    case 'tcp':
      return ' ' + tcpFlags(t.flags);
    case 'udp':
    case 'udplite':
      return t.length >= 8 ? ` len=${t.length - 8}` : '';
    case 'icmp':
    case 'icmpv6': {
      let text = ' ' + icmpName(t);
      if (t.id !== undefined) text += ` id=${t.id} seq=${t.sequence ?? 0}`;
      if (t.embedded !== undefined) text += quoted(t.embedded);
      return text;
    }
    case 'esp':
    case 'ah':
      return ` spi=0x${t.spi.toString(16)}`;
    default:
      return '';
  }
}

function interfaces(r: PacketRecord): string {
  const parts: string[] = [];
  const inName = interfaceText(r.inInterface, r.inIfindex);
  const outName = interfaceText(r.outInterface, r.outIfindex);
  if (inName !== '') parts.push(`in=${printable(inName)}`);
  if (outName !== '') parts.push(`out=${printable(outName)}`);
  return parts.length > 0 ? parts.join(' ') : '-';
}

function packetWhat(r: PacketRecord): string {
  const n = r.packet.network;
  const t = r.packet.transport;
  let text: string;
  if (n === undefined) {
    text = column('-', PROTO_WIDTH) + `ethertype 0x${r.hwProtocol.toString(16).padStart(4, '0')}`;
  } else if (n.kind === 'arp') {
    const op = n.operation === 1 ? 'request' : n.operation === 2 ? 'reply' : `op=${n.operation}`;
    text = column('arp', PROTO_WIDTH) + `${op} ${n.senderIp ?? '?'} → ${n.targetIp ?? '?'}`;
  } else {
    const p = ports(t);
    text = column(protocolName(n.protocol), PROTO_WIDTH) + `${endpoint(n.src, p.src)} → ${endpoint(n.dst, p.dst)}` + transportDetail(t);
  }
  const fault = r.decodeError ?? r.packet.error;
  if (fault !== undefined) text += ` [decode: ${fault}]`;
  return text;
}

function packetLine(r: PacketRecord, options: ReadableOptions | undefined): string {
  const prefix = r.prefix.trim();
  const verdict = (options?.actionMapper ?? defaultAction)(r.prefix)?.action ?? 'log';
  const label = r.groupLabel !== undefined ? ` ${printable(r.groupLabel)}` : '';
  return (
    clockTime(r.timestampUs, options?.utc) +
    '  ' +
    column(printable(verdict), VERDICT_WIDTH) +
    column(prefix === '' ? '(no prefix)' : printable(prefix), PREFIX_WIDTH) +
    column(interfaces(r), INTERFACES_WIDTH) +
    packetWhat(r) +
    `  (group ${r.group}${label})`
  );
}

function tupleText(t: FlowTuple): string {
  let text = column(protocolName(t.protocol), PROTO_WIDTH) + `${endpoint(t.src, t.srcPort)} → ${endpoint(t.dst, t.dstPort)}`;
  if (t.icmpId !== undefined) text += ` id=${t.icmpId}`;
  return text;
}

function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

function flowLine(r: FlowRecord, options: ReadableOptions | undefined): string {
  let text =
    clockTime(r.timestampUs, options?.utc) +
    '  ' +
    column(r.event, VERDICT_WIDTH) +
    column('flow', PREFIX_WIDTH) +
    column('-', INTERFACES_WIDTH);
  text += r.original !== undefined ? tupleText(r.original) : column('-', PROTO_WIDTH) + '(no tuple)';
  const source = r.nat?.source;
  const destination = r.nat?.destination;
  if (source !== undefined) text += `  snat ${endpoint(source.ip, source.port)} → ${endpoint(source.translatedIp, source.translatedPort)}`;
  if (destination !== undefined) {
    text += `  dnat ${endpoint(destination.ip, destination.port)} → ${endpoint(destination.translatedIp, destination.translatedPort)}`;
  }
  if (r.stateName !== undefined && r.event !== 'destroy') text += `  ${r.stateName}`;
  if (r.originalPackets !== undefined && r.replyPackets !== undefined) {
    text += `  ${r.originalPackets} pkt ${bytes(r.originalBytes ?? 0)} out, ${r.replyPackets} pkt ${bytes(r.replyBytes ?? 0)} back`;
  }
  if (r.startUs !== undefined && r.stopUs !== undefined && r.stopUs >= r.startUs) {
    text += `  ${((r.stopUs - r.startUs) / 1e6).toFixed(2)} s`;
  }
  if (r.decodeError !== undefined) text += ` [decode: ${r.decodeError}]`;
  return text + '  (conntrack)';
}

function gapLine(r: GapRecord, options: ReadableOptions | undefined): string {
  const lost = r.count === null ? 'LOST ?' : `LOST ${r.count}`;
  let where = r.group !== undefined ? `group ${r.group}` : r.source;
  if (r.fromSeq !== undefined && r.toSeq !== undefined) where += `, seq ${r.fromSeq}-${r.toSeq}`;
  if (r.resynced !== undefined) where += `, ${r.resynced} flows resynced`;
  if (r.detail !== undefined) where += `: ${printable(r.detail)}`;
  return (
    clockTime(r.timestampUs, options?.utc) +
    '  ' +
    column(lost, VERDICT_WIDTH) +
    column(`${r.source} ${r.reason}`, PREFIX_WIDTH) +
    column('-', INTERFACES_WIDTH) +
    column('-', PROTO_WIDTH) +
    where +
    `  (${r.source})`
  );
}

/** The record as one line (no newline). */
export function readableLine(record: CollectorRecord, options?: ReadableOptions): string {
  switch (record.kind) {
    case 'packet':
      return packetLine(record, options);
    case 'flow':
      return flowLine(record, options);
    case 'gap':
      return gapLine(record, options);
    default:
      return `unknown record kind ${printable(String((record as { kind: unknown }).kind))}`;
  }
}
