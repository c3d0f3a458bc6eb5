import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import { ah, cat, esp, overIp, sctp, toBytes, u16, u32, zeros } from './builders';

function decode(b: number[]) {
  return decodePacket(toBytes(b), 0, b.length, 'ip');
}

describe.each(['ipv4', 'ipv6'])('over %s', (version) => {
  const wrap = (protocol: number, t: number[]) => overIp(protocol, t).find(([n]) => n === version)![1];

  describe('sctp', () => {
    it('decodes the common header and the first chunk type', () => {
      const init = cat([1, 0], u16(20), zeros(16));
      const d = decode(wrap(132, sctp({ sport: 2905, dport: 2905, tag: 0, checksum: 0xcafebabe }, init)));
      expect(d.error).toBeUndefined();
      expect(d.transport).toEqual({
        kind: 'sctp',
        srcPort: 2905,
        dstPort: 2905,
        verificationTag: 0,
        checksum: 0xcafebabe,
        firstChunkType: 1,
      });
    });

    it('omits the chunk type without chunks and reports truncation', () => {
      const bare = wrap(132, sctp({ sport: 1, dport: 2, tag: 0x80000001, checksum: 3 }));
      expect(decode(bare).transport).toEqual({
        kind: 'sctp',
        srcPort: 1,
        dstPort: 2,
        verificationTag: 0x80000001,
        checksum: 3,
      });
      expect(decode(bare.slice(0, bare.length - 1))).toMatchObject({ error: 'sctp.truncated' });
    });
  });

  describe('gre', () => {
    it('decodes a plain RFC 2784 header', () => {
      const d = decode(wrap(47, cat(u16(0), u16(0x0800), zeros(20))));
      expect(d.error).toBeUndefined();
      expect(d.transport).toEqual({ kind: 'gre', flags: 0, version: 0, protocol: 0x0800 });
    });

    it('decodes checksum, key and sequence (RFC 2890)', () => {
      const d = decode(wrap(47, cat(u16(0xb000), u16(0x6558), u16(0xabcd), u16(0), u32(0x01020304), u32(77))));
      expect(d.error).toBeUndefined();
      expect(d.transport).toEqual({
        kind: 'gre',
        flags: 0xb000,
        version: 0,
        protocol: 0x6558,
        key: 0x01020304,
        sequence: 77,
      });
    });

    it('decodes a key without a checksum', () => {
      const d = decode(wrap(47, cat(u16(0x2000), u16(0x86dd), u32(42))));
      expect(d.transport).toEqual({ kind: 'gre', flags: 0x2000, version: 0, protocol: 0x86dd, key: 42 });
    });

    it('decodes PPTP enhanced GRE (version 1) with sequence and acknowledgment', () => {
      const d = decode(wrap(47, cat(u16(0x3081), u16(0x880b), u16(1400), u16(0x1234), u32(5), u32(4))));
      expect(d.error).toBeUndefined();
      expect(d.transport).toEqual({
        kind: 'gre',
        flags: 0x3080,
        version: 1,
        protocol: 0x880b,
        payloadLength: 1400,
        callId: 0x1234,
        sequence: 5,
        acknowledgment: 4,
      });
    });

    it('decodes an acknowledgment-only PPTP packet', () => {
      const d = decode(wrap(47, cat(u16(0x2081), u16(0x880b), u16(0), u16(9), u32(11))));
      expect(d.transport).toEqual({
        kind: 'gre',
        flags: 0x2080,
        version: 1,
        protocol: 0x880b,
        payloadLength: 0,
        callId: 9,
        acknowledgment: 11,
      });
    });

    it('keeps the fixed part when optional fields are cut off', () => {
      const pkt = wrap(47, cat(u16(0x3000), u16(0x0800), u32(1), u32(2)));
      const d = decode(pkt.slice(0, pkt.length - 2));
      expect(d.error).toBe('gre.truncated');
      expect(d.transport).toEqual({ kind: 'gre', flags: 0x3000, version: 0, protocol: 0x0800, key: 1 });
      const tiny = decode(pkt.slice(0, pkt.length - 9));
      expect(tiny.error).toBe('gre.truncated');
      expect(tiny.transport).toBeUndefined();
    });
  });

  describe('esp and ah', () => {
    it('decodes ESP SPI and sequence', () => {
      const d = decode(wrap(50, esp(0xc0ffee01, 0xffffffff, zeros(32))));
      expect(d.error).toBeUndefined();
      expect(d.transport).toEqual({ kind: 'esp', spi: 0xc0ffee01, sequence: 0xffffffff });
      const pkt = wrap(50, esp(1, 2));
      expect(decode(pkt.slice(0, pkt.length - 1))).toMatchObject({ error: 'esp.truncated' });
    });

    it('decodes AH next header, length, SPI and sequence', () => {
      const d = decode(wrap(51, cat(ah(17, 4, 0x100, 3), zeros(8))));
      expect(d.error).toBeUndefined();
      expect(d.transport).toMatchObject({ kind: 'ah', nextHeader: 17, length: 24, spi: 0x100, sequence: 3 });
      expect(d.network).toMatchObject({ protocol: 51 });
      // The integrity check value after the fixed 12 bytes is not decoded.
      const pkt = wrap(51, ah(6, 4, 1, 1));
      const fixedEnd = pkt.length - 12;
      expect(decode(pkt.slice(0, fixedEnd)).error).toBeUndefined();
      const cut = decode(pkt.slice(0, fixedEnd - 1));
      expect(cut.error).toBe('ah.truncated');
      expect(cut.transport).toBeUndefined();
    });
  });
});
