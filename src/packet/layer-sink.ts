// Where layer decoders put what they found. DecodedPacket has this shape, so
// the top-level decoder passes its output object straight through; quoted
// (ICMP-embedded) decoding passes a scratch one.

import type { NetworkLayer, TransportLayer } from './types';

export interface LayerSink {
  network?: NetworkLayer;
  transport?: TransportLayer;
  /** Short code such as 'tcp.truncated'; set by the first layer that fails. */
  error?: string;
}

/** Big-endian unsigned 16-bit read; the caller has checked bounds. */
export function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

/** Big-endian unsigned 32-bit read; the caller has checked bounds. */
export function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
