import { describe, expect, it } from 'vitest';
import { ethernetHeaderText, ipv4ToString, ipv6ToString, linkHeaderToString, macToString } from '../../../src/packet/address';
import { cat, ip6, toBytes, u16 } from './builders';

function v6(groups: number[]): string {
  return ipv6ToString(toBytes(cat([0xee, 0xee], ...groups.map(u16))), 2);
}

describe('ipv4ToString', () => {
  it('formats a dotted quad at an offset', () => {
    expect(ipv4ToString(Uint8Array.from([9, 192, 0, 2, 1]), 1)).toBe('192.0.2.1');
    expect(ipv4ToString(Uint8Array.from([0, 0, 0, 0]), 0)).toBe('0.0.0.0');
    expect(ipv4ToString(Uint8Array.from([255, 255, 255, 255]), 0)).toBe('255.255.255.255');
    expect(ipv4ToString(Uint8Array.from([10, 100, 7, 99]), 0)).toBe('10.100.7.99');
  });
});

describe('ipv4ToString remembered text', () => {
  it('gives the right text for many addresses sharing slots, on first sight and again', () => {
    // All of 10.0.0.0/16 and 5,000 random addresses (many more than the table's 4,096 slots, so
    // they collide), in two orders; 0.0.0.0 (the key of an empty slot) among them.
    let seed = 5;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const keys = [0, ...Array.from({ length: 65536 }, (_, i) => (10 << 24) | i), ...Array.from({ length: 5000 }, next)];
    const bytes = new Uint8Array(keys.length * 4 + 1);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < keys.length; i++) view.setUint32(1 + i * 4, keys[i] >>> 0);
    const expected = keys.map((k) => [k >>> 24, (k >>> 16) & 255, (k >>> 8) & 255, k & 255].join('.'));
    for (let round = 0; round < 2; round++) {
      const order = round === 0 ? keys.map((_, i) => i) : keys.map((_, i) => keys.length - 1 - i);
      for (const i of order) expect(ipv4ToString(bytes, 1 + i * 4)).toBe(expected[i]);
    }
    // Two addresses alternating, whatever their slots: never the other's text.
    for (let i = 0; i < 100; i++) {
      expect(ipv4ToString(Uint8Array.from([192, 0, 2, i]), 0)).toBe(`192.0.2.${i}`);
      expect(ipv4ToString(Uint8Array.from([i, 2, 0, 192]), 0)).toBe(`${i}.2.0.192`);
    }
  });
});

describe('ipv6ToString (RFC 5952)', () => {
  it.each([
    ['2001:db8::1', [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
    ['2001:db8::1:0:0:1', [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]],
    ['2001:0:0:1::1', [0x2001, 0, 0, 1, 0, 0, 0, 1]],
    ['2001:db8:0:1:1:1:1:1', [0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]],
    ['2001:db8::2:1', [0x2001, 0xdb8, 0, 0, 0, 0, 2, 1]],
    ['fe80::abcd:ef01:2345:6789', [0xfe80, 0, 0, 0, 0xabcd, 0xef01, 0x2345, 0x6789]],
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:1', [0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 1]],
    ['1:0:2:0:3:0:4:0', [1, 0, 2, 0, 3, 0, 4, 0]],
    ['ff02::1:ff00:1', [0xff02, 0, 0, 0, 0, 1, 0xff00, 1]],
    ['::ffff:192.0.2.1', [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]],
    ['::ffff:0.0.0.0', [0, 0, 0, 0, 0, 0xffff, 0, 0]],
    ['::ffff:1', [0, 0, 0, 0, 0, 0, 0xffff, 1]],
    ['0:0:1::', [0, 0, 1, 0, 0, 0, 0, 0]],
    ['a:b:c:d:e:f:1:2', [10, 11, 12, 13, 14, 15, 1, 2]],
    ['1:2:3:4:5:6:7:0', [1, 2, 3, 4, 5, 6, 7, 0]],
    ['0:2:3:4:5:6:7:8', [0, 2, 3, 4, 5, 6, 7, 8]],
    ['10:200:3000:fff::', [0x10, 0x200, 0x3000, 0xfff, 0, 0, 0, 0]],
  ])('%s', (text, groups) => {
    expect(v6(groups)).toBe(text);
  });

  it('round-trips the test builder', () => {
    expect(ipv6ToString(toBytes(ip6('2001:DB8:0:0:1:0:0:1')), 0)).toBe('2001:db8::1:0:0:1');
  });
});

describe('ipv6ToString remembered text', () => {
  it('gives the right text for many addresses sharing slots, on first sight and again', () => {
    // 5,000 addresses (more than the table's slots, so they collide), mostly zero groups so that
    // '::' runs vary; checked against the WHATWG URL serializer (same compression rules, and no
    // IPv4-mapped addresses here: the first group is never 0).
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
    const addresses = Array.from({ length: 5000 }, () => {
      const groups = Array.from({ length: 8 }, (_, i) => (i > 0 && next() % 3 !== 0 ? 0 : (next() % 0xffff) + 1));
      return toBytes(cat(...groups.map(u16)));
    });
    const expected = addresses.map((a) =>
      new URL(
        `http://[${Buffer.from(a)
          .toString('hex')
          .replace(/(.{4})(?!$)/g, '$1:')}]/`,
      ).hostname.slice(1, -1),
    );
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < addresses.length; i++) expect(ipv6ToString(addresses[i], 0)).toBe(expected[i]);
      addresses.reverse();
      expected.reverse();
    }
  });
});

describe('macToString remembered text', () => {
  it('gives the right text for many MACs sharing slots, on first sight and again', () => {
    let seed = 11;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    // 5,000 MACs, more than the table's slots; half differ only in the first three bytes.
    const macs = Array.from({ length: 5000 }, (_, i) =>
      Uint8Array.from(i % 2 === 0 ? [next(), next(), next(), next(), next(), next()] : [next(), next(), next(), 0, 0, 1]),
    );
    const expected = macs.map((m) => Array.from(m, (x) => x.toString(16).padStart(2, '0')).join(':'));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < macs.length; i++) expect(macToString(macs[i], 0)).toBe(expected[i]);
      macs.reverse();
      expected.reverse();
    }
  });
});

describe('linkHeaderToString', () => {
  const joined = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

  it('joins every byte as lower-case hex, at an offset and for any length', () => {
    const header = Uint8Array.from([9, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0x66, 0x01, 0x01, 0x08, 0x00]);
    expect(linkHeaderToString(header, 1, 14)).toBe('00:00:00:00:00:00:02:00:00:66:01:01:08:00');
    expect(linkHeaderToString(header, 1, 3)).toBe('00:00:00');
    expect(linkHeaderToString(header, 0, 15)).toBe(joined(header));
    expect(linkHeaderToString(header, 0, 0)).toBe('');
  });

  it('gives the right text for many 14-byte headers sharing slots, on first sight and again', () => {
    let seed = 13;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    // 5,000 headers, more than the table's slots; each kind differs from a common one in one part only
    // (destination, source or EtherType), so that no part alone tells them apart.
    const base = [2, 0, 0, 0x66, 1, 2, 2, 0, 0, 0x66, 1, 1, 8, 0];
    const headers = Array.from({ length: 5000 }, (_, i) => {
      const h = base.slice();
      const part = i % 3 === 0 ? [0, 6] : i % 3 === 1 ? [6, 12] : [12, 14];
      for (let k = part[0]; k < part[1]; k++) h[k] = next();
      return Uint8Array.from(h);
    });
    headers.push(Uint8Array.from(base), new Uint8Array(14));
    const expected = headers.map(joined);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < headers.length; i++) expect(linkHeaderToString(headers[i], 0, 14)).toBe(expected[i]);
      headers.reverse();
      expected.reverse();
    }
  });

  it('gives an Ethernet header its text and its addresses from one lookup, right for headers sharing slots', () => {
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    const headers = Array.from({ length: 3000 }, (_, i) => {
      const h = [2, 0, 0, 0x66, 1, 2, 2, 0, 0, 0x66, 1, 1, 8, 0];
      const part = i % 3 === 0 ? [0, 6] : i % 3 === 1 ? [6, 12] : [12, 14];
      for (let k = part[0]; k < part[1]; k++) h[k] = next();
      return Uint8Array.from([0xff, ...h]);
    });
    for (let round = 0; round < 2; round++) {
      for (const h of headers) {
        const text = ethernetHeaderText(h, 1);
        expect(text.header).toBe(joined(h.subarray(1)));
        expect(text.dst).toBe(joined(h.subarray(1, 7)));
        expect(text.src).toBe(joined(h.subarray(7, 13)));
      }
      headers.reverse();
    }
  });
});

describe('macToString', () => {
  it('formats lower-case colon-separated bytes', () => {
    expect(macToString(Uint8Array.from([0, 0xaa, 0xbb, 0xcc, 0x0d, 0xee, 0xf1]), 1)).toBe('aa:bb:cc:0d:ee:f1');
    expect(macToString(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 0, 8)).toBe('01:02:03:04:05:06:07:08');
    expect(macToString(Uint8Array.from([0xff]), 0, 1)).toBe('ff');
    expect(macToString(Uint8Array.from([]), 0, 0)).toBe('');
  });
});
