// Hand-built packet records for the ECS tests.
import type { PacketRecord } from '../../../src/records';
import type { DecodedPacket, Ipv4Header, Ipv6Header } from '../../../src/packet/types';

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
