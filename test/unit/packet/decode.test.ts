import { describe, expect, it } from 'vitest';
import { decodePacket, decodePacketRange, startForHwProtocol } from '../../../src/packet/decode';
import { cat, ethernet, ipv4, tcp, toBytes } from './builders';

describe('startForHwProtocol', () => {
  it('maps EtherTypes first, then the family', () => {
    expect(startForHwProtocol(0x0800, 10)).toBe('ipv4');
    expect(startForHwProtocol(0x86dd, 2)).toBe('ipv6');
    expect(startForHwProtocol(0x0806, 0)).toBe('arp');
    expect(startForHwProtocol(0, 2)).toBe('ipv4');
    expect(startForHwProtocol(0x8100, 10)).toBe('ipv6');
    expect(startForHwProtocol(0, 7)).toBe('ip');
    expect(startForHwProtocol(0x88cc, 0)).toBe('ip');
  });
});

describe('decodePacket window', () => {
  const pkt = ipv4({ protocol: 6 }, tcp({ sport: 1, dport: 2 }));

  it('decodes at an offset inside a larger buffer', () => {
    const buf = toBytes(cat([0xde, 0xad, 0xbe], pkt, [0xef, 0xef]));
    const d = decodePacket(buf, 3, pkt.length, 'ipv4');
    expect(d.error).toBeUndefined();
    expect(d.transport).toMatchObject({ kind: 'tcp', srcPort: 1, dstPort: 2 });
  });

  it('never reads past offset + length, even when the buffer goes on', () => {
    const buf = toBytes(cat([0xff], pkt, pkt));
    const d = decodePacket(buf, 1, pkt.length - 1, 'ipv4');
    expect(d.error).toBe('tcp.truncated');
    const e = decodePacket(toBytes(ethernet({ etherType: 0x0800 }, pkt)), 0, 13, 'ethernet');
    expect(e).toEqual({ error: 'ethernet.truncated' });
  });

  it('decodePacketRange takes [offset, end) and gives what decodePacket gives for the same window', () => {
    const buf = toBytes(cat([0xde, 0xad, 0xbe], pkt, [0xef, 0xef]));
    expect(decodePacketRange(buf, 3, 3 + pkt.length, 'ipv4')).toEqual(decodePacket(buf, 3, pkt.length, 'ipv4'));
    expect(decodePacketRange(buf, 3, 3 + pkt.length - 1, 'ipv4').error).toBe('tcp.truncated');
    expect(decodePacketRange(buf, 5, 5, 'ipv4')).toEqual({ error: 'packet.empty' });
  });

  it('clamps odd arguments instead of throwing', () => {
    const buf = toBytes(pkt);
    expect(decodePacket(buf, 0, 0, 'ipv4')).toEqual({ error: 'packet.empty' });
    expect(decodePacket(buf, 100, 10, 'ipv4')).toEqual({ error: 'packet.empty' });
    expect(decodePacket(buf, -5, pkt.length, 'ipv4').transport?.kind).toBe('tcp');
    expect(decodePacket(buf, 0, 1e9, 'ipv4').transport?.kind).toBe('tcp');
    expect(decodePacket(buf, 0, Number.NaN, 'ipv4')).toEqual({ error: 'packet.empty' });
    expect(decodePacket(buf, Number.NaN, Infinity, 'ipv4').transport?.kind).toBe('tcp');
    expect(decodePacket(buf, 0.5, pkt.length, 'ipv4').transport?.kind).toBe('tcp');
    expect(decodePacket(buf, 0, pkt.length, 'bogus' as 'ip')).toEqual({ error: 'packet.bad-start' });
    expect(decodePacket(null as unknown as Uint8Array, 0, 10, 'ip')).toEqual({ error: 'packet.no-data' });
    expect(decodePacket(new Uint8Array(0), 0, 10, 'ethernet')).toEqual({ error: 'packet.empty' });
  });

  it('returns plain data that survives reuse of the buffer', () => {
    const buf = toBytes(pkt);
    const d = decodePacket(buf, 0, buf.length, 'ipv4');
    const before = JSON.stringify(d);
    buf.fill(0);
    expect(JSON.stringify(d)).toBe(before);
  });
});
