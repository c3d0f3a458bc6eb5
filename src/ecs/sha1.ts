// SHA-1 (FIPS 180-4) of a message that fits in one 64-byte block (at most 55
// bytes), in plain JS. A Community ID input is at most 40 bytes, and hashing it
// here is several times faster than a call into node:crypto per packet.
// Longer messages are not supported: callers use node:crypto for those.

const W = new Int32Array(80);
const H = new Int32Array(5);

/** Largest message length handled by sha1Short. */
export const SHA1_SHORT_MAX = 55;

/**
 * SHA-1 of block[0..len) (len ≤ 55) into out[0..20). `block` must be at least
 * 64 bytes long: it is padded in place (bytes from len on are overwritten).
 */
export function sha1Short(block: Uint8Array, len: number, out: Uint8Array): void {
  if (len > SHA1_SHORT_MAX || block.length < 64) throw new RangeError('sha1Short: message longer than 55 bytes or block shorter than 64');
  block[len] = 0x80;
  block.fill(0, len + 1, 64);
  const w = W;
  for (let i = 0; i < 15; i++) {
    const k = i * 4;
    w[i] = (block[k] << 24) | (block[k + 1] << 16) | (block[k + 2] << 8) | block[k + 3];
  }
  w[15] = len * 8;
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  let e = 0xc3d2e1f0 | 0;
  let t = 0;
  for (; t < 20; t++) {
    const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  for (; t < 40; t++) {
    const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  for (; t < 60; t++) {
    const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  for (; t < 80; t++) {
    const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  const h = H;
  h[0] = (0x67452301 + a) | 0;
  h[1] = ((0xefcdab89 | 0) + b) | 0;
  h[2] = ((0x98badcfe | 0) + c) | 0;
  h[3] = (0x10325476 + d) | 0;
  h[4] = ((0xc3d2e1f0 | 0) + e) | 0;
  for (let i = 0; i < 5; i++) {
    const v = h[i];
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = (v >>> 16) & 0xff;
    out[i * 4 + 2] = (v >>> 8) & 0xff;
    out[i * 4 + 3] = v & 0xff;
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// 12 bits → two base64 characters.
const B64_PAIRS: string[] = Array.from({ length: 4096 }, (_, i) => B64[i >>> 6] + B64[i & 63]);
const HEX_BYTES: string[] = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

/** Standard base64 (with padding) of the 20-byte digest. */
export function digestBase64(d: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 18; i += 3) {
    const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    s += B64_PAIRS[v >>> 12] + B64_PAIRS[v & 0xfff];
  }
  // 2 bytes left: 16 bits → 3 characters and one '='.
  const v = (d[18] << 8) | d[19];
  return s + B64_PAIRS[v >>> 4] + B64[(v & 0xf) << 2] + '=';
}

/** Lower-case hex of the 20-byte digest. */
export function digestHex(d: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 20; i++) s += HEX_BYTES[d[i]];
  return s;
}
