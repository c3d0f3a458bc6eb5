// GRE: RFC 2784 with the RFC 2890 key and sequence extensions (version 0),
// and the enhanced GRE of PPTP (RFC 2637, version 1).

import { type LayerSink, u16, u32 } from './layer-sink';
import type { GreHeader } from './types';

// GreHeader.flags holds the first 16 bits with the version masked off, so
// these masks apply to it directly.
export const GRE_CHECKSUM = 0x8000; // C
export const GRE_ROUTING = 0x4000; // R (RFC 1701, deprecated)
export const GRE_KEY = 0x2000; // K
export const GRE_SEQUENCE = 0x1000; // S
export const GRE_ACK = 0x0080; // A, version 1 only

/**
 * Decodes the GRE header at offset into out.transport. Optional fields cut
 * off by the capture keep the header and set 'gre.truncated'.
 */
export function decodeGre(bytes: Uint8Array, offset: number, end: number, out: LayerSink): void {
  if (end - offset < 4) {
    out.error = 'gre.truncated';
    return;
  }
  const word = u16(bytes, offset);
  const flags = word & 0xfff8;
  const version = word & 0x7;
  const gre: GreHeader = { kind: 'gre', flags, version, protocol: u16(bytes, offset + 2) };
  out.transport = gre;
  if (version > 1) return;

  let p = offset + 4;
  // Checksum + offset (RFC 1701) or reserved1 (RFC 2784).
  if ((flags & (GRE_CHECKSUM | GRE_ROUTING)) !== 0) p += 4;
  if ((flags & GRE_KEY) !== 0) {
    if (end - p < 4) {
      out.error = 'gre.truncated';
      return;
    }
    if (version === 0) {
      gre.key = u32(bytes, p);
    } else {
      gre.payloadLength = u16(bytes, p);
      gre.callId = u16(bytes, p + 2);
    }
    p += 4;
  }
  if ((flags & GRE_SEQUENCE) !== 0) {
    if (end - p < 4) {
      out.error = 'gre.truncated';
      return;
    }
    gre.sequence = u32(bytes, p);
    p += 4;
  }
  if (version === 1 && (flags & GRE_ACK) !== 0) {
    if (end - p < 4) {
      out.error = 'gre.truncated';
      return;
    }
    gre.acknowledgment = u32(bytes, p);
  }
}
