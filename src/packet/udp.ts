// UDP (RFC 768) and UDP-Lite (RFC 3828, IP protocol 136): the same 8 bytes.

import { type LayerSink, u16 } from './layer-sink';

/** Decodes the 8-byte UDP or UDP-Lite header at offset into out.transport. */
export function decodeUdp(bytes: Uint8Array, offset: number, end: number, out: LayerSink, kind: 'udp' | 'udplite' = 'udp'): void {
  if (end - offset < 8) {
    out.error = kind === 'udp' ? 'udp.truncated' : 'udplite.truncated';
    return;
  }
  out.transport = {
    kind,
    srcPort: u16(bytes, offset),
    dstPort: u16(bytes, offset + 2),
    length: u16(bytes, offset + 4),
    checksum: u16(bytes, offset + 6),
  };
}
