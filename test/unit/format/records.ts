// PacketRecords built from packet bytes for the formatter tests. The packets
// repeat ones the kernel tests send (test/kernel/packet-crafter.ts), so the
// expected lines are the kernel's and ulogd's own output for them.
import { decodePacket } from '../../../src/packet/decode';
import type { PacketRecord } from '../../../src/records';
import { record as packetRecord } from '../../helpers/packet-records';
import { type Bytes, cat, ipv4, ipv6, tcp, toBytes, u16, u32, udp } from '../packet/builders';

export const MAC_HEADER_IN = '02:00:00:78:01:02:02:00:00:78:01:01:08:00';
export const MAC_HEADER_IN6 = '02:00:00:78:01:02:02:00:00:78:01:01:86:dd';
export const TCP_OPTS = [0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40, 0, 0, 0, 0, 0x01, 0x03, 0x03, 0x07];
const V4 = { src: '10.78.1.1', dst: '10.78.1.2' };
const V6 = { src: 'fd78:1::1', dst: 'fd78:1::2' };

/** A record as the collector makes it for a packet received on veth-lb (or sent on veth-la with `out`). */
export function record(family: 2 | 10, bytes: Bytes, over: Partial<PacketRecord> = {}): PacketRecord {
  const data = toBytes(bytes);
  const packet = decodePacket(data, 0, data.length, family === 2 ? 'ipv4' : 'ipv6');
  return packetRecord(packet, {
    group: 41,
    family,
    hook: 0,
    hwProtocol: family === 2 ? 0x0800 : 0x86dd,
    prefix: 'P ',
    timestampUs: 0,
    kernelTimestamp: false,
    receivedUs: 0,
    inIfindex: 2,
    inInterface: 'veth-lb',
    hwType: 1,
    hwLen: 14,
    hwHeader: family === 2 ? MAC_HEADER_IN : MAC_HEADER_IN6,
    payloadLength: data.length,
    ...over,
  });
}

/** Leaves the record as an output-hook one: no input device, no MAC header. */
export const OUTPUT: Partial<PacketRecord> = {
  inIfindex: undefined,
  inInterface: undefined,
  outIfindex: 2,
  outInterface: 'veth-la',
  hwType: undefined,
  hwLen: undefined,
  hwHeader: undefined,
};

export const packets = {
  /** Every TCP flag, the three reserved bits, TOS 0x30, CE and DF. */
  tcp4Flags: (): Bytes =>
    ipv4(
      { ...V4, protocol: 6, tos: 0x30, id: 0x4101, reservedFlag: true, df: true },
      tcp({ sport: 40100, dport: 7010, seq: 123456789, ack: 987654321, flags: 0xfff, window: 512, urgent: 77, options: TCP_OPTS }),
    ),
  /** A time-exceeded with only 6 bytes after its header. */
  icmp4Truncated: (): Bytes =>
    ipv4({ ...V4, protocol: 1, id: 0x4108 }, cat([11, 0, 0, 0, 0, 0, 0, 0], [0x71, 0x71, 0x71, 0x71, 0x71, 0x71])),
  /** Fragmentation needed quoting a TCP segment with options. */
  icmp4FragNeeded: (): Bytes =>
    ipv4(
      { ...V4, protocol: 1, id: 0x4107 },
      cat(
        [3, 4, 0, 0, 0, 0],
        u16(1400),
        ipv4(
          { ...V4, protocol: 6, id: 0x0777, ttl: 63 },
          tcp({ sport: 7013, dport: 40103, seq: 5555, ack: 6666, flags: 0x18, window: 2048, options: TCP_OPTS }),
        ),
      ),
    ),
  /** Hop-by-hop and destination options before UDP. */
  ext6: (): Bytes =>
    ipv6(
      { ...V6, nextHeader: 0, trafficClass: 0x28, flowLabel: 0x61001 },
      cat([60, 0, 1, 4, 0, 0, 0, 0], [17, 0, 1, 4, 0, 0, 0, 0], udp({ sport: 40104, dport: 7016, checksum: 0 }, new Array(8).fill(0x78))),
    ),
  /** A later fragment of TCP. */
  frag6Later: (): Bytes =>
    ipv6({ ...V6, nextHeader: 44, flowLabel: 0x61003 }, cat([6, 0], u16(5 << 3), u32(0xa1b2c3d5), new Array(16).fill(0x70))),
  /** AH, then an ICMPv6 echo request. */
  ah6: (): Bytes =>
    ipv6(
      { ...V6, nextHeader: 51, flowLabel: 0x61004 },
      cat([58, 4, 0, 0], u32(0xabc123), u32(3), new Array(12).fill(0), [128, 0, 0, 0], u16(0x77), u16(5), new Array(8).fill(0x61)),
    ),
  esp6: (): Bytes => ipv6({ ...V6, nextHeader: 50, flowLabel: 0x61005 }, cat(u32(0x5eed), u32(1), new Array(24).fill(0x65))),
  /** Local UDP from a socket owned by 4243:4244. */
  uid4: (): Bytes => ipv4({ ...V4, protocol: 17, id: 60125, df: true }, udp({ sport: 51909, dport: 7004 }, new Array(12).fill(0x61))),
};
