import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMUNITY_ID_LENGTH, communityId, communityIdDigest, tryCommunityId, writeCommunityId } from '../../../src/ecs/community-id';
import { SHA1_BLOCK_MAX, sha1Block } from '../../../src/ecs/sha1';
import { parseIpInto } from '../../../src/packet/ip-text';
import { referencePath } from './reference';

interface Vector {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  communityid: string;
}

const BASELINES: Array<{ file: string; options: { seed?: number; base64?: boolean } }> = [
  { file: 'baseline_deflt.json', options: {} },
  { file: 'baseline_seed1.json', options: { seed: 1 } },
  { file: 'baseline_nob64.json', options: { base64: false } },
];

function load(file: string): Vector[] {
  return JSON.parse(fs.readFileSync(referencePath('community-id', file), 'utf8')) as Vector[];
}

function isIcmp(proto: number): boolean {
  return proto === 1 || proto === 58;
}

describe('communityId: Community ID v1 baselines', () => {
  for (const { file, options } of BASELINES) {
    const vectors = load(file);
    it(`${file} has vectors`, () => {
      expect(vectors.length).toBeGreaterThan(0);
    });
    for (const [i, v] of vectors.entries()) {
      it(`${file} #${i}: proto ${v.proto} ${v.saddr}:${v.sport} -> ${v.daddr}:${v.dport}`, () => {
        const base = { srcIp: v.saddr, dstIp: v.daddr, protocol: v.proto };
        const ports = v.sport === null || v.dport === null ? {} : { srcPort: v.sport, dstPort: v.dport };
        // The baselines give ICMP type/code in sport/dport: both spellings must agree.
        expect(communityId({ ...base, ...ports }, options)).toBe(v.communityid);
        if (isIcmp(v.proto) && v.sport !== null && v.dport !== null) {
          expect(communityId({ ...base, icmpType: v.sport, icmpCode: v.dport }, options)).toBe(v.communityid);
        }
      });
    }
  }
});

describe('communityId: behaviour', () => {
  it('is symmetric for TCP and ignores ports of port-less protocols', () => {
    const a = communityId({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 6, srcPort: 1234, dstPort: 80 });
    const b = communityId({ srcIp: '10.0.0.2', dstIp: '10.0.0.1', protocol: 6, srcPort: 80, dstPort: 1234 });
    expect(a).toBe(b);
    const gre = communityId({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 47 });
    expect(communityId({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 47, srcPort: 1, dstPort: 2 })).toBe(gre);
  });

  it('orders equal addresses by port', () => {
    const a = communityId({ srcIp: '10.0.0.1', dstIp: '10.0.0.1', protocol: 17, srcPort: 9, dstPort: 5 });
    const b = communityId({ srcIp: '10.0.0.1', dstIp: '10.0.0.1', protocol: 17, srcPort: 5, dstPort: 9 });
    expect(a).toBe(b);
  });

  it('treats ::ffff:a.b.c.d as an IPv6 address and accepts zones and upper case', () => {
    const v = { proto: 6, sport: 63943, dport: 25 };
    const expected = communityId({
      srcIp: '2001:470:e5bf:dead:4957:2174:e82c:4887',
      dstIp: '2607:f8b0:400c:c03::1a',
      protocol: v.proto,
      srcPort: v.sport,
      dstPort: v.dport,
    });
    expect(
      communityId({
        srcIp: '2001:0470:E5BF:DEAD:4957:2174:E82C:4887',
        dstIp: '2607:f8b0:400c:0c03:0:0:0:1a%eth0',
        protocol: 6,
        srcPort: 63943,
        dstPort: 25,
      }),
    ).toBe(expected);
    expect(tryCommunityId({ srcIp: '::ffff:10.0.0.1', dstIp: '10.0.0.2', protocol: 6 })).toBeUndefined();
  });

  it('throws on invalid addresses; tryCommunityId returns undefined', () => {
    expect(() => communityId({ srcIp: '10.0.0.256', dstIp: '10.0.0.1', protocol: 6 })).toThrow(TypeError);
    expect(tryCommunityId({ srcIp: 'nope', dstIp: '10.0.0.1', protocol: 6 })).toBeUndefined();
  });
});

describe('sha1Block', () => {
  it('equals node:crypto SHA-1 for every length it takes', () => {
    const block = new Uint8Array(64);
    const digest = new Int32Array(5);
    for (let length = 0; length <= SHA1_BLOCK_MAX; length++) {
      for (let k = 0; k < 64; k++) block[k] = (k * 37 + length * 11) & 0xff;
      const expected = createHash('sha1').update(block.subarray(0, length)).digest('hex');
      sha1Block(block, length, digest);
      expect(Array.from(digest, (x) => (x >>> 0).toString(16).padStart(8, '0')).join('')).toBe(expected);
    }
  });

  it('refuses a message longer than one block takes', () => {
    expect(() => sha1Block(new Uint8Array(64), 56, new Int32Array(5))).toThrow(RangeError);
  });
});

describe('communityId: the per-packet path', () => {
  // The spec's message, built here independently, hashed by node:crypto.
  function reference(src: number[], dst: number[], proto: number, sport: number, dport: number, seed: number): string {
    const cmp = Buffer.compare(Buffer.from(src), Buffer.from(dst));
    const swap = cmp > 0 || (cmp === 0 && sport > dport);
    const [a, b, pa, pb] = swap ? [dst, src, dport, sport] : [src, dst, sport, dport];
    const msg = Buffer.from([seed >> 8, seed & 0xff, ...a, ...b, proto, 0, pa >> 8, pa & 0xff, pb >> 8, pb & 0xff]);
    return '1:' + createHash('sha1').update(msg).digest('base64');
  }
  const v4 = (x: number) => [10, (x >> 16) & 0xff, (x >> 8) & 0xff, x & 0xff];
  const v6 = (x: number) => [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (x >> 8) & 0xff, x & 0xff];
  const text4 = (b: number[]) => b.join('.');
  const text6 = (b: number[]) => `2001:db8::${((b[14] << 8) | b[15]).toString(16)}`;

  it('gives every flow of a scan its own ID, as the spec hashes it, through the address cache', () => {
    // 3,000 addresses of each family, each seen twice, so slots of the address-text cache collide and are replaced.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3000; i++) {
        const seed = i % 3;
        const sport = 1024 + ((i * 13) % 60000);
        const dport = 9000 + (i % 50000);
        const proto = i % 2 === 0 ? 17 : 6;
        expect(
          tryCommunityId({ srcIp: text4(v4(i)), dstIp: text4(v4(i * 7 + 1)), protocol: proto, srcPort: sport, dstPort: dport }, { seed }),
        ).toBe(reference(v4(i), v4(i * 7 + 1), proto, sport, dport, seed));
        expect(
          tryCommunityId({ srcIp: text6(v6(i * 7 + 1)), dstIp: text6(v6(i)), protocol: proto, srcPort: sport, dstPort: dport }, { seed }),
        ).toBe(reference(v6(i * 7 + 1), v6(i), proto, sport, dport, seed));
      }
    }
  });

  it('writes the ID as bytes, the same as its text', () => {
    const digest = new Int32Array(5);
    const out = Buffer.alloc(40, 0x2e);
    const input = { srcIp: '192.0.2.1', dstIp: '198.51.100.7', protocol: 6, srcPort: 51234, dstPort: 443 };
    expect(communityIdDigest(input, 0, digest)).toBe(true);
    expect(writeCommunityId(digest, out, 3)).toBe(3 + COMMUNITY_ID_LENGTH);
    expect(out.toString('latin1', 3, 3 + COMMUNITY_ID_LENGTH)).toBe(communityId(input));
    expect(out[2]).toBe(0x2e);
    expect(out[3 + COMMUNITY_ID_LENGTH]).toBe(0x2e);
    // Not an address: false, and the digest is left alone.
    const before = digest.slice();
    expect(communityIdDigest({ ...input, dstIp: '198.51.100.256' }, 0, digest)).toBe(false);
    expect(digest).toEqual(before);
  });
});

describe('parseIpInto', () => {
  const out = new Uint8Array(16);
  const hex = (n: number) => Buffer.from(out.subarray(0, n)).toString('hex');
  const cases: Array<[string, string | null]> = [
    ['0.0.0.0', '00000000'],
    ['192.168.0.1', 'c0a80001'],
    ['255.255.255.255', 'ffffffff'],
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['fe80::200:86ff:fe05:80da', 'fe80000000000000020086fffe0580da'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ['256.0.0.1', null],
    ['1.2.3', null],
    ['1.2.3.4.5', null],
    ['01.2.3.4', null],
    ['', null],
    [':', null],
    [':1', null],
    ['1:', null],
    ['1::2::3', null],
    ['12345::', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7', null],
    ['1:2:3:4:5:6:7:8::', null],
    ['g::1', null],
    ['::1.2.3', null],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${expected}`, () => {
      const n = parseIpInto(input, out);
      if (expected === null) expect(n).toBe(0);
      else expect(hex(n)).toBe(expected);
    });
  }
});
