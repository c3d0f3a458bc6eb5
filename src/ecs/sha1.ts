// SHA-1 (FIPS 180-4) of a message that fits in one 64-byte block (at most 55
// bytes), in plain JS, into five words: what a Community ID hashes (at most 40
// bytes) per packet. No call into node:crypto and no digest string: the ECS
// line writer turns the words into base64 bytes in place (community-id.ts).

const W = new Int32Array(80);

/** Largest message length sha1Block handles. */
export const SHA1_BLOCK_MAX = 55;

/**
 * SHA-1 of block[0..length) (length ≤ 55) as five big-endian words into
 * `digest`. `block` is at least 64 bytes long and is padded in place (bytes
 * from `length` on are overwritten).
 */
export function sha1Block(block: Uint8Array, length: number, digest: Int32Array): void {
  if (length > SHA1_BLOCK_MAX || block.length < 64)
    throw new RangeError('sha1Block: message longer than 55 bytes or block shorter than 64');
  block[length] = 0x80;
  for (let i = length + 1; i < 64; i++) block[i] = 0;
  const w = W;
  for (let i = 0; i < 15; i++) {
    const k = i * 4;
    w[i] = (block[k] << 24) | (block[k + 1] << 16) | (block[k + 2] << 8) | block[k + 3];
  }
  w[15] = length * 8;
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
    const next = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (; t < 40; t++) {
    const next = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (; t < 60; t++) {
    const next = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (; t < 80; t++) {
    const next = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  digest[0] = (0x67452301 + a) | 0;
  digest[1] = ((0xefcdab89 | 0) + b) | 0;
  digest[2] = ((0x98badcfe | 0) + c) | 0;
  digest[3] = (0x10325476 + d) | 0;
  digest[4] = ((0xc3d2e1f0 | 0) + e) | 0;
}
