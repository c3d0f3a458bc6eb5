// Packet records for the tests, built from hand-made layers (record, ipv4,
// ipv6 …) or, by test/unit/format/records.ts, from packet bytes: one shape.
import type { PacketRecord } from '../../src/records';
import type { DecodedPacket, Ipv4Header, Ipv6Header, TransportLayer } from '../../src/packet/types';

// 2026-11-21T21:44:50.123456Z
export const T0 = 1795297490123456;

export function record(packet: DecodedPacket, extra: Partial<PacketRecord> = {}): PacketRecord {
  return {
    kind: 'packet',
    group: 1,
    family: 2,
    hook: 1,
    hwProtocol: 0x0800,
    prefix: '',
    timestampUs: T0,
    kernelTimestamp: true,
    receivedUs: T0 + 250,
    payloadLength: 60,
    packet,
    ...extra,
  };
}

export function ipv4(src: string, dst: string, protocol: number, extra: Partial<Ipv4Header> = {}): Ipv4Header {
  return {
    kind: 'ipv4',
    src,
    dst,
    headerLength: 20,
    tos: 0,
    totalLength: 60,
    id: 4242,
    flagReserved: false,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol,
    checksum: 0,
    options: '',
    ...extra,
  };
}

export function ipv6(src: string, dst: string, protocol: number, extra: Partial<Ipv6Header> = {}): Ipv6Header {
  return {
    kind: 'ipv6',
    src,
    dst,
    trafficClass: 0,
    flowLabel: 0x12345,
    payloadLength: 32,
    hopLimit: 255,
    nextHeader: protocol,
    protocol,
    extensionHeaders: [],
    ...extra,
  };
}

const ETH = {
  kind: 'ethernet' as const,
  src: '02:00:00:00:00:01',
  dst: '02:00:00:00:00:02',
  etherType: 0x0800,
  vlans: [{ tpid: 0x8100, id: 30, priority: 0, dei: false }],
};
const TRANSPORTS: Array<[number, TransportLayer | undefined]> = [
  [
    6,
    {
      kind: 'tcp',
      srcPort: 40000,
      dstPort: 443,
      seq: 1,
      ack: 2,
      dataOffset: 5,
      flags: 0x12,
      window: 100,
      checksum: 0,
      urgentPointer: 0,
      options: '',
    },
  ],
  [17, { kind: 'udp', srcPort: 5353, dstPort: 5353, length: 20, checksum: 0 }],
  [136, { kind: 'udplite', srcPort: 1, dstPort: 2, length: 8, checksum: 0 }],
  [1, { kind: 'icmp', type: 0, code: 0, checksum: 0, id: 1, sequence: 1 }],
  [58, { kind: 'icmpv6', type: 136, code: 0, checksum: 0, target: 'fe80::1' }],
  [132, { kind: 'sctp', srcPort: 9, dstPort: 10, verificationTag: 1, checksum: 0 }],
  [47, { kind: 'gre', flags: 0, version: 1, protocol: 0x880b, key: 5, callId: 7 }],
  [50, { kind: 'esp', spi: 1, sequence: 1 }],
  [51, { kind: 'ah', nextHeader: 6, length: 24, spi: 2, sequence: 3 }],
  [89, { kind: 'other', protocol: 89 }],
  [6, undefined],
  [253, undefined],
];
const PREFIXES = ['', 'IPTABLES: DROP', '[OY-A]:', 'tcp.in.dropped', 'LOG ONLY', 'x.y.rejected'];

/** Records covering every transport, both IP versions, hooks, prefixes, VLANs and odd cases. */
export function sampleRecords(): PacketRecord[] {
  const recs: PacketRecord[] = [];
  let i = 0;
  for (const [proto, transport] of TRANSPORTS) {
    for (const v6 of [false, true]) {
      const prefix = PREFIXES[i % PREFIXES.length];
      const hook = i % 5;
      const network = v6
        ? ipv6('2001:db8::' + (i + 1), 'ff02::1', proto, { fragment: i % 3 === 0 ? { offset: 0, moreFragments: true, id: 9 } : undefined })
        : ipv4('198.51.100.' + (i + 1), '203.0.113.9', proto, { options: i % 2 ? '94040000' : '' });
      recs.push(
        record(
          { link: i % 2 ? ETH : undefined, network, transport },
          {
            family: v6 ? 10 : 2,
            hook,
            prefix,
            seq: i,
            inIfindex: hook < 3 ? 2 : undefined,
            inInterface: hook < 3 ? 'eth0' : undefined,
            outIfindex: hook > 1 ? 3 : undefined,
            hwAddr: i % 2 ? undefined : '02:00:00:00:00:0' + (i % 10),
            vlan: i % 4 === 0 ? { proto: 0x8100, tci: 20, id: 20 } : undefined,
            mark: i,
            physInIfindex: i % 3 === 0 ? 7 : undefined,
          },
        ),
      );
      i++;
    }
  }
  recs.push(record({}, { family: 0, decodeError: 'nflog.bad' }));
  recs.push(
    record(
      {
        network: {
          kind: 'arp',
          hardwareType: 1,
          protocolType: 0x800,
          hardwareLength: 6,
          protocolLength: 4,
          operation: 2,
          senderIp: '192.0.2.1',
          targetIp: '192.0.2.2',
        },
      },
      { family: 3, hook: 1, prefix: 'ARP ACCEPT' },
    ),
  );
  return recs;
}
