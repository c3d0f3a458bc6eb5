// IPv6 fixed header (RFC 8200) and the walk over its extension headers.

import { ipv6ToString } from './address';
import { IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_MOBILITY, IPPROTO_ROUTING } from './protocols';
import { type LayerSink, u16, u32 } from './layer-sink';
import type { Ipv6Header } from './types';

/** A packet with more extension headers than this is treated as malformed. */
export const MAX_EXTENSION_HEADERS = 16;

/** End of the IPv6 payload: by payload length, or what was captured for jumbograms (0). */
export function ipv6PayloadEnd(ip: Ipv6Header, offset: number, end: number): number {
  if (ip.payloadLength === 0) return end;
  const e = offset + 40 + ip.payloadLength;
  return Math.min(e, end);
}

/**
 * Decodes the IPv6 header at offset into out.network and walks the extension
 * headers. Returns the offset of the transport header (of AH for protocol 51),
 * or -1 when decoding stopped (out.error set). ip.protocol is the transport
 * protocol, or the last header seen when the walk stopped early.
 */
export function decodeIpv6(bytes: Uint8Array, offset: number, end: number, out: LayerSink): number {
  if (end - offset < 40) {
    out.error = 'ipv6.truncated';
    return -1;
  }
  const w0 = u32(bytes, offset);
  if (w0 >>> 28 !== 6) {
    out.error = 'ipv6.bad-version';
    return -1;
  }
  const nextHeader = bytes[offset + 6];
  const extensionHeaders: number[] = [];
  const ip: Ipv6Header = {
    kind: 'ipv6',
    src: ipv6ToString(bytes, offset + 8),
    dst: ipv6ToString(bytes, offset + 24),
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength: u16(bytes, offset + 4),
    hopLimit: bytes[offset + 7],
    nextHeader,
    protocol: nextHeader,
    extensionHeaders,
    // In the literal (set by the walk below): added later, they would take a property array each.
    fragment: undefined,
    headerLength: undefined,
  };
  out.network = ip;

  const limit = ipv6PayloadEnd(ip, offset, end);
  let nh = nextHeader;
  let p = offset + 40;
  for (;;) {
    switch (nh) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS:
      case IPPROTO_MOBILITY:
      case IPPROTO_FRAGMENT:
        break;
      case IPPROTO_AH:
        // Both an extension header and, for us, the transport.
        extensionHeaders.push(nh);
        ip.protocol = nh;
        ip.headerLength = p - offset;
        return p;
      default:
        // A transport, or 59 (no next header).
        ip.protocol = nh;
        ip.headerLength = p - offset;
        return p;
    }
    if (extensionHeaders.length === MAX_EXTENSION_HEADERS) {
      out.error = 'ipv6.too-many-extension-headers';
      return -1;
    }
    if (limit - p < 8) {
      out.error = 'ipv6.truncated';
      return -1;
    }
    const size = nh === IPPROTO_FRAGMENT ? 8 : (bytes[p + 1] + 1) * 8;
    if (limit - p < size) {
      out.error = 'ipv6.truncated';
      return -1;
    }
    extensionHeaders.push(nh);
    const following = bytes[p];
    if (nh === IPPROTO_FRAGMENT) {
      const fo = u16(bytes, p + 2);
      const fragmentOffset = fo >> 3;
      ip.fragment = { offset: fragmentOffset, moreFragments: (fo & 1) !== 0, id: u32(bytes, p + 4) };
      if (fragmentOffset !== 0) {
        // What follows is the middle of the original payload, not a header.
        ip.protocol = following;
        ip.headerLength = p + 8 - offset;
        return p + 8;
      }
    }
    ip.protocol = following;
    nh = following;
    p += size;
  }
}
