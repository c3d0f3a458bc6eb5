// ICMP for IPv4 (RFC 792, 1191): the 8-byte header and, for errors, where the
// quoted packet starts (decoded by embedded.ts).

import { ipv4ToString } from './address';
import { type LayerSink, u16 } from './layer-sink';
import type { IcmpHeader } from './types';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROB = 12;
/** Destination unreachable code: fragmentation needed and DF set. */
export const ICMP_FRAG_NEEDED = 4;

/** Types that quote the offending packet after the 8-byte header. */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** Echo, timestamp, information and address mask request/reply: id + sequence. */
function hasIdSequence(type: number): boolean {
  return type === 0 || type === 8 || (type >= 13 && type <= 18);
}

/**
 * Decodes the ICMP header at offset into out.transport. Returns the offset of
 * the quoted packet for error messages with bytes after the header, else -1.
 */
export function decodeIcmp(bytes: Uint8Array, offset: number, end: number, out: LayerSink): number {
  if (end - offset < 4) {
    out.error = 'icmp.truncated';
    return -1;
  }
  const type = bytes[offset];
  const code = bytes[offset + 1];
  const icmp: IcmpHeader = { kind: 'icmp', type, code, checksum: u16(bytes, offset + 2) };
  out.transport = icmp;
  if (end - offset < 8) {
    out.error = 'icmp.truncated';
    return -1;
  }
  if (hasIdSequence(type)) {
    icmp.id = u16(bytes, offset + 4);
    icmp.sequence = u16(bytes, offset + 6);
    return -1;
  }
  if (type === ICMP_REDIRECT) icmp.gateway = ipv4ToString(bytes, offset + 4);
  else if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) icmp.mtu = u16(bytes, offset + 6);
  else if (type === ICMP_PARAMETER_PROB) icmp.pointer = bytes[offset + 4];
  return isIcmpError(type) && end - offset > 8 ? offset + 8 : -1;
}
