import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import { arp, cat, ethernet, ip4, ipv4, ipv6, mac, toBytes, udp } from './builders';

function decode(b: number[]) {
  return decodePacket(toBytes(b), 0, b.length, 'ethernet');
}

const udp4 = ipv4({ protocol: 17 }, udp({ sport: 1234, dport: 53 }));

describe('ethernet', () => {
  it('decodes addresses and EtherType, then IPv4', () => {
    const d = decode(ethernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '00:1B:21:aa:0B:0c', etherType: 0x0800 }, udp4));
    expect(d.error).toBeUndefined();
    expect(d.link).toEqual({
      kind: 'ethernet',
      dst: 'ff:ff:ff:ff:ff:ff',
      src: '00:1b:21:aa:0b:0c',
      etherType: 0x0800,
      vlans: [],
    });
    expect(d.network?.kind).toBe('ipv4');
    expect(d.transport).toMatchObject({ kind: 'udp', srcPort: 1234, dstPort: 53 });
  });

  it('dispatches to IPv6', () => {
    const d = decode(ethernet({ etherType: 0x86dd }, ipv6({ nextHeader: 17 }, udp({}))));
    expect(d.error).toBeUndefined();
    expect(d.network?.kind).toBe('ipv6');
    expect(d.transport?.kind).toBe('udp');
  });

  it('decodes a single 802.1Q tag', () => {
    const d = decode(ethernet({ vlans: [{ tpid: 0x8100, id: 100, priority: 5, dei: true }], etherType: 0x0800 }, udp4));
    expect(d.error).toBeUndefined();
    expect(d.link?.etherType).toBe(0x0800);
    expect(d.link?.vlans).toEqual([{ tpid: 0x8100, id: 100, priority: 5, dei: true }]);
    expect(d.transport?.kind).toBe('udp');
  });

  it('decodes QinQ (802.1ad outer, 802.1Q inner), outermost first', () => {
    const d = decode(
      ethernet(
        {
          vlans: [
            { tpid: 0x88a8, id: 4094, priority: 7 },
            { tpid: 0x8100, id: 1, priority: 0 },
          ],
          etherType: 0x86dd,
        },
        ipv6({ nextHeader: 59 }, []),
      ),
    );
    expect(d.error).toBeUndefined();
    expect(d.link?.etherType).toBe(0x86dd);
    expect(d.link?.vlans).toEqual([
      { tpid: 0x88a8, id: 4094, priority: 7, dei: false },
      { tpid: 0x8100, id: 1, priority: 0, dei: false },
    ]);
    expect(d.network?.kind).toBe('ipv6');
    expect(d.transport).toEqual({ kind: 'other', protocol: 59 });
  });

  it('leaves unknown EtherTypes without a network layer and without an error', () => {
    const d = decode(ethernet({ etherType: 0x88cc }, [1, 2, 3, 4]));
    expect(d.link?.etherType).toBe(0x88cc);
    expect(d.network).toBeUndefined();
    expect(d.error).toBeUndefined();
  });

  it('reports a truncated header or tag', () => {
    expect(decode(ethernet({ etherType: 0x0800 }, []).slice(0, 13))).toEqual({ error: 'ethernet.truncated' });
    const tagged = ethernet({ vlans: [{ tpid: 0x8100, id: 7 }], etherType: 0x0800 }, []);
    const d = decode(tagged.slice(0, 16));
    expect(d.error).toBe('ethernet.truncated');
    expect(d.link?.etherType).toBe(0x8100);
  });

  it('bounds the number of VLAN tags', () => {
    const vlans = Array.from({ length: 12 }, (_, i) => ({ tpid: 0x8100, id: i }));
    const d = decode(ethernet({ vlans, etherType: 0x0800 }, udp4));
    expect(d.error).toBe('ethernet.too-many-vlan-tags');
    expect(d.link?.vlans.length).toBe(8);
    expect(d.network).toBeUndefined();
  });

  it('reports a truncated IPv4 packet after the link layer', () => {
    const d = decode(ethernet({ etherType: 0x0800 }, udp4.slice(0, 10)));
    expect(d.link).toBeDefined();
    expect(d.error).toBe('ipv4.truncated');
  });

  it('ignores Ethernet padding past the IPv4 total length', () => {
    const short = ipv4({ protocol: 6 }, [1, 2, 3, 4]); // 4 bytes cannot be TCP…
    const d = decode(ethernet({ etherType: 0x0800 }, cat(short, new Array(40).fill(0))));
    expect(d.error).toBe('tcp.truncated'); // …even though padding follows
  });
});

describe('arp', () => {
  const request = arp({
    op: 1,
    sha: mac('02:00:00:00:00:01'),
    spa: ip4('192.0.2.1'),
    tha: mac('00:00:00:00:00:00'),
    tpa: ip4('192.0.2.254'),
  });

  it('decodes an Ethernet/IPv4 request through the link layer', () => {
    const d = decode(ethernet({ etherType: 0x0806 }, request));
    expect(d.error).toBeUndefined();
    expect(d.network).toEqual({
      kind: 'arp',
      hardwareType: 1,
      protocolType: 0x0800,
      hardwareLength: 6,
      protocolLength: 4,
      operation: 1,
      senderMac: '02:00:00:00:00:01',
      senderIp: '192.0.2.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: '192.0.2.254',
    });
    expect(d.transport).toBeUndefined();
  });

  it('decodes an ARP packet from start "arp"', () => {
    const d = decodePacket(toBytes(request), 0, request.length, 'arp');
    expect(d.network).toMatchObject({ kind: 'arp', operation: 1, targetIp: '192.0.2.254' });
  });

  it('keeps only the fixed header for other hardware/protocol types', () => {
    const ib = arp({ htype: 32, ptype: 0x0800, hlen: 20, plen: 4, op: 2 });
    const d = decodePacket(toBytes(ib), 0, ib.length, 'arp');
    expect(d.error).toBeUndefined();
    expect(d.network).toEqual({
      kind: 'arp',
      hardwareType: 32,
      protocolType: 0x0800,
      hardwareLength: 20,
      protocolLength: 4,
      operation: 2,
    });
    const ipv6ish = arp({ ptype: 0x86dd, plen: 16 });
    expect(decodePacket(toBytes(ipv6ish), 0, ipv6ish.length, 'arp').network).not.toHaveProperty('senderIp');
  });

  it('reports truncation', () => {
    expect(decodePacket(toBytes(request), 0, 7, 'arp')).toEqual({ error: 'arp.truncated' });
    const d = decodePacket(toBytes(request), 0, 27, 'arp');
    expect(d.error).toBe('arp.truncated');
    expect(d.network).toMatchObject({ kind: 'arp', operation: 1 });
    expect(d.network).not.toHaveProperty('senderMac');
  });
});
