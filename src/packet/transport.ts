// Dispatch from an IP protocol number to the transport decoder.

import { decodeGre } from './gre';
import { decodeIcmp } from './icmp';
import { decodeIcmpv6 } from './icmpv6';
import { decodeAh, decodeEsp } from './ipsec';
import { decodeSctp } from './sctp';
import type { LayerSink } from './layer-sink';
import { decodeTcp } from './tcp';
import {
  IPPROTO_AH,
  IPPROTO_ESP,
  IPPROTO_GRE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
} from './protocols';
import { decodeUdp } from './udp';

/**
 * Decodes the transport header of `protocol` at offset into out.transport
 * (ICMP under IPv4, ICMPv6 under IPv6); unknown protocols become
 * { kind: 'other', protocol }. Returns the offset of the packet quoted by an
 * ICMP/ICMPv6 error, else -1.
 */
export function decodeTransport(bytes: Uint8Array, offset: number, end: number, protocol: number, ipv6: boolean, out: LayerSink): number {
  switch (protocol) {
    case IPPROTO_TCP:
      decodeTcp(bytes, offset, end, out);
      return -1;
    case IPPROTO_UDP:
      decodeUdp(bytes, offset, end, out, 'udp');
      return -1;
    case IPPROTO_UDPLITE:
      decodeUdp(bytes, offset, end, out, 'udplite');
      return -1;
    case IPPROTO_ICMP:
      if (ipv6) break;
      return decodeIcmp(bytes, offset, end, out);
    case IPPROTO_ICMPV6:
      if (!ipv6) break;
      return decodeIcmpv6(bytes, offset, end, out);
    case IPPROTO_SCTP:
      decodeSctp(bytes, offset, end, out);
      return -1;
    case IPPROTO_GRE:
      decodeGre(bytes, offset, end, out);
      return -1;
    case IPPROTO_ESP:
      decodeEsp(bytes, offset, end, out);
      return -1;
    case IPPROTO_AH:
      decodeAh(bytes, offset, end, out);
      return -1;
  }
  out.transport = { kind: 'other', protocol };
  return -1;
}
