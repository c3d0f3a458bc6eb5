import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestBase64, digestHex, SHA1_SHORT_MAX, sha1Short } from '../../../src/ecs/sha1';

describe('sha1Short', () => {
  it('matches node:crypto for every length 0..55 and random bytes', () => {
    const out = new Uint8Array(20);
    let seed = 7;
    for (let round = 0; round < 200; round++) {
      for (let len = 0; len <= SHA1_SHORT_MAX; len++) {
        const msg = new Uint8Array(64);
        for (let i = 0; i < len; i++) msg[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
        const ref = crypto.createHash('sha1').update(msg.subarray(0, len)).digest();
        sha1Short(msg, len, out);
        expect(Buffer.from(out).equals(ref), `len ${len}`).toBe(true);
        expect(digestBase64(out)).toBe(ref.toString('base64'));
        expect(digestHex(out)).toBe(ref.toString('hex'));
      }
    }
  });

  it('known answer: "abc"', () => {
    const out = new Uint8Array(20);
    const block = new Uint8Array(64);
    block.set(new TextEncoder().encode('abc'));
    sha1Short(block, 3, out);
    expect(digestHex(out)).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('refuses longer messages', () => {
    expect(() => sha1Short(new Uint8Array(64), 56, new Uint8Array(20))).toThrow(RangeError);
    expect(() => sha1Short(new Uint8Array(40), 3, new Uint8Array(20))).toThrow(RangeError);
  });
});
