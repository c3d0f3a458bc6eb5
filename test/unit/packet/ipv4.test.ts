import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import { cat, ipv4, tcp, toBytes, udp, zeros } from './builders';

function decode(b: number[], start: 'ipv4' | 'ip' = 'ipv4') {
  return decodePacket(toBytes(b), 0, b.length, start);
}

describe('ipv4', () => {
  it('decodes every header field', () => {
    const pkt = ipv4(
      {
        src: '203.0.113.9',
        dst: '10.0.0.1',
        protocol: 17,
        tos: 0xb8,
        id: 0xbeef,
        df: true,
        ttl: 57,
        checksum: 0x1234,
      },
      udp({ sport: 5353, dport: 5353, checksum: 0xabcd }, [1, 2, 3]),
    );
    const d = decode(pkt);
    expect(d.error).toBeUndefined();
    expect(d.link).toBeUndefined();
    expect(d.network).toEqual({
      kind: 'ipv4',
      src: '203.0.113.9',
      dst: '10.0.0.1',
      headerLength: 20,
      tos: 0xb8,
      totalLength: 31,
      id: 0xbeef,
      flagReserved: false,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 57,
      protocol: 17,
      checksum: 0x1234,
      options: '',
    });
    expect(d.transport).toEqual({ kind: 'udp', srcPort: 5353, dstPort: 5353, length: 11, checksum: 0xabcd });
  });

  it('decodes the reserved flag, MF and the fragment offset of a first fragment', () => {
    const d = decode(ipv4({ protocol: 17, reservedFlag: true, mf: true }, udp({})));
    expect(d.network).toMatchObject({ flagReserved: true, dontFragment: false, moreFragments: true, fragmentOffset: 0 });
    expect(d.transport?.kind).toBe('udp');
  });

  it('does not decode a transport header in a non-first fragment', () => {
    const d = decode(ipv4({ protocol: 6, fragOffset: 185, mf: true }, zeros(40)));
    expect(d.error).toBeUndefined();
    expect(d.network).toMatchObject({ fragmentOffset: 185, moreFragments: true });
    expect(d.transport).toEqual({ kind: 'other', protocol: 6 });
    const last = decode(ipv4({ protocol: 17, fragOffset: 0x1fff }, [1]));
    expect(last.network).toMatchObject({ fragmentOffset: 0x1fff, moreFragments: false });
    expect(last.transport).toEqual({ kind: 'other', protocol: 17 });
  });

  it('keeps options as upper-case hex and finds the transport after them', () => {
    // Record route (7, length 11, pointer 4) + NOP, then router alert (148, 4, 0, 0).
    const options = [7, 11, 4, 0xc0, 0, 2, 1, 0xaa, 0xbb, 0xcc, 0xdd, 1, 148, 4, 0, 0];
    const d = decode(ipv4({ protocol: 6, options }, tcp({ sport: 1, dport: 2 })));
    expect(d.error).toBeUndefined();
    expect(d.network).toMatchObject({ headerLength: 36, options: '070B04C0000201AABBCCDD0194040000' });
    expect(d.transport).toMatchObject({ kind: 'tcp', srcPort: 1, dstPort: 2 });
  });

  it('maps unknown protocols to "other"', () => {
    const d = decode(ipv4({ protocol: 89 }, zeros(20)));
    expect(d.error).toBeUndefined();
    expect(d.transport).toEqual({ kind: 'other', protocol: 89 });
  });

  it('does not decode ICMPv6 under IPv4', () => {
    expect(decode(ipv4({ protocol: 58 }, zeros(8))).transport).toEqual({ kind: 'other', protocol: 58 });
  });

  it('rejects a bad version and a header length below 20', () => {
    expect(decode(ipv4({ protocol: 6, version: 5 }, tcp({})))).toEqual({ error: 'ipv4.bad-version' });
    const d = decode(ipv4({ protocol: 6, ihl: 4 }, tcp({})));
    expect(d.error).toBe('ipv4.bad-header-length');
    expect(d.network).toMatchObject({ headerLength: 16 });
    expect(d.transport).toBeUndefined();
  });

  it('reports options cut off by the capture', () => {
    const pkt = ipv4({ protocol: 6, options: [1, 1, 1, 0] }, tcp({}));
    const d = decode(pkt.slice(0, 22));
    expect(d.error).toBe('ipv4.truncated');
    expect(d.network).toMatchObject({ headerLength: 24 });
  });

  it('bounds the transport by the total length, and tolerates a captured prefix', () => {
    const bounded = ipv4({ protocol: 17, totalLength: 24 }, udp({}));
    expect(decode(bounded).error).toBe('udp.truncated');
    // Total length larger than the capture (NFLOG copy range): not an error by itself.
    const prefix = ipv4({ protocol: 17, totalLength: 1500 }, udp({}));
    const d = decode(prefix);
    expect(d.error).toBeUndefined();
    expect(d.transport?.kind).toBe('udp');
    // Total length 0 (GSO / BIG TCP): use what was captured.
    expect(decode(ipv4({ protocol: 17, totalLength: 0 }, udp({}))).transport?.kind).toBe('udp');
  });

  it('picks IPv4 or IPv6 from the version nibble with start "ip"', () => {
    expect(decode(ipv4({ protocol: 17 }, udp({})), 'ip').network?.kind).toBe('ipv4');
    expect(decode(cat([0x55], zeros(30)), 'ip')).toEqual({ error: 'ip.bad-version' });
  });
});
