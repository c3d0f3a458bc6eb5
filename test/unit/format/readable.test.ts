import { describe, expect, it } from 'vitest';
import { createActionMapper } from '../../../src/verdict/action';
import { clockTime, readableLine } from '../../../src/format/readable';
import type { FlowRecord, GapRecord } from '../../../src/records';
import { decodeFixture } from '../../helpers/fixtures';
import { ipv4, ipv6, record, sampleRecords, T0 } from '../../helpers/packet-records';

// T0 is 2026-11-21T21:44:50.123456Z.
const UTC = { utc: true };

function tcp(srcPort: number, dstPort: number, flags: number) {
  return {
    kind: 'tcp' as const,
    srcPort,
    dstPort,
    seq: 1,
    ack: 0,
    dataOffset: 5,
    flags,
    window: 100,
    checksum: 0,
    urgentPointer: 0,
    options: '',
  };
}

function flow(extra: Partial<FlowRecord>): FlowRecord {
  return { kind: 'flow', event: 'new', family: 2, timestampUs: T0, receivedUs: T0, ...extra };
}

describe('readableLine', () => {
  it('writes a forwarded TCP SYN with its verdict, prefix, interfaces, endpoints, flags and group', () => {
    const r = record(
      { network: ipv4('10.60.1.2', '10.60.2.2', 6), transport: tcp(43120, 80, 0x02) },
      { group: 2, groupLabel: 'LOG_AND_* chains', prefix: '[DM-A] ', hook: 2, inInterface: 'r0', outInterface: 'r1' },
    );
    expect(readableLine(r, UTC)).toBe(
      '21:44:50.123  accept  [DM-A]                 in=r0 out=r1   tcp   10.60.1.2:43120 → 10.60.2.2:80 SYN  (group 2 LOG_AND_* chains)',
    );
  });

  it('takes the verdict from word prefixes and says "log" when there is none', () => {
    const base = { network: ipv4('10.60.1.2', '10.60.1.1', 6), transport: tcp(1, 22, 0x02) };
    expect(readableLine(record(base, { prefix: 'tcp.in.dropped' }), UTC)).toMatch(/^21:44:50\.123 {2}drop {4}tcp\.in\.dropped /);
    expect(readableLine(record(base, { prefix: 'IPTABLES: ACCEPT ' }), UTC)).toMatch(/ accept {2}IPTABLES: ACCEPT /);
    expect(readableLine(record(base, { prefix: 'DROP_LOGGING: ' }), UTC)).toMatch(/ drop {4}DROP_LOGGING: /);
    expect(readableLine(record(base, { prefix: 'hello' }), UTC)).toMatch(/ log {5}hello /);
    expect(readableLine(record(base, { prefix: '' }), UTC)).toMatch(/ log {5}\(no prefix\) /);
    const mapper = createActionMapper({ rules: [{ match: 'hello', action: 'block' }] });
    expect(readableLine(record(base, { prefix: 'hello' }), { utc: true, actionMapper: mapper })).toMatch(/ block {3}hello /);
  });

  it('brackets IPv6 addresses with ports and names ICMP types', () => {
    const v6 = record({ network: ipv6('fd60:1::2', 'fd60:2::2', 6), transport: tcp(5000, 80, 0x12) });
    expect(readableLine(v6, UTC)).toContain('tcp   [fd60:1::2]:5000 → [fd60:2::2]:80 SYN,ACK');
    const echo = record({
      network: ipv4('10.60.1.2', '10.60.2.2', 1),
      transport: { kind: 'icmp', type: 8, code: 0, checksum: 0, id: 7, sequence: 1 },
    });
    expect(readableLine(echo, UTC)).toContain('icmp  10.60.1.2 → 10.60.2.2 echo-request id=7 seq=1');
    const echo6 = record({
      network: ipv6('fd60:1::2', 'fd60:2::2', 58),
      transport: { kind: 'icmpv6', type: 128, code: 0, checksum: 0, id: 3, sequence: 2 },
    });
    expect(readableLine(echo6, UTC)).toContain('icmp6 fd60:1::2 → fd60:2::2 echo-request id=3 seq=2');
  });

  it('shows the packet an ICMP error quotes', () => {
    const error = record({
      network: ipv4('10.60.2.2', '10.60.1.2', 1),
      transport: {
        kind: 'icmp',
        type: 3,
        code: 3,
        checksum: 0,
        embedded: {
          network: ipv4('10.60.1.2', '10.60.2.2', 17),
          transport: { kind: 'udp', srcPort: 40000, dstPort: 7, length: 12, checksum: 0 },
        },
      },
    });
    expect(readableLine(error, UTC)).toContain('icmp  10.60.2.2 → 10.60.1.2 port-unreachable (for udp 10.60.1.2:40000 → 10.60.2.2:7)');
  });

  it('writes UDP payload length, interface indexes without names, decode faults', () => {
    const udp = record(
      { network: ipv4('10.0.0.1', '10.0.0.2', 17), transport: { kind: 'udp', srcPort: 1, dstPort: 53, length: 40, checksum: 0 } },
      { inIfindex: 7 },
    );
    expect(readableLine(udp, UTC)).toContain(' in=#7 ');
    expect(readableLine(udp, UTC)).toContain('udp   10.0.0.1:1 → 10.0.0.2:53 len=32');
    const cut = record({ network: ipv4('10.0.0.1', '10.0.0.2', 6), error: 'tcp.truncated' });
    expect(readableLine(cut, UTC)).toContain('tcp   10.0.0.1 → 10.0.0.2 [decode: tcp.truncated]');
    const nothing = record({}, { hwProtocol: 0x88cc });
    expect(readableLine(nothing, UTC)).toContain('ethertype 0x88cc');
  });

  it('escapes control characters in prefixes and labels', () => {
    const r = record({ network: ipv4('10.0.0.1', '10.0.0.2', 6) }, { prefix: 'bad\x1b[31mDR\nOP ', groupLabel: 'x\ty' });
    const line = readableLine(r, UTC);
    expect(line).toContain('bad\\x1b[31mDR\\x0aOP ');
    expect(line).toContain('(group 1 x\\x09y)');
    expect(line).not.toMatch(/[\x00-\x1f]/);
  });

  it('writes a flow with its NAT, counters and duration', () => {
    const snat = flow({
      original: { src: '10.60.1.2', dst: '10.60.2.2', protocol: 6, srcPort: 43120, dstPort: 80 },
      nat: { source: { ip: '10.60.1.2', port: 43120, translatedIp: '10.60.2.1', translatedPort: 43120 } },
      stateName: 'SYN_SENT',
    });
    expect(readableLine(snat, UTC)).toBe(
      '21:44:50.123  new     flow                   -              tcp   10.60.1.2:43120 → 10.60.2.2:80  snat 10.60.1.2:43120 → 10.60.2.1:43120  SYN_SENT  (conntrack)',
    );
    const dnat = flow({
      event: 'destroy',
      original: { src: '10.60.2.2', dst: '10.60.2.1', protocol: 6, srcPort: 50000, dstPort: 8080 },
      nat: { destination: { ip: '10.60.2.1', port: 8080, translatedIp: '10.60.1.2', translatedPort: 80 } },
      stateName: 'TIME_WAIT',
      originalPackets: 6,
      originalBytes: 1400,
      replyPackets: 4,
      replyBytes: 216,
      startUs: T0 - 1_500_000,
      stopUs: T0,
    });
    expect(readableLine(dnat, UTC)).toBe(
      '21:44:50.123  destroy flow                   -              tcp   10.60.2.2:50000 → 10.60.2.1:8080  dnat 10.60.2.1:8080 → 10.60.1.2:80  6 pkt 1.4 kB out, 4 pkt 216 B back  1.50 s  (conntrack)',
    );
    const icmp = flow({ original: { src: 'fd60:1::2', dst: 'fd60:2::2', protocol: 58, icmpId: 9, icmpType: 128, icmpCode: 0 } });
    expect(readableLine(icmp, UTC)).toContain('icmp6 fd60:1::2 → fd60:2::2 id=9  (conntrack)');
    expect(readableLine(flow({}), UTC)).toContain('(no tuple)');
  });

  it('writes a gap with how much was lost and where', () => {
    const gap: GapRecord = { kind: 'gap', source: 'nflog', reason: 'sequence', count: 3, group: 2, fromSeq: 5, toSeq: 7, timestampUs: T0 };
    expect(readableLine(gap, UTC)).toBe('21:44:50.123  LOST 3  nflog sequence         -              -     group 2, seq 5-7  (nflog)');
    const unknown: GapRecord = { kind: 'gap', source: 'conntrack', reason: 'enobufs', count: null, timestampUs: T0, resynced: 12 };
    expect(readableLine(unknown, UTC)).toContain('LOST ?  conntrack enobufs ');
    expect(readableLine(unknown, UTC)).toContain('conntrack, 12 flows resynced');
  });

  it('makes one line of every sample and recorded record, without throwing', () => {
    const all = [
      ...sampleRecords(),
      ...decodeFixture('nflog-inbound.json'),
      ...decodeFixture('nflog-outbound-uid.json'),
      ...decodeFixture('conntrack-gateway.json'),
    ];
    expect(all.length).toBeGreaterThan(20);
    for (const r of all) {
      const line = readableLine(r, UTC);
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}\S/);
      expect(line).not.toContain('\n');
      expect(line).not.toContain('undefined');
    }
  });
});

describe('clockTime', () => {
  it('formats UTC and local time with milliseconds', () => {
    expect(clockTime(T0, true)).toBe('21:44:50.123');
    const local = new Date(Math.floor(T0 / 1000));
    expect(clockTime(T0)).toBe(`${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}:50.123`);
    expect(clockTime(Number.NaN, true)).toBe('00:00:00.000');
  });
});
