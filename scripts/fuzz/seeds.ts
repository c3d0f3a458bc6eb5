// Seed inputs: the recorded kernel datagrams (test/fixtures/*.json) and
// hand-built messages from the test builders. Every target mutates these.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as N from '../../src/nflog/constants';
import { SOURCE_CONNTRACK, SOURCE_NFLOG, SOURCE_RTNL } from '../../src/ring/layout';
import { attr, linkMessage, message, nested, nflogMessage, u16be, u32be, u64be } from '../../test/helpers/netlink-builder';
import { SAMPLES } from '../../test/unit/conntrack/samples';
import { ctAttributes, tuple, u32attr } from '../../test/unit/conntrack/builders';
import * as C from '../../src/conntrack/constants';
import {
  ah,
  arp,
  cat,
  esp,
  ethernet,
  extHeader,
  fragmentHeader,
  icmp,
  ipv4,
  ipv6,
  sctp,
  tcp,
  u16,
  u32,
  udp,
  zeros,
  type Bytes,
} from '../../test/unit/packet/builders';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

export interface RecordedDatagram {
  source: number;
  flags: number;
  bytes: Uint8Array;
}

/** Every datagram of every recorded fixture. */
export function recordedDatagrams(): RecordedDatagram[] {
  const out: RecordedDatagram[] = [];
  for (const name of fs.readdirSync(FIXTURES).sort()) {
    if (!name.endsWith('.json')) continue;
    const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as {
      datagrams?: Array<{ source: number; flags: number; hex: string }>;
    };
    for (const d of fixture.datagrams ?? [])
      out.push({ source: d.source, flags: d.flags, bytes: new Uint8Array(Buffer.from(d.hex, 'hex')) });
  }
  return out;
}

/** The netlink messages of a datagram, each as its own copy (stops at the first bad length). */
export function splitMessages(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 16 <= bytes.length) {
    const len = view.getUint32(at, true);
    if (len < 16 || at + len > bytes.length) break;
    out.push(bytes.slice(at, at + len));
    at += (len + 3) & ~3;
  }
  return out;
}

/** Packets from the IP (or link) layer down, one per protocol the decoders know. */
export function builtPackets(): Array<{ start: 'ethernet' | 'ipv4' | 'ipv6' | 'ip' | 'arp'; bytes: Bytes }> {
  const quoted4 = ipv4({ protocol: 6 }, tcp({ sport: 1234, dport: 80 }));
  const quoted6 = ipv6({ nextHeader: 17 }, udp({}, zeros(4)));
  const transports: Array<[number, Bytes]> = [
    [6, tcp({ flags: 0x02, options: [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7] })],
    [6, tcp({ flags: 0x18 }, [0x47, 0x45, 0x54, 0x20])],
    [17, udp({}, [1, 2, 3, 4])],
    [136, udp({ length: 8 })],
    [132, sctp({ sport: 5000, dport: 5001, tag: 7, checksum: 0 }, [1, 0, 0, 20, ...zeros(16)])],
    [47, cat(u16(0xb000), u16(0x0800), u32(0), u32(42), u32(7))],
    [47, cat(u16(0x3081), u16(0x880b), u32(0x00040001), u32(2), u32(3))],
    [50, esp(0x1000, 1, zeros(16))],
    [51, cat(ah(6, 4, 0x2000, 1), tcp({}))],
    [4, ipv4({ protocol: 17 }, udp({}))],
    [41, ipv6({ nextHeader: 59 }, [])],
    [253, zeros(8)],
  ];
  const out: Array<{ start: 'ethernet' | 'ipv4' | 'ipv6' | 'ip' | 'arp'; bytes: Bytes }> = [];
  for (const [protocol, t] of transports) {
    out.push({ start: 'ipv4', bytes: ipv4({ protocol }, t) });
    out.push({ start: 'ipv6', bytes: ipv6({ nextHeader: protocol }, t) });
  }
  out.push(
    { start: 'ipv4', bytes: ipv4({ protocol: 1 }, icmp(3, 3, zeros(4), quoted4)) },
    { start: 'ipv4', bytes: ipv4({ protocol: 1 }, icmp(11, 0, zeros(4), ipv4({ protocol: 17 }, udp({})))) },
    { start: 'ipv4', bytes: ipv4({ protocol: 1 }, icmp(8, 0, u32(0x00010001), zeros(8))) },
    { start: 'ipv4', bytes: ipv4({ protocol: 6, options: [0x83, 7, 4, 10, 0, 0, 1, 0] }, tcp({})) },
    { start: 'ipv4', bytes: ipv4({ protocol: 17, mf: true }, udp({}, zeros(16))) },
    { start: 'ipv4', bytes: ipv4({ protocol: 17, fragOffset: 10 }, zeros(16)) },
    { start: 'ipv6', bytes: ipv6({ nextHeader: 58 }, icmp(1, 4, zeros(4), quoted6)) },
    { start: 'ipv6', bytes: ipv6({ nextHeader: 58 }, icmp(128, 0, u32(0x00020001), zeros(8))) },
    { start: 'ipv6', bytes: ipv6({ nextHeader: 58 }, icmp(135, 0, zeros(4), zeros(16))) },
    {
      start: 'ipv6',
      bytes: ipv6({ nextHeader: 0 }, cat(extHeader(60), extHeader(43, 1), extHeader(44), fragmentHeader(6, 0, true, 9), tcp({}))),
    },
    { start: 'ipv6', bytes: ipv6({ nextHeader: 44 }, cat(fragmentHeader(17, 185, false, 9), zeros(24))) },
    { start: 'arp', bytes: arp({ op: 2 }) },
  );
  const withLink = out.map((p) => ({
    start: 'ethernet' as const,
    bytes: ethernet({ etherType: p.start === 'ipv6' ? 0x86dd : p.start === 'arp' ? 0x0806 : 0x0800 }, p.bytes),
  }));
  withLink.push(
    {
      start: 'ethernet',
      bytes: ethernet(
        {
          vlans: [
            { tpid: 0x88a8, id: 10 },
            { tpid: 0x8100, id: 20 },
          ],
          etherType: 0x0800,
        },
        out[0].bytes,
      ),
    },
    { start: 'ethernet', bytes: ethernet({ vlans: [{ tpid: 0x8100, id: 5 }], etherType: 0x0806 }, arp({})) },
  );
  const ip = out.filter((p) => p.start !== 'arp').map((p) => ({ start: 'ip' as const, bytes: p.bytes }));
  return [...out, ...withLink, ...ip];
}

/** Hand-built NFLOG packet messages: every attribute the decoder reads, in a few combinations. */
export function builtNflogMessages(): Bytes[] {
  const packets = builtPackets();
  const v4 = packets.find((p) => p.start === 'ipv4')!.bytes;
  const eth = packets.find((p) => p.start === 'ethernet')!.bytes;
  const ctInfo = ctAttributes(
    tuple(C.CTA_TUPLE_ORIG, { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000, dport: 443 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '10.0.0.2', dst: '10.0.0.1', proto: 6, sport: 443, dport: 40000 }),
    u32attr(C.CTA_STATUS, 0x0e),
    u32attr(C.CTA_MARK, 7),
  );
  const common = [
    attr(N.NFULA_PACKET_HDR, [...u16be(0x0800), 1, 0]),
    attr(N.NFULA_MARK, u32be(0x2a)),
    attr(N.NFULA_TIMESTAMP, [...u64be(1_700_000_000), ...u64be(123_456)]),
    attr(N.NFULA_IFINDEX_INDEV, u32be(2)),
    attr(N.NFULA_HWTYPE, u16be(1)),
    attr(N.NFULA_HWLEN, u16be(14)),
    attr(N.NFULA_HWHEADER, eth.slice(0, 14)),
    attr(N.NFULA_HWADDR, [...u16be(6), 0, 0, 2, 0, 0, 0, 0, 1, 0, 0]),
    attr(N.NFULA_PREFIX, 'IPTABLES: DROP '),
    attr(N.NFULA_UID, u32be(1000)),
    attr(N.NFULA_GID, u32be(1000)),
    attr(N.NFULA_SEQ, u32be(5)),
    attr(N.NFULA_SEQ_GLOBAL, u32be(9)),
  ];
  const out: Bytes[] = [
    nflogMessage(41, 2, ...common, attr(N.NFULA_PAYLOAD, v4)),
    nflogMessage(42, 2, ...common, attr(N.NFULA_CT, ctInfo), attr(N.NFULA_CT_INFO, u32be(2)), attr(N.NFULA_PAYLOAD, v4)),
    nflogMessage(
      43,
      7,
      attr(N.NFULA_PACKET_HDR, [...u16be(0x0800), 0, 0]),
      attr(N.NFULA_L2HDR, eth.slice(0, 14)),
      nested(N.NFULA_VLAN, attr(N.NFULA_VLAN_PROTO, u16be(0x8100)), attr(N.NFULA_VLAN_TCI, u16be(0x2005))),
      attr(N.NFULA_PAYLOAD, eth),
    ),
    nflogMessage(44, 10, attr(N.NFULA_PREFIX, '[OY-D]:'), attr(N.NFULA_IFINDEX_OUTDEV, u32be(3))),
  ];
  for (const p of packets) {
    if (p.start === 'ip') continue;
    const hw = p.start === 'ipv6' ? 0x86dd : p.start === 'arp' ? 0x0806 : p.start === 'ipv4' ? 0x0800 : 0;
    out.push(
      nflogMessage(
        1,
        p.start === 'ipv6' ? 10 : p.start === 'ethernet' ? 7 : 2,
        attr(N.NFULA_PACKET_HDR, [...u16be(hw), 3, 0]),
        attr(N.NFULA_PAYLOAD, p.bytes),
      ),
    );
  }
  return out;
}

/** Hand-built conntrack messages (the unit tests' samples). */
export function builtConntrackMessages(): Bytes[] {
  return SAMPLES.map((s) => s.msg);
}

/** Hand-built rtnetlink link messages. */
export function builtLinkMessages(): Bytes[] {
  return [
    cat(linkMessage(16, 1, 'lo'), linkMessage(16, 2, 'eth0'), linkMessage(16, 3, 'veth-fuzz0')),
    linkMessage(17, 2),
    cat(linkMessage(16, 7, 'a'.repeat(15)), message(3, [0, 0, 0, 0])),
  ];
}

/** Recorded datagrams from one source. */
export function recordedFrom(source: number): Uint8Array[] {
  return recordedDatagrams()
    .filter((d) => d.source === source)
    .map((d) => d.bytes);
}

export { SOURCE_CONNTRACK, SOURCE_NFLOG, SOURCE_RTNL };
