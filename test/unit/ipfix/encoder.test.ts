// The IPFIX encoder against bytes worked out by hand from RFC 7011 and the
// IANA registry, and a round trip through the tests' own decoder.
import { describe, expect, it } from 'vitest';
import { TEMPLATES } from '../../../src/ipfix/elements';
import { IpfixEncoder, maxMessageBytes, type IpfixMessage } from '../../../src/ipfix/encoder';
import { resolveIpfixOptions, type IpfixOptions } from '../../../src/ipfix/options';
import type { FlowRecord } from '../../../src/records';
import { IpfixTestDecoder } from '../../helpers/ipfix-decode';

const T0_MS = 1796277600000; // 2026-12-03T06:00:00Z
const T0_US = T0_MS * 1000;

function encoder(options: IpfixOptions = {}, mtu = 1500): IpfixEncoder {
  return new IpfixEncoder(resolveIpfixOptions({ observationDomainId: 7, ...options }), maxMessageBytes(mtu, false));
}

function tcp4(event: FlowRecord['event'], extra: Partial<FlowRecord> = {}): FlowRecord {
  return {
    kind: 'flow',
    event,
    family: 2,
    timestampUs: T0_US,
    receivedUs: T0_US,
    original: { src: '10.60.1.2', dst: '10.60.2.2', protocol: 6, srcPort: 40000, dstPort: 5000 },
    reply: { src: '10.60.2.2', dst: '10.60.2.1', protocol: 6, srcPort: 5000, dstPort: 40001 },
    nat: { source: { ip: '10.60.1.2', port: 40000, translatedIp: '10.60.2.1', translatedPort: 40001 } },
    ...extra,
  };
}

const hex = (text: string): string => text.replace(/\s+/g, '');

describe('IpfixEncoder', () => {
  it('writes a NAT44 session create as RFC 7011 and RFC 8158 lay it out, templates first', () => {
    const e = encoder();
    e.add(tcp4('new'), T0_MS);
    const [message] = e.take(T0_MS);
    const bytes = message.bytes.toString('hex');
    // Header: version 10, length 342, export time 2026-12-03T06:00:00Z, sequence 0, observation domain 7.
    expect(bytes.slice(0, 32)).toBe(hex('000a 0156 6b110560 00000000 00000007'));
    // Template set (ID 2, 284 bytes), first template 256 with 12 fields: 323/8 230/1 4/1 8/4 7/2 225/4 227/2 12/4 11/2 226/4 228/2 234/4.
    expect(bytes.slice(32, 32 + 8 + 8 + 12 * 8)).toBe(
      hex(
        '0002 011c  0100 000c  0143 0008 00e6 0001 0004 0001 0008 0004 0007 0002 00e1 0004 00e3 0002 000c 0004 000b 0002 00e2 0004 00e4 0002 00ea 0004',
      ),
    );
    // Data set 256, 42 bytes: time (ms), natEvent 4, TCP, 10.60.1.2:40000 → 10.60.2.1:40001, 10.60.2.2:5000 twice, zone 0.
    expect(bytes.slice((16 + 284) * 2)).toBe(
      hex('0100 002a  000001a23a7cff00 04 06 0a3c0102 9c40 0a3c0201 9c41 0a3c0202 1388 0a3c0202 1388 00000000'),
    );
    expect(message.records).toBe(1);
  });

  it('writes a flow record with both directions (RFC 5103 reverse counters), end reason, mark and zone', () => {
    const e = encoder({ records: ['flows'] });
    e.add(
      tcp4('destroy', {
        startUs: T0_US,
        stopUs: T0_US + 2_500_000,
        timestampUs: T0_US + 2_500_000,
        stateName: 'TIME_WAIT',
        originalBytes: 2345,
        originalPackets: 7,
        replyBytes: 600,
        replyPackets: 5,
        mark: 0x2a,
        zone: 3,
      }),
      T0_MS,
    );
    const [message] = e.take(T0_MS);
    const templateSet = 284;
    const data = message.bytes.subarray(16 + templateSet).toString('hex');
    expect(data).toBe(
      hex(
        '0102 0058' + // set 258, 4 + 84 bytes
          '000001a23a7cff00 000001a23a7d08c4' + // flowStart, flowEnd (+2500 ms)
          '0000000000000929 0000000000000007 0000000000000258 0000000000000005' + // 2345 B 7 pkt, reverse 600 B 5 pkt
          '06 03' + // TCP, end of flow detected
          '0a3c0102 9c40 0a3c0201 9c41 0a3c0202 1388 0a3c0202 1388' +
          '0000 0000002a 00000003', // no ICMP type, mark 42, zone 3
      ),
    );
    // The flow template declares the reverse counters with the enterprise bit and PEN 29305.
    const t = message.bytes.toString('hex');
    expect(t).toContain(hex('8001 0008 00007279 8002 0008 00007279'));
  });

  it('counts sequence numbers in data records per session, and packs messages up to the bound', () => {
    const e = encoder({}, 576);
    const decoder = new IpfixTestDecoder();
    for (let i = 0; i < 100; i++)
      e.add(tcp4('destroy', { original: { ...tcp4('new').original!, srcPort: 1000 + i }, timestampUs: T0_US + i }), T0_MS);
    const messages = e.take(T0_MS);
    expect(messages.length).toBeGreaterThan(3);
    let expected = 0;
    const ports: number[] = [];
    for (const m of messages) {
      expect(m.bytes.length).toBeLessThanOrEqual(576 - 28);
      const d = decoder.decode(m.bytes);
      expect(d.sequence).toBe(expected);
      expected += d.records.length;
      expect(m.records).toBe(d.records.length);
      for (const r of d.records) if (r.template === 258) ports.push(r.values.sourceTransportPort as number);
    }
    // Each DESTROY of a translated flow: a NAT44 session delete and a flow record.
    expect(expected).toBe(200);
    expect(ports).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    // Templates only at the head of the first message (no refresh due yet).
    expect(messages.map((m) => decoder.decode(m.bytes).templateIds.length > 0)).toEqual(messages.map((_, i) => i === 0));
  });

  it('sends the templates again once the refresh interval has passed, and after a new session', () => {
    const e = encoder({ templateRefreshSeconds: 10 });
    const d = new IpfixTestDecoder();
    const templatesIn = (ms: IpfixMessage[]): boolean[] => ms.map((m) => d.decode(m.bytes).templateIds.length === 4);
    e.add(tcp4('new'), T0_MS);
    expect(templatesIn(e.take(T0_MS))).toEqual([true]);
    e.add(tcp4('new'), T0_MS + 9_999);
    expect(templatesIn(e.take(T0_MS + 9_999))).toEqual([false]);
    e.add(tcp4('new'), T0_MS + 10_000);
    expect(templatesIn(e.take(T0_MS + 10_000))).toEqual([true]);
    e.newSession();
    e.add(tcp4('new'), T0_MS + 10_001);
    const [m] = e.take(T0_MS + 10_001);
    expect(d.decode(m.bytes)).toMatchObject({ sequence: 0, templateIds: [256, 257, 258, 259] });
  });

  it('exports NAT66 with the IPv6 elements and the IPv6 session events, ICMP with its identifier as the port', () => {
    const e = encoder();
    const d = new IpfixTestDecoder();
    e.add(
      {
        kind: 'flow',
        event: 'destroy',
        family: 10,
        timestampUs: T0_US,
        receivedUs: T0_US,
        original: { src: 'fd60:1::2', dst: 'fd60:2::2', protocol: 58, icmpId: 77, icmpType: 128, icmpCode: 0 },
        reply: { src: 'fd60:2::2', dst: 'fd60:2::1', protocol: 58, icmpId: 78, icmpType: 129, icmpCode: 0 },
        nat: { source: { ip: 'fd60:1::2', translatedIp: 'fd60:2::1' } },
      },
      T0_MS,
    );
    const [m] = e.take(T0_MS);
    const records = d.decode(m.bytes).records;
    expect(records.map((r) => r.template)).toEqual([257, 259]);
    expect(records[0].values).toMatchObject({
      natEvent: 7,
      protocolIdentifier: 58,
      sourceIPv6Address: 'fd60:1::2',
      sourceTransportPort: 77,
      postNATSourceIPv6Address: 'fd60:2::1',
      postNAPTSourceTransportPort: 78,
      destinationIPv6Address: 'fd60:2::2',
      postNATDestinationIPv6Address: 'fd60:2::2',
    });
    expect(records[1].values).toMatchObject({ icmpTypeCodeIPv6: 128 << 8, flowEndReason: 1 });
  });

  it("leaves out untranslated flows' NAT events unless asked, UPDATE events, and counts what it cannot encode", () => {
    const e = encoder();
    const plain = tcp4('new', { nat: undefined });
    e.add(plain, T0_MS); // no NAT, no flow at NEW: nothing
    e.add(tcp4('update'), T0_MS);
    e.add(tcp4('destroy', { family: 10 }), T0_MS); // IPv4 addresses on an IPv6 record
    e.add(tcp4('destroy', { reply: undefined }), T0_MS);
    expect(e.take(T0_MS)).toEqual([]);
    expect(e.counters).toMatchObject({ natEvents: 0, flows: 0, ignored: 2, unencodable: 2 });
    const all = encoder({ records: ['nat-events', 'untranslated'] });
    all.add(plain, T0_MS);
    expect(all.counters.natEvents).toBe(1);
  });

  it('with flow-starts, writes a flow start record at NEW and dump (no counters), for translated and untranslated flows', () => {
    const e = encoder({ records: ['flows', 'flow-starts'] });
    const d = new IpfixTestDecoder();
    e.add(tcp4('new', { startUs: T0_US - 5000, mark: 7, zone: 2 }), T0_MS);
    e.add(tcp4('dump', { nat: undefined }), T0_MS);
    e.add(tcp4('update'), T0_MS);
    e.add(tcp4('destroy', { startUs: T0_US - 5000, stopUs: T0_US }), T0_MS);
    const [m] = e.take(T0_MS);
    const decoded = d.decode(m.bytes);
    expect(decoded.templateIds).toEqual([256, 257, 258, 259, 260, 261]);
    expect(decoded.records.map((r) => r.template)).toEqual([260, 260, 258]);
    expect(decoded.records[0].values).toEqual({
      flowStartMilliseconds: T0_MS - 5,
      protocolIdentifier: 6,
      firewallEvent: 1,
      sourceIPv4Address: '10.60.1.2',
      sourceTransportPort: 40000,
      postNATSourceIPv4Address: '10.60.2.1',
      postNAPTSourceTransportPort: 40001,
      destinationIPv4Address: '10.60.2.2',
      destinationTransportPort: 5000,
      postNATDestinationIPv4Address: '10.60.2.2',
      postNAPTDestinationTransportPort: 5000,
      icmpTypeCodeIPv4: 0,
      commonPropertiesId: 7,
      ingressVRFID: 2,
    });
    expect(decoded.records[1].values.flowStartMilliseconds).toBe(T0_MS);
    expect(e.counters).toMatchObject({ flowStarts: 2, flows: 1, natEvents: 0, ignored: 1 });
    // Without flow-starts the start templates are not declared.
    const plain = encoder();
    plain.add(tcp4('new'), T0_MS);
    expect(d.decode(plain.take(T0_MS)[0].bytes).templateIds).toEqual([256, 257, 258, 259]);
  });

  it('round-trips random records, both families, every protocol, counters up to 2^53', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const v4 = (): string => `${rand(256)}.${rand(256)}.${rand(256)}.${rand(256)}`;
    const v6 = (): string => `2001:db8:${rand(0x10000).toString(16)}::${(rand(0xffff) + 1).toString(16)}`;
    const e = encoder({ templateRefreshSeconds: 1 }, 1500);
    const d = new IpfixTestDecoder();
    const sent: FlowRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      const family = rand(2) === 0 ? 2 : 10;
      const addr = family === 2 ? v4 : v6;
      const protocol = [6, 17, 132, family === 2 ? 1 : 58][rand(4)];
      const icmp = protocol === 1 || protocol === 58;
      const ports = (): Partial<FlowRecord['original'] & object> =>
        icmp ? { icmpId: rand(65536), icmpType: rand(256), icmpCode: rand(256) } : { srcPort: rand(65536), dstPort: rand(65536) };
      const big = (): number => rand(2) * 2 ** 52 + rand(2 ** 30);
      const r: FlowRecord = {
        kind: 'flow',
        event: 'destroy',
        family,
        timestampUs: T0_US + i * 1000,
        receivedUs: T0_US,
        startUs: T0_US,
        stopUs: T0_US + i * 1000,
        original: { src: addr(), dst: addr(), protocol, ...ports() },
        reply: { src: addr(), dst: addr(), protocol, ...ports() },
        nat: {},
        originalBytes: big(),
        originalPackets: big(),
        replyBytes: big(),
        replyPackets: big(),
        mark: rand(2 ** 31) * 2,
        zone: rand(65536),
      };
      sent.push(r);
      e.add(r, T0_MS + i);
    }
    const records = e.take(T0_MS + 2000).flatMap((m) => d.decode(m.bytes).records);
    expect(records).toHaveLength(4000);
    for (const [i, r] of sent.entries()) {
      const o = r.original!;
      const p = r.reply!;
      const icmp = o.protocol === 1 || o.protocol === 58;
      const x = r.family === 2 ? 'IPv4' : 'IPv6';
      const nat = records[2 * i].values;
      const flow = records[2 * i + 1].values;
      const tuple = {
        protocolIdentifier: o.protocol,
        [`source${x}Address`]: o.src,
        sourceTransportPort: icmp ? o.icmpId : o.srcPort,
        [`postNATSource${x}Address`]: p.dst,
        postNAPTSourceTransportPort: icmp ? p.icmpId : p.dstPort,
        [`destination${x}Address`]: o.dst,
        destinationTransportPort: icmp ? 0 : o.dstPort,
        [`postNATDestination${x}Address`]: p.src,
        postNAPTDestinationTransportPort: icmp ? 0 : p.srcPort,
        ingressVRFID: r.zone,
      };
      expect(nat).toEqual({ observationTimeMilliseconds: T0_MS + i, natEvent: r.family === 2 ? 5 : 7, ...tuple });
      expect(flow).toEqual({
        flowStartMilliseconds: T0_MS,
        flowEndMilliseconds: T0_MS + i,
        octetDeltaCount: r.originalBytes,
        packetDeltaCount: r.originalPackets,
        reverseOctetDeltaCount: r.replyBytes,
        reversePacketDeltaCount: r.replyPackets,
        flowEndReason: 1,
        [`icmpTypeCode${x}`]: icmp ? (o.icmpType! << 8) | o.icmpCode! : 0,
        commonPropertiesId: r.mark,
        ...tuple,
      });
    }
  });

  it('writes each record its own addresses when they repeat, change, or fail to parse in between', () => {
    const e = encoder({ records: ['nat-events'] });
    const d = new IpfixTestDecoder();
    const with4 = (src: string, dst: string): FlowRecord =>
      tcp4('new', { original: { ...tcp4('new').original!, src, dst }, reply: { ...tcp4('new').reply!, src: dst } });
    const sent = [
      with4('10.0.0.1', '192.0.2.1'),
      with4('10.0.0.1', '192.0.2.1'),
      with4('10.0.0.2', 'not an address'),
      with4('10.0.0.2', '192.0.2.1'),
      with4('10.0.0.3', '192.0.2.9'),
    ];
    for (const r of sent) e.add(r, T0_MS);
    const got = e
      .take(T0_MS)
      .flatMap((m) => d.decode(m.bytes).records.map((r) => [r.values.sourceIPv4Address, r.values.destinationIPv4Address]));
    expect(got).toEqual([
      ['10.0.0.1', '192.0.2.1'],
      ['10.0.0.1', '192.0.2.1'],
      ['10.0.0.2', '192.0.2.1'],
      ['10.0.0.3', '192.0.2.9'],
    ]);
    expect(e.counters.unencodable).toBe(1);
  });

  it('declares each template as elements.ts lists it', () => {
    const e = encoder();
    e.add(tcp4('new'), T0_MS);
    const d = new IpfixTestDecoder();
    d.decode(e.take(T0_MS)[0].bytes);
    for (const t of Object.values(TEMPLATES).filter((t) => t.id < 260)) {
      expect(d.templates.get(t.id)?.map((f) => f.name)).toEqual(t.fields.map((f) => f.name));
    }
  });

  it('refuses a message bound that cannot hold the templates and a record', () => {
    expect(() => new IpfixEncoder(resolveIpfixOptions(), 400)).toThrow(/IPFIX message must be 436 to 65535 bytes/);
  });
});

describe('resolveIpfixOptions', () => {
  it('has defaults, and names the option that is out of range', () => {
    expect(resolveIpfixOptions()).toEqual({
      observationDomainId: 1,
      mtu: 1500,
      templateRefreshMs: 60_000,
      natEvents: true,
      flows: true,
      flowStarts: false,
      untranslated: false,
    });
    expect(() => resolveIpfixOptions({ observationDomainId: 2 ** 32 })).toThrow(
      /ipfix.observationDomainId must be an integer from 0 to 4294967295/,
    );
    expect(() => resolveIpfixOptions({ mtu: 500 })).toThrow(/ipfix.mtu must be an integer from 576 to 65535/);
    expect(() => resolveIpfixOptions({ records: ['nat'] as never })).toThrow(
      /'nat' is not one of nat-events, flows, flow-starts, untranslated/,
    );
    expect(() => resolveIpfixOptions({ records: ['flows', 'untranslated'] })).toThrow(/list nat-events too/);
  });
});
