// Small byte helpers shared by the decoders.
import { HEX_LOWER } from './packet/hex';

/** Lower-case hex of bytes[offset, offset + length). */
export function toHex(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = offset; i < offset + length; i++) out += HEX_LOWER[bytes[i]];
  return out;
}

/** Reads a big-endian 64-bit unsigned integer as a number (exact below 2^53). */
export function readU64BE(view: DataView, offset: number): number {
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4);
}
