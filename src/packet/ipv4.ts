// IPv4 header (RFC 791), options kept as raw hex.

import { ipv4ToString } from './address';
import { hexUpper } from './hex';
import { type LayerSink, u16 } from './layer-sink';
import type { Ipv4Header } from './types';

/**
 * Decodes the IPv4 header at offset into out.network. Returns the offset of
 * the payload, or -1 when the header is unusable (out.error set; out.network
 * stays unset unless the fixed 20 bytes decoded).
 */
export function decodeIpv4(bytes: Uint8Array, offset: number, end: number, out: LayerSink): number {
  if (end - offset < 20) {
    out.error = 'ipv4.truncated';
    return -1;
  }
  const vihl = bytes[offset];
  if (vihl >> 4 !== 4) {
    out.error = 'ipv4.bad-version';
    return -1;
  }
  const headerLength = (vihl & 0x0f) * 4;
  const flagsFrag = u16(bytes, offset + 6);
  const ip: Ipv4Header = {
    kind: 'ipv4',
    src: ipv4ToString(bytes, offset + 12),
    dst: ipv4ToString(bytes, offset + 16),
    headerLength,
    tos: bytes[offset + 1],
    totalLength: u16(bytes, offset + 2),
    id: u16(bytes, offset + 4),
    flagReserved: (flagsFrag & 0x8000) !== 0,
    dontFragment: (flagsFrag & 0x4000) !== 0,
    moreFragments: (flagsFrag & 0x2000) !== 0,
    fragmentOffset: flagsFrag & 0x1fff,
    ttl: bytes[offset + 8],
    protocol: bytes[offset + 9],
    checksum: u16(bytes, offset + 10),
    options: '',
  };
  out.network = ip;
  if (headerLength < 20) {
    out.error = 'ipv4.bad-header-length';
    return -1;
  }
  if (end - offset < headerLength) {
    out.error = 'ipv4.truncated';
    return -1;
  }
  if (headerLength > 20) ip.options = hexUpper(bytes, offset + 20, offset + headerLength);
  return offset + headerLength;
}

/**
 * End of the IPv4 payload: the total length when it is plausible, else what
 * was captured (a total length of 0 is legal for GSO/BIG TCP super-packets).
 */
export function ipv4PayloadEnd(ip: Ipv4Header, offset: number, end: number): number {
  if (ip.totalLength < ip.headerLength) return end;
  const e = offset + ip.totalLength;
  return Math.min(e, end);
}
