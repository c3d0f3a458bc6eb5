import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import { cat, icmp, ip4, ipv4, tcp, toBytes, u16, udp, zeros } from './builders';

function decode(b: number[]) {
  return decodePacket(toBytes(b), 0, b.length, 'ipv4');
}

function icmp4(body: number[]) {
  return ipv4({ protocol: 1, src: '198.51.100.7', dst: '192.0.2.1' }, body);
}

/** The packet an ICMP error quotes: a UDP or TCP packet from 192.0.2.1. */
const quotedUdp = ipv4(
  { protocol: 17, src: '192.0.2.1', dst: '203.0.113.5', id: 0x4242, ttl: 1 },
  udp({ sport: 33435, dport: 33434, length: 40, checksum: 0x1111 }, zeros(32)),
);
const quotedTcp = ipv4(
  { protocol: 6, src: '192.0.2.1', dst: '203.0.113.5', df: true },
  tcp({ sport: 40001, dport: 80, seq: 0x11223344, ack: 0x55667788, flags: 0x02, options: [2, 4, 5, 0xdc] }),
);

describe('icmp', () => {
  it.each([
    [8, 'echo request'],
    [0, 'echo reply'],
    [13, 'timestamp'],
    [14, 'timestamp reply'],
    [15, 'information request'],
    [16, 'information reply'],
    [17, 'address mask request'],
    [18, 'address mask reply'],
  ])('type %i (%s) carries id and sequence', (type) => {
    const d = decode(icmp4(icmp(type, 0, cat(u16(0x1a2b), u16(7)), zeros(12), 0xf00d)));
    expect(d.error).toBeUndefined();
    expect(d.transport).toEqual({ kind: 'icmp', type, code: 0, checksum: 0xf00d, id: 0x1a2b, sequence: 7 });
  });

  it('decodes a redirect gateway and the quoted packet', () => {
    const d = decode(icmp4(icmp(5, 1, ip4('192.0.2.254'), quotedUdp.slice(0, 28))));
    expect(d.error).toBeUndefined();
    expect(d.transport).toMatchObject({ kind: 'icmp', type: 5, code: 1, gateway: '192.0.2.254' });
    expect((d.transport as { embedded: unknown }).embedded).toEqual({
      network: expect.objectContaining({ kind: 'ipv4', src: '192.0.2.1', dst: '203.0.113.5', protocol: 17 }),
      transport: { kind: 'udp', srcPort: 33435, dstPort: 33434, length: 40, checksum: 0x1111 },
    });
  });

  it('decodes fragmentation-needed MTU with an embedded TCP header (8 bytes quoted)', () => {
    const d = decode(icmp4(icmp(3, 4, cat(u16(0), u16(1400)), quotedTcp.slice(0, 28))));
    expect(d.error).toBeUndefined();
    const t = d.transport as { mtu: number; embedded: unknown };
    expect(t).toMatchObject({ kind: 'icmp', type: 3, code: 4, mtu: 1400 });
    expect(t.embedded).toEqual({
      network: {
        kind: 'ipv4',
        src: '192.0.2.1',
        dst: '203.0.113.5',
        headerLength: 20,
        tos: 0,
        totalLength: 44,
        id: 0,
        flagReserved: false,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: 64,
        protocol: 6,
        checksum: 0,
        options: '',
      },
      transport: {
        kind: 'tcp',
        srcPort: 40001,
        dstPort: 80,
        seq: 0x11223344,
        ack: 0,
        dataOffset: 0,
        flags: 0,
        window: 0,
        checksum: 0,
        urgentPointer: 0,
        options: '',
      },
      truncated: true,
    });
  });

  it('decodes a whole quoted TCP header when the quote has it', () => {
    const d = decode(icmp4(icmp(3, 3, zeros(4), quotedTcp)));
    const e = (d.transport as { embedded: { transport: unknown; truncated?: boolean } }).embedded;
    expect(d.error).toBeUndefined();
    expect(e.truncated).toBeUndefined();
    expect(e.transport).toMatchObject({ kind: 'tcp', seq: 0x11223344, ack: 0x55667788, flags: 2, mss: 1500 });
    expect(d.transport).not.toHaveProperty('mtu');
  });

  it('decodes time exceeded and source quench with embedded UDP', () => {
    for (const type of [11, 4]) {
      const d = decode(icmp4(icmp(type, 0, zeros(4), quotedUdp)));
      expect(d.error).toBeUndefined();
      expect(d.transport).toMatchObject({
        type,
        embedded: { network: { id: 0x4242, ttl: 1 }, transport: { kind: 'udp', srcPort: 33435, dstPort: 33434 } },
      });
    }
  });

  it('decodes a parameter problem pointer', () => {
    const d = decode(icmp4(icmp(12, 0, [20, 0, 0, 0], quotedUdp.slice(0, 28))));
    expect(d.transport).toMatchObject({ type: 12, pointer: 20, embedded: { transport: { kind: 'udp' } } });
  });

  it('decodes ports alone from a 4-byte transport quote, without a top-level error', () => {
    const d = decode(icmp4(icmp(3, 1, zeros(4), quotedUdp.slice(0, 24))));
    expect(d.error).toBeUndefined();
    expect((d.transport as { embedded: unknown }).embedded).toMatchObject({
      transport: { kind: 'udp', srcPort: 33435, dstPort: 33434, length: 0, checksum: 0 },
      truncated: true,
    });
  });

  it('marks a quote shorter than an IPv4 header as truncated', () => {
    const d = decode(icmp4(icmp(11, 0, zeros(4), quotedUdp.slice(0, 12))));
    expect(d.error).toBeUndefined();
    expect((d.transport as { embedded: unknown }).embedded).toEqual({ truncated: true });
  });

  it('quotes a non-first fragment as "other" and ignores errors without a quote', () => {
    const frag = ipv4({ protocol: 17, fragOffset: 10 }, zeros(8));
    const d = decode(icmp4(icmp(3, 2, zeros(4), frag)));
    expect(d.transport).toMatchObject({ embedded: { transport: { kind: 'other', protocol: 17 } } });
    expect(decode(icmp4(icmp(3, 1, zeros(4)))).transport).not.toHaveProperty('embedded');
  });

  it('does not follow an ICMP error quoted inside an ICMP error', () => {
    const inner = icmp4(icmp(3, 3, zeros(4), quotedUdp));
    const d = decode(icmp4(icmp(11, 0, zeros(4), inner)));
    const e = (d.transport as { embedded: { transport: object } }).embedded;
    expect(e.transport).toMatchObject({ kind: 'icmp', type: 3, code: 3 });
    expect(e.transport).not.toHaveProperty('embedded');
  });

  it('reports a short ICMP header', () => {
    const pkt = icmp4(icmp(8, 0, zeros(4)));
    expect(decode(pkt.slice(0, 23))).toMatchObject({ error: 'icmp.truncated' });
    expect(decode(pkt.slice(0, 23)).transport).toBeUndefined();
    const d = decode(pkt.slice(0, 26));
    expect(d.error).toBe('icmp.truncated');
    expect(d.transport).toEqual({ kind: 'icmp', type: 8, code: 0, checksum: 0 });
  });
});
