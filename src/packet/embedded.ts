// The offending packet quoted inside an ICMP or ICMPv6 error. Quotes are
// often cut short by design (RFC 792 asks for only 8 transport bytes), so a
// short quote is not an error: decode what is there and mark it truncated.

import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import { type LayerSink, u16, u32 } from './layer-sink';
import { decodeTransport } from './transport';
import { IPPROTO_AH, IPPROTO_ESP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from './protocols';
import type { EmbeddedPacket, TransportLayer } from './types';

/** Decodes a quoted IPv4 packet (inside ICMP) in [offset, end). */
export function decodeEmbeddedIpv4(bytes: Uint8Array, offset: number, end: number): EmbeddedPacket {
  const sink: LayerSink = {};
  const embedded: EmbeddedPacket = {};
  const p = decodeIpv4(bytes, offset, end, sink);
  const ip = sink.network;
  if (ip === undefined || ip.kind !== 'ipv4') {
    if (sink.error === 'ipv4.truncated') embedded.truncated = true;
    return embedded;
  }
  embedded.network = ip;
  if (p < 0) {
    if (sink.error === 'ipv4.truncated') embedded.truncated = true;
    return embedded;
  }
  if (ip.fragmentOffset !== 0) {
    embedded.transport = { kind: 'other', protocol: ip.protocol };
    return embedded;
  }
  quotedTransport(bytes, p, end, ip.protocol, false, embedded);
  return embedded;
}

/** Decodes a quoted IPv6 packet (inside ICMPv6) in [offset, end). */
export function decodeEmbeddedIpv6(bytes: Uint8Array, offset: number, end: number): EmbeddedPacket {
  const sink: LayerSink = {};
  const embedded: EmbeddedPacket = {};
  const p = decodeIpv6(bytes, offset, end, sink);
  const ip = sink.network;
  if (ip === undefined || ip.kind !== 'ipv6') {
    if (sink.error === 'ipv6.truncated') embedded.truncated = true;
    return embedded;
  }
  embedded.network = ip;
  if (p < 0) {
    if (sink.error === 'ipv6.truncated') embedded.truncated = true;
    return embedded;
  }
  if (ip.fragment !== undefined && ip.fragment.offset !== 0) {
    embedded.transport = { kind: 'other', protocol: ip.protocol };
    return embedded;
  }
  quotedTransport(bytes, p, end, ip.protocol, true, embedded);
  return embedded;
}

function quotedTransport(bytes: Uint8Array, offset: number, end: number, protocol: number, ipv6: boolean, embedded: EmbeddedPacket): void {
  const sink: LayerSink = {};
  decodeTransport(bytes, offset, end, protocol, ipv6, sink); // quoted errors are not followed
  if (sink.error !== undefined) embedded.truncated = true;
  const transport = sink.transport ?? partialTransport(bytes, offset, end, protocol);
  if (transport !== undefined) embedded.transport = transport;
}

/**
 * What can be read of a transport header cut short: ports (and the TCP
 * sequence, SCTP tag, ESP/AH SPI) when their bytes are there; other fields 0.
 */
function partialTransport(bytes: Uint8Array, offset: number, end: number, protocol: number): TransportLayer | undefined {
  const n = end - offset;
  switch (protocol) {
    case IPPROTO_TCP:
      if (n < 4) return undefined;
      return {
        kind: 'tcp',
        srcPort: u16(bytes, offset),
        dstPort: u16(bytes, offset + 2),
        seq: n >= 8 ? u32(bytes, offset + 4) : 0,
        ack: n >= 12 ? u32(bytes, offset + 8) : 0,
        dataOffset: n >= 13 ? bytes[offset + 12] >> 4 : 0,
        flags: n >= 14 ? u16(bytes, offset + 12) & 0x1ff : 0,
        window: n >= 16 ? u16(bytes, offset + 14) : 0,
        checksum: n >= 18 ? u16(bytes, offset + 16) : 0,
        urgentPointer: 0,
        options: '',
      };
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      if (n < 4) return undefined;
      return {
        kind: protocol === IPPROTO_UDP ? 'udp' : 'udplite',
        srcPort: u16(bytes, offset),
        dstPort: u16(bytes, offset + 2),
        length: n >= 6 ? u16(bytes, offset + 4) : 0,
        checksum: 0,
      };
    case IPPROTO_SCTP:
      if (n < 4) return undefined;
      return {
        kind: 'sctp',
        srcPort: u16(bytes, offset),
        dstPort: u16(bytes, offset + 2),
        verificationTag: n >= 8 ? u32(bytes, offset + 4) : 0,
        checksum: 0,
      };
    case IPPROTO_ESP:
      if (n < 4) return undefined;
      return { kind: 'esp', spi: u32(bytes, offset), sequence: 0 };
    case IPPROTO_AH:
      if (n < 2) return undefined;
      return {
        kind: 'ah',
        nextHeader: bytes[offset],
        length: (bytes[offset + 1] + 2) * 4,
        spi: n >= 8 ? u32(bytes, offset + 4) : 0,
        sequence: 0,
      };
  }
  return undefined;
}
