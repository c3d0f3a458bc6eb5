// ICMPv6 (RFC 4443, 4861): the header, neighbour discovery targets and, for
// errors, where the quoted packet starts (decoded by embedded.ts).

import { ipv6ToString } from './address';
import { type LayerSink, u16, u32 } from './layer-sink';
import type { Icmpv6Header } from './types';

export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAM_PROB = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;
export const ICMPV6_REDIRECT = 137;

/** Error types 1–4 quote the offending packet after the 8-byte header. */
export function isIcmpv6Error(type: number): boolean {
  return type >= 1 && type <= 4;
}

/**
 * Decodes the ICMPv6 header at offset into out.transport. Returns the offset
 * of the quoted packet for error messages with bytes after the header, else -1.
 */
export function decodeIcmpv6(bytes: Uint8Array, offset: number, end: number, out: LayerSink): number {
  if (end - offset < 4) {
    out.error = 'icmpv6.truncated';
    return -1;
  }
  const type = bytes[offset];
  const icmp: Icmpv6Header = { kind: 'icmpv6', type, code: bytes[offset + 1], checksum: u16(bytes, offset + 2) };
  out.transport = icmp;
  if (end - offset < 8) {
    out.error = 'icmpv6.truncated';
    return -1;
  }
  switch (type) {
    case ICMPV6_ECHO_REQUEST:
    case ICMPV6_ECHO_REPLY:
      icmp.id = u16(bytes, offset + 4);
      icmp.sequence = u16(bytes, offset + 6);
      return -1;
    case ICMPV6_PACKET_TOO_BIG:
      icmp.mtu = u32(bytes, offset + 4);
      break;
    case ICMPV6_PARAM_PROB:
      icmp.pointer = u32(bytes, offset + 4);
      break;
    case ICMPV6_NEIGHBOR_SOLICIT:
    case ICMPV6_NEIGHBOR_ADVERT:
    case ICMPV6_REDIRECT:
      if (end - offset < 24) {
        out.error = 'icmpv6.truncated';
        return -1;
      }
      icmp.target = ipv6ToString(bytes, offset + 8);
      return -1;
  }
  return isIcmpv6Error(type) && end - offset > 8 ? offset + 8 : -1;
}
