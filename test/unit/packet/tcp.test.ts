import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import type { TcpHeader } from '../../../src/packet/types';
import { tcpFlagNames } from '../../../src/packet/tcp';
import { ipv4, overIp, tcp, toBytes } from './builders';

function decode(b: number[]) {
  return decodePacket(toBytes(b), 0, b.length, 'ip');
}

describe.each(overIp(6, []).map(([name]) => name))('tcp over %s', (version) => {
  const wrap = (t: number[]) => overIp(6, t).find(([n]) => n === version)![1];

  it('decodes every field, options hex and MSS', () => {
    // MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
    const options = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
    const d = decode(
      wrap(
        tcp({
          sport: 51234,
          dport: 443,
          seq: 0xfedcba98,
          ack: 0x01020304,
          flags: 0x1c2, // NS, CWR, ECE, SYN
          window: 64240,
          checksum: 0xbeef,
          urgent: 0x0102,
          options,
        }),
      ),
    );
    expect(d.error).toBeUndefined();
    expect(d.transport).toEqual({
      kind: 'tcp',
      srcPort: 51234,
      dstPort: 443,
      seq: 0xfedcba98,
      ack: 0x01020304,
      dataOffset: 10,
      flags: 0x1c2,
      window: 64240,
      checksum: 0xbeef,
      urgentPointer: 0x0102,
      options: '020405B40402080A000000010000000001030307',
      mss: 1460,
      reserved: 0,
    });
  });

  it('has empty options and no MSS without options', () => {
    const d = decode(wrap(tcp({ flags: 0x10 }, [1, 2, 3])));
    expect(d.transport).toMatchObject({ dataOffset: 5, options: '', flags: 0x10 });
    expect((d.transport as TcpHeader).mss).toBeUndefined();
  });

  it('gives the right text for many distinct 4-byte options, seen again in turn (they are remembered in 64 slots)', () => {
    for (let round = 0; round < 2; round++) {
      for (let mss = 500; mss < 800; mss++) {
        const t = decode(wrap(tcp({ options: [2, 4, mss >> 8, mss & 0xff] }))).transport as TcpHeader;
        expect(t.options).toBe(`0204${mss.toString(16).toUpperCase().padStart(4, '0')}`);
        expect(t.mss).toBe(mss);
      }
    }
    expect((decode(wrap(tcp({ options: [1, 1, 1, 0] }))).transport as TcpHeader).options).toBe('01010100');
  });

  it('finds MSS after NOPs and stops at end-of-options', () => {
    expect(decode(wrap(tcp({ options: [1, 1, 2, 4, 0x23, 0x28, 0, 0] }))).transport).toMatchObject({ mss: 9000 });
    expect((decode(wrap(tcp({ options: [0, 0, 0, 0, 2, 4, 1, 0] }))).transport as TcpHeader).mss).toBeUndefined();
    // A zero-length option ends the walk instead of looping.
    expect((decode(wrap(tcp({ options: [8, 0, 2, 4, 1, 0, 0, 0] }))).transport as TcpHeader).mss).toBeUndefined();
  });

  it('keeps the fixed header on a bad data offset', () => {
    const d = decode(wrap(tcp({ dataOffset: 3, sport: 7 })));
    expect(d.error).toBe('tcp.bad-data-offset');
    expect(d.transport).toMatchObject({ kind: 'tcp', srcPort: 7, dataOffset: 3, options: '' });
  });

  it('keeps the options that were captured', () => {
    const pkt = wrap(tcp({ options: [2, 4, 5, 0xb4, 1, 1, 1, 0] }));
    const d = decode(pkt.slice(0, pkt.length - 2));
    expect(d.error).toBe('tcp.truncated');
    expect(d.transport).toMatchObject({ dataOffset: 7, options: '020405B40101', mss: 1460 });
  });

  it('reports a header shorter than 20 bytes', () => {
    const pkt = wrap(tcp({}));
    const d = decode(pkt.slice(0, pkt.length - 1));
    expect(d.error).toBe('tcp.truncated');
    expect(d.transport).toBeUndefined();
    expect(d.network).toBeDefined();
  });
});

describe('tcpFlagNames', () => {
  it("names flags in the kernel's LOG order, 0x100 as ae", () => {
    expect(tcpFlagNames(0)).toEqual([]);
    expect(tcpFlagNames(0x12)).toEqual(['ack', 'syn']);
    expect(tcpFlagNames(0x1ff)).toEqual(['ae', 'cwr', 'ece', 'urg', 'ack', 'psh', 'rst', 'syn', 'fin']);
    expect(tcpFlagNames(0x19)).toEqual(['ack', 'psh', 'fin']);
    expect(tcpFlagNames(0x104)).toEqual(['ae', 'rst']);
  });

  it('matches the flags decoded from the wire', () => {
    const d = decode(ipv4({ protocol: 6 }, tcp({ flags: 0x29 })));
    expect(tcpFlagNames((d.transport as { flags: number }).flags)).toEqual(['urg', 'psh', 'fin']);
  });
});
