import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import { cat, extHeader, fragmentHeader, icmp, ip6, ipv6, tcp, toBytes, u16, u32, udp, zeros } from './builders';

function decode(b: number[]) {
  return decodePacket(toBytes(b), 0, b.length, 'ipv6');
}

function icmp6(body: number[]) {
  return ipv6({ nextHeader: 58, src: '2001:db8:ffff::1', dst: '2001:db8::1' }, body);
}

const quotedUdp = ipv6(
  { nextHeader: 17, src: '2001:db8::1', dst: '2001:db8:1::53', hopLimit: 1, flowLabel: 5 },
  udp({ sport: 40000, dport: 53, length: 20, checksum: 0x2222 }, zeros(12)),
);
const quotedTcp = ipv6({ nextHeader: 6 }, tcp({ sport: 40002, dport: 443, seq: 99, ack: 100, flags: 0x18 }));

describe('icmpv6', () => {
  it.each([128, 129])('type %i carries id and sequence', (type) => {
    const d = decode(icmp6(icmp(type, 0, cat(u16(0x0102), u16(0x0304)), zeros(56), 0x7777)));
    expect(d.error).toBeUndefined();
    expect(d.transport).toEqual({ kind: 'icmpv6', type, code: 0, checksum: 0x7777, id: 0x0102, sequence: 0x0304 });
  });

  it('decodes packet too big with an embedded TCP header', () => {
    const d = decode(icmp6(icmp(2, 0, u32(1280), quotedTcp)));
    expect(d.error).toBeUndefined();
    expect(d.transport).toMatchObject({ kind: 'icmpv6', type: 2, code: 0, mtu: 1280 });
    const e = (d.transport as { embedded: { network: unknown; transport: unknown; truncated?: boolean } }).embedded;
    expect(e.truncated).toBeUndefined();
    expect(e.network).toMatchObject({ kind: 'ipv6', src: '2001:db8::1', dst: '2001:db8::2', protocol: 6 });
    expect(e.transport).toEqual({
      kind: 'tcp',
      srcPort: 40002,
      dstPort: 443,
      seq: 99,
      ack: 100,
      dataOffset: 5,
      flags: 0x18,
      window: 65535,
      checksum: 0,
      urgentPointer: 0,
      options: '',
      reserved: 0,
    });
  });

  it('decodes destination unreachable and time exceeded with embedded UDP', () => {
    for (const type of [1, 3]) {
      const d = decode(icmp6(icmp(type, 4, zeros(4), quotedUdp)));
      expect(d.error).toBeUndefined();
      expect((d.transport as { embedded: unknown }).embedded).toEqual({
        network: {
          kind: 'ipv6',
          src: '2001:db8::1',
          dst: '2001:db8:1::53',
          trafficClass: 0,
          flowLabel: 5,
          payloadLength: 20,
          hopLimit: 1,
          nextHeader: 17,
          protocol: 17,
          extensionHeaders: [],
          headerLength: 40,
        },
        transport: { kind: 'udp', srcPort: 40000, dstPort: 53, length: 20, checksum: 0x2222 },
      });
    }
  });

  it('decodes a parameter problem pointer and a quote with extension headers', () => {
    const quoted = ipv6({ nextHeader: 0 }, cat(extHeader(44), fragmentHeader(17, 0, true, 5), udp({ dport: 9 })));
    const d = decode(icmp6(icmp(4, 1, u32(40), quoted)));
    expect(d.error).toBeUndefined();
    expect(d.transport).toMatchObject({
      type: 4,
      code: 1,
      pointer: 40,
      embedded: {
        network: { extensionHeaders: [0, 44], fragment: { offset: 0, moreFragments: true, id: 5 } },
        transport: { kind: 'udp', dstPort: 9 },
      },
    });
  });

  it('decodes ports alone from a short quote without a top-level error', () => {
    const d = decode(icmp6(icmp(1, 0, zeros(4), quotedTcp.slice(0, 48))));
    expect(d.error).toBeUndefined();
    expect((d.transport as { embedded: unknown }).embedded).toMatchObject({
      transport: { kind: 'tcp', srcPort: 40002, dstPort: 443, seq: 99, ack: 0, flags: 0 },
      truncated: true,
    });
  });

  it.each([
    [135, 'neighbour solicitation', zeros(4)],
    [136, 'neighbour advertisement', [0xe0, 0, 0, 0]],
  ])('type %i (%s) carries the target', (type, _name, rest) => {
    const d = decode(icmp6(icmp(type, 0, rest, cat(ip6('fe80::1:2'), [1, 1, 2, 0, 0, 0, 0, 1]))));
    expect(d.error).toBeUndefined();
    expect(d.transport).toEqual({ kind: 'icmpv6', type, code: 0, checksum: 0, target: 'fe80::1:2' });
  });

  it('decodes the redirect target', () => {
    const d = decode(icmp6(icmp(137, 0, zeros(4), cat(ip6('fe80::9'), ip6('2001:db8:5::1')))));
    expect(d.transport).toEqual({ kind: 'icmpv6', type: 137, code: 0, checksum: 0, target: 'fe80::9' });
  });

  it('reports a neighbour solicitation cut before the end of the target', () => {
    const pkt = icmp6(icmp(135, 0, zeros(4), ip6('fe80::1')));
    const d = decode(pkt.slice(0, pkt.length - 1));
    expect(d.error).toBe('icmpv6.truncated');
    expect(d.transport).toEqual({ kind: 'icmpv6', type: 135, code: 0, checksum: 0 });
  });

  it('leaves other types with the common header only', () => {
    const d = decode(icmp6(icmp(133, 0, zeros(4))));
    expect(d.error).toBeUndefined();
    expect(d.transport).toEqual({ kind: 'icmpv6', type: 133, code: 0, checksum: 0 });
  });
});
