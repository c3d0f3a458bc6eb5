import { describe, expect, it } from 'vitest';
import { FlowFilter } from '../../../src/conntrack/filter';
import { parseIpNetwork } from '../../../src/packet/ip-text';
import type { FlowRecord } from '../../../src/records';

const nets = (...texts: string[]) => texts.map((t) => parseIpNetwork(t) ?? { bytes: new Uint8Array(0), prefix: 0 });

function flow(src: string, dst: string, protocol: number, mark?: number): FlowRecord {
  return {
    kind: 'flow',
    event: 'new',
    family: src.includes(':') ? 10 : 2,
    timestampUs: 0,
    receivedUs: 0,
    original: { src, dst, protocol },
    mark,
  };
}

describe('FlowFilter', () => {
  it('keeps what the protocol, network and mark filters match', () => {
    const f = new FlowFilter({
      protocols: [6, 17],
      sources: nets('10.1.0.0/16', '2001:db8::/32', '192.0.2.7'),
      destinations: [],
      mark: { value: 0x10, mask: 0xf0 },
    });
    expect(f.active).toBe(true);
    expect(f.matches(flow('10.1.2.3', '8.8.8.8', 6, 0x1f))).toBe(true);
    expect(f.matches(flow('10.2.2.3', '8.8.8.8', 6, 0x10))).toBe(false);
    expect(f.matches(flow('10.1.2.3', '8.8.8.8', 1, 0x10))).toBe(false);
    expect(f.matches(flow('10.1.2.3', '8.8.8.8', 6, 0x20))).toBe(false);
    expect(f.matches(flow('2001:db8:5::1', '2001:db9::1', 17, 0x10))).toBe(true);
    expect(f.matches(flow('2001:db9::1', '2001:db8::1', 17, 0x10))).toBe(false);
    expect(f.matches(flow('192.0.2.7', '1.1.1.1', 17, 0x10))).toBe(true);
    expect(f.matches(flow('192.0.2.8', '1.1.1.1', 17, 0x10))).toBe(false);
  });

  it('handles prefixes that are not whole bytes, and destinations', () => {
    const f = new FlowFilter({ protocols: [], sources: [], destinations: nets('172.16.0.0/12') });
    expect(f.matches(flow('1.1.1.1', '172.31.255.255', 6))).toBe(true);
    expect(f.matches(flow('1.1.1.1', '172.32.0.0', 6))).toBe(false);
    expect(f.matches(flow('1.1.1.1', '::ffff:172.16.0.1', 6))).toBe(false);
  });

  it('is inactive without filters', () => {
    expect(new FlowFilter({ protocols: [], sources: [], destinations: [] }).active).toBe(false);
  });
});
