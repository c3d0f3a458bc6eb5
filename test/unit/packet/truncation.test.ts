import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import type { Icmpv6Header } from '../../../src/packet/types';
import { ethernet, icmp, ipv4, ipv6, tcp, toBytes, udp, zeros } from './builders';

describe('truncation at every length', () => {
  // IPv4 with options + TCP with MSS and timestamps, no payload: every cut is inside a header.
  const tcp4 = ipv4(
    { protocol: 6, options: [0x94, 4, 0, 0] },
    tcp({ sport: 443, dport: 51000, seq: 1, ack: 2, flags: 0x12, options: [2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] }),
  );
  const tagged = ethernet(
    {
      vlans: [
        { tpid: 0x88a8, id: 10 },
        { tpid: 0x8100, id: 20 },
      ],
      etherType: 0x0800,
    },
    tcp4,
  );

  it.each(['ipv4', 'ip'] as const)('TCP/IPv4 from %s', (start) => {
    const buf = toBytes(tcp4);
    for (let len = 0; len <= tcp4.length; len++) {
      const d = decodePacket(buf, 0, len, start);
      if (len === tcp4.length) {
        expect(d.error).toBeUndefined();
        expect(d.transport).toMatchObject({ kind: 'tcp', mss: 1460 });
      } else {
        expect(d.error, `length ${len}`).toBeDefined();
      }
      if (len >= 24) expect(d.network?.kind).toBe('ipv4');
      if (len < 44) expect(d.transport).toBeUndefined();
      if (len >= 44 && len < tcp4.length) expect(d.error).toBe('tcp.truncated');
    }
  });

  it('TCP/IPv4 behind QinQ from ethernet', () => {
    const buf = toBytes(tagged);
    for (let len = 0; len <= tagged.length; len++) {
      const d = decodePacket(buf, 0, len, 'ethernet');
      expect(d.error === undefined, `length ${len}`).toBe(len === tagged.length);
      if (len >= 22) expect(d.link?.vlans.length).toBe(2);
    }
  });

  // IPv6 + ICMPv6 destination unreachable quoting IPv6 + UDP + 16 bytes of payload.
  const quoted = ipv6({ nextHeader: 17, src: '2001:db8::1', dst: '2001:db8::2' }, udp({ sport: 5000, dport: 6000 }, zeros(16)));
  const err6 = ipv6({ nextHeader: 58, src: '2001:db8::ff', dst: '2001:db8::1' }, icmp(1, 3, zeros(4), quoted));

  it('ICMPv6 error with a quoted UDP packet', () => {
    const buf = toBytes(err6);
    for (let len = 0; len <= err6.length; len++) {
      const d = decodePacket(buf, 0, len, 'ipv6');
      if (len < 48) {
        // Cut in the outer IPv6 or ICMPv6 header: a real error.
        expect(d.error, `length ${len}`).toBeDefined();
        continue;
      }
      // From here on the cut is in the quote: by design not an error.
      expect(d.error, `length ${len}`).toBeUndefined();
      const t = d.transport as Icmpv6Header;
      expect(t).toMatchObject({ kind: 'icmpv6', type: 1, code: 3 });
      if (len === 48) {
        expect(t.embedded).toBeUndefined();
        continue;
      }
      const e = t.embedded!;
      expect(e.truncated === true, `length ${len}`).toBe(len < 96);
      expect(e.network === undefined).toBe(len < 88);
      if (len >= 92) expect(e.transport).toMatchObject({ kind: 'udp', srcPort: 5000, dstPort: 6000 });
      else expect(e.transport).toBeUndefined();
      if (len >= 96) expect(e.transport).toMatchObject({ length: 24 });
    }
  });
});
