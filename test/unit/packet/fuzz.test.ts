import { describe, expect, it } from 'vitest';
import { decodePacket, type StartLayer } from '../../../src/packet/decode';
import {
  ah,
  arp,
  cat,
  esp,
  ethernet,
  extHeader,
  fragmentHeader,
  icmp,
  ipv4,
  ipv6,
  sctp,
  tcp,
  u16,
  u32,
  udp,
  zeros,
  type Bytes,
} from './builders';

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Bytes[] {
  const quoted4 = ipv4({ protocol: 17 }, udp({}, zeros(8)));
  const quoted6 = ipv6({ nextHeader: 6 }, tcp({ options: [2, 4, 5, 0xb4] }));
  const l4: Array<[number, Bytes]> = [
    [6, tcp({ flags: 0x12, options: [2, 4, 5, 0xb4, 1, 3, 3, 7] })],
    [17, udp({}, [1, 2, 3])],
    [136, udp({})],
    [132, sctp({ sport: 1, dport: 2, tag: 3, checksum: 4 }, [1, 0, 0, 4])],
    [47, cat(u16(0x3081), u16(0x880b), u32(1), u32(2), u32(3))],
    [47, cat(u16(0xb000), u16(0x0800), u32(0), u32(1), u32(2))],
    [50, esp(1, 2, zeros(16))],
    [51, cat(ah(6, 4, 1, 2), tcp({}))],
  ];
  const out: Bytes[] = [];
  for (const [p, t] of l4) {
    out.push(ipv4({ protocol: p }, t), ipv6({ nextHeader: p }, t));
  }
  out.push(
    ipv4({ protocol: 1 }, icmp(3, 4, zeros(4), quoted4)),
    ipv4({ protocol: 1 }, icmp(8, 0, zeros(4), zeros(8))),
    ipv4({ protocol: 1 }, icmp(5, 0, zeros(4), ipv4({ protocol: 6 }, tcp({})))),
    ipv4({ protocol: 6, options: [7, 7, 4, 0, 0, 0, 0, 0] }, tcp({})),
    ipv4({ protocol: 6, fragOffset: 3 }, zeros(16)),
    ipv6({ nextHeader: 58 }, icmp(2, 0, u32(1280), quoted6)),
    ipv6({ nextHeader: 58 }, icmp(135, 0, zeros(4), zeros(16))),
    ipv6({ nextHeader: 0 }, cat(extHeader(43), extHeader(44), fragmentHeader(60, 0, true, 1), extHeader(17), udp({}))),
    ipv6({ nextHeader: 44 }, cat(fragmentHeader(6, 100, false, 1), zeros(24))),
    arp({}),
  );
  const withLink = out.map((p) => ethernet({ etherType: p[0] >> 4 === 6 ? 0x86dd : p.length === 28 ? 0x0806 : 0x0800 }, p));
  withLink.push(
    ethernet(
      {
        vlans: [
          { tpid: 0x88a8, id: 1 },
          { tpid: 0x8100, id: 2 },
        ],
        etherType: 0x0800,
      },
      out[0],
    ),
    ethernet({ vlans: [{ tpid: 0x8100, id: 3 }], etherType: 0x0806 }, arp({})),
  );
  return [...out, ...withLink];
}

const STARTS: StartLayer[] = ['ethernet', 'ipv4', 'ipv6', 'ip', 'arp'];
const INPUTS = 200_000;
const MAX_JSON = 10 * 1024;

describe('fuzz', () => {
  it(`decodes ${INPUTS} random and mutated inputs from every start layer without throwing`, () => {
    const rand = prng(0x5eed1234);
    const seeds = corpus();
    const buf = new Uint8Array(2048);
    let decoded = 0;
    let errors = 0;
    let maxJson = 0;
    const kinds = new Set<string>();
    const codes = new Set<string>();
    for (let i = 0; i < INPUTS; i++) {
      // Random bytes around the packet, so reads past the window would see garbage.
      const pad = Math.floor(rand() * 8);
      for (let j = 0; j < pad; j++) buf[j] = (rand() * 256) | 0;
      let len: number;
      if (i % 4 === 0) {
        len = Math.floor(rand() * 160);
        for (let j = 0; j < len; j++) buf[pad + j] = (rand() * 256) | 0;
      } else {
        const seed = seeds[Math.floor(rand() * seeds.length)];
        len = seed.length;
        buf.set(seed, pad);
        const flips = 1 + Math.floor(rand() * 6);
        for (let f = 0; f < flips; f++) {
          const at = pad + Math.floor(rand() * len);
          const r = rand();
          // Mostly small numbers and boundary values: they reach deeper paths than noise.
          buf[at] = r < 0.3 ? 0 : r < 0.5 ? 0xff : r < 0.7 ? (rand() * 16) | 0 : (rand() * 256) | 0;
        }
        const cut = rand();
        if (cut < 0.3) len = Math.floor(rand() * len);
        else if (cut < 0.4) {
          const extra = Math.floor(rand() * 64);
          for (let j = 0; j < extra; j++) buf[pad + len + j] = (rand() * 256) | 0;
          len += extra;
        }
      }
      for (let j = pad + len; j < pad + len + 8; j++) buf[j] = (rand() * 256) | 0;

      for (const start of STARTS) {
        let json: string;
        try {
          const d = decodePacket(buf, pad, len, start);
          if (d.error !== undefined) {
            errors++;
            codes.add(d.error);
          }
          if (d.transport !== undefined) kinds.add(d.transport.kind);
          if (d.transport !== undefined && 'embedded' in d.transport) kinds.add('embedded');
          json = JSON.stringify(d);
        } catch (e) {
          throw new Error(`input ${i} start ${start} threw: ${String(e)}`);
        }
        if (json.length > maxJson) maxJson = json.length;
        decoded++;
      }
    }
    expect(decoded).toBe(INPUTS * STARTS.length);
    expect(maxJson).toBeLessThan(MAX_JSON);
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(decoded);
    // The mutations still reach every decoder.
    expect([...kinds].sort()).toEqual(['ah', 'embedded', 'esp', 'gre', 'icmp', 'icmpv6', 'other', 'sctp', 'tcp', 'udp', 'udplite']);
    expect(codes.size).toBeGreaterThan(15);
  });
});
