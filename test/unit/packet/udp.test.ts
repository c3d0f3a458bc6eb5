import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/packet/decode';
import { overIp, toBytes, udp } from './builders';

function decode(b: number[]) {
  return decodePacket(toBytes(b), 0, b.length, 'ip');
}

describe('udp and udp-lite', () => {
  it.each([...overIp(17, []).map(([n]) => [n, 17, 'udp'] as const), ...overIp(136, []).map(([n]) => [n, 136, 'udplite'] as const)])(
    '%s protocol %i decodes every field',
    (version, protocol, kind) => {
      const pkt = overIp(protocol, udp({ sport: 33434, dport: 123, length: 8, checksum: 0xfeed }, [9, 9, 9])).find(
        ([n]) => n === version,
      )![1];
      const d = decode(pkt);
      expect(d.error).toBeUndefined();
      expect(d.transport).toEqual({ kind, srcPort: 33434, dstPort: 123, length: 8, checksum: 0xfeed });
    },
  );

  it.each([
    [17, 'udp.truncated'],
    [136, 'udplite.truncated'],
  ])('protocol %i reports truncation', (protocol, error) => {
    for (const [, pkt] of overIp(protocol, udp({}))) {
      const d = decode(pkt.slice(0, pkt.length - 1));
      expect(d.error).toBe(error);
      expect(d.transport).toBeUndefined();
    }
  });
});
