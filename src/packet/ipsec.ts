// IPsec: ESP (RFC 4303) and AH (RFC 4302) headers.

import { type LayerSink, u32 } from './layer-sink';

/** Decodes the ESP SPI and sequence number at offset into out.transport. */
export function decodeEsp(bytes: Uint8Array, offset: number, end: number, out: LayerSink): void {
  if (end - offset < 8) {
    out.error = 'esp.truncated';
    return;
  }
  out.transport = { kind: 'esp', spi: u32(bytes, offset), sequence: u32(bytes, offset + 4) };
}

/** Decodes the fixed 12 bytes of an AH header at offset into out.transport. */
export function decodeAh(bytes: Uint8Array, offset: number, end: number, out: LayerSink): void {
  if (end - offset < 12) {
    out.error = 'ah.truncated';
    return;
  }
  out.transport = {
    kind: 'ah',
    nextHeader: bytes[offset],
    // Payload length counts 32-bit words minus 2.
    length: (bytes[offset + 1] + 2) * 4,
    spi: u32(bytes, offset + 4),
    sequence: u32(bytes, offset + 8),
  };
}
