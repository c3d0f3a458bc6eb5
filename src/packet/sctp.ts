// SCTP common header (RFC 9260) and the type of the first chunk.

import { type LayerSink, u16, u32 } from './layer-sink';
import type { SctpHeader } from './types';

/** Decodes the 12-byte SCTP common header at offset into out.transport. */
export function decodeSctp(bytes: Uint8Array, offset: number, end: number, out: LayerSink): void {
  if (end - offset < 12) {
    out.error = 'sctp.truncated';
    return;
  }
  const sctp: SctpHeader = {
    kind: 'sctp',
    srcPort: u16(bytes, offset),
    dstPort: u16(bytes, offset + 2),
    verificationTag: u32(bytes, offset + 4),
    checksum: u32(bytes, offset + 8),
  };
  if (end - offset > 12) sctp.firstChunkType = bytes[offset + 12];
  out.transport = sctp;
}
