import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import type { Ipv6Header } from '../../../src/packet/types';
import { MAX_EXTENSION_HEADERS } from '../../../src/packet/ipv6';
import { ah, cat, extHeader, fragmentHeader, ipv6, tcp, toBytes, udp, zeros } from './builders';

function decode(b: number[], start: 'ipv6' | 'ip' = 'ipv6') {
  return decodePacket(toBytes(b), 0, b.length, start);
}

describe('ipv6', () => {
  it('decodes every fixed-header field', () => {
    const pkt = ipv6(
      {
        src: 'fe80::1',
        dst: 'ff02::1:ff00:2',
        nextHeader: 6,
        trafficClass: 0xb8,
        flowLabel: 0xabcde,
        hopLimit: 255,
      },
      tcp({ sport: 22, dport: 50000, flags: 0x12 }),
    );
    const d = decode(pkt);
    expect(d.error).toBeUndefined();
    expect(d.network).toEqual({
      kind: 'ipv6',
      src: 'fe80::1',
      dst: 'ff02::1:ff00:2',
      trafficClass: 0xb8,
      flowLabel: 0xabcde,
      payloadLength: 20,
      hopLimit: 255,
      nextHeader: 6,
      protocol: 6,
      extensionHeaders: [],
      headerLength: 40,
    });
    expect(d.transport).toMatchObject({ kind: 'tcp', srcPort: 22, dstPort: 50000, flags: 0x12 });
    expect(decode(pkt, 'ip').network?.kind).toBe('ipv6');
  });

  it('walks hop-by-hop, routing, destination options and mobility headers', () => {
    const chain = cat(extHeader(43, 0), extHeader(60, 1), extHeader(135, 0), extHeader(17, 2));
    const d = decode(ipv6({ nextHeader: 0 }, cat(chain, udp({ sport: 547, dport: 546 }))));
    expect(d.error).toBeUndefined();
    expect(d.network).toMatchObject({ nextHeader: 0, protocol: 17, extensionHeaders: [0, 43, 60, 135] });
    expect((d.network as Ipv6Header).fragment).toBeUndefined();
    expect(d.transport).toMatchObject({ kind: 'udp', srcPort: 547, dstPort: 546 });
  });

  it('decodes the first fragment transport and records the fragment header', () => {
    const d = decode(ipv6({ nextHeader: 44 }, cat(fragmentHeader(17, 0, true, 0xdeadbeef), udp({ dport: 4789 }))));
    expect(d.error).toBeUndefined();
    expect(d.network).toMatchObject({
      protocol: 17,
      extensionHeaders: [44],
      fragment: { offset: 0, moreFragments: true, id: 0xdeadbeef },
    });
    expect(d.transport).toMatchObject({ kind: 'udp', dstPort: 4789 });
  });

  it('does not decode a transport header in a non-first fragment', () => {
    const d = decode(ipv6({ nextHeader: 0 }, cat(extHeader(44), fragmentHeader(6, 181, false, 7), zeros(32))));
    expect(d.error).toBeUndefined();
    expect(d.network).toMatchObject({
      protocol: 6,
      extensionHeaders: [0, 44],
      fragment: { offset: 181, moreFragments: false, id: 7 },
    });
    expect(d.transport).toEqual({ kind: 'other', protocol: 6 });
  });

  it('stops at AH and reports it as the transport', () => {
    const d = decode(ipv6({ nextHeader: 60 }, cat(extHeader(51), ah(6, 4, 0x1000, 42), tcp({}))));
    expect(d.error).toBeUndefined();
    expect(d.network).toMatchObject({ protocol: 51, extensionHeaders: [60, 51] });
    expect(d.transport).toMatchObject({ kind: 'ah', nextHeader: 6, length: 24, spi: 0x1000, sequence: 42 });
    // AH is an extension header under IPv6: what follows it is decoded too.
    expect((d.transport as { next?: unknown }).next).toMatchObject({ kind: 'tcp' });
  });

  it('stops at no-next-header (59)', () => {
    const d = decode(ipv6({ nextHeader: 0 }, cat(extHeader(59), [1, 2, 3])));
    expect(d.error).toBeUndefined();
    expect(d.network).toMatchObject({ protocol: 59, extensionHeaders: [0] });
    expect(d.transport).toEqual({ kind: 'other', protocol: 59 });
  });

  it('does not decode ICMP (1) under IPv6', () => {
    expect(decode(ipv6({ nextHeader: 1 }, zeros(8))).transport).toEqual({ kind: 'other', protocol: 1 });
  });

  it('bounds the number of extension headers', () => {
    const chain = cat(...Array.from({ length: 40 }, () => extHeader(60)), udp({}));
    const d = decode(ipv6({ nextHeader: 60 }, chain));
    expect(d.error).toBe('ipv6.too-many-extension-headers');
    expect((d.network as { extensionHeaders: number[] }).extensionHeaders.length).toBe(MAX_EXTENSION_HEADERS);
    expect(d.transport).toBeUndefined();
  });

  it('reports a truncated extension header and the last header seen', () => {
    const pkt = ipv6({ nextHeader: 0 }, cat(extHeader(43), extHeader(17, 1), udp({})));
    const d = decode(pkt.slice(0, 40 + 8 + 10));
    expect(d.error).toBe('ipv6.truncated');
    expect(d.network).toMatchObject({ protocol: 43, extensionHeaders: [0] });
    expect(d.transport).toBeUndefined();
  });

  it('bounds the walk by the payload length', () => {
    const pkt = ipv6({ nextHeader: 0, payloadLength: 4 }, cat(extHeader(17), udp({})));
    expect(decode(pkt).error).toBe('ipv6.truncated');
    const udpCut = ipv6({ nextHeader: 17, payloadLength: 6 }, udp({}));
    expect(decode(udpCut).error).toBe('udp.truncated');
  });

  it('rejects a bad version and a short header', () => {
    const pkt = ipv6({ nextHeader: 17 }, udp({}));
    pkt[0] = 0x45;
    expect(decode(pkt)).toEqual({ error: 'ipv6.bad-version' });
    expect(decode(ipv6({ nextHeader: 17 }, []).slice(0, 39))).toEqual({ error: 'ipv6.truncated' });
  });
});
