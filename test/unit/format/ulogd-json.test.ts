// ulogd2 2.0.8 JSON lines: a line ulogd wrote on this machine, byte for byte, and
// the rules behind the keys (which appear when, types, order, time zone,
// escapes), over packets built as bytes and decoded as the collector does.
import { describe, expect, it } from 'vitest';
import { flowToUlogdJson, packetToUlogdJson } from '../../../src/format/ulogd-json';
import { janssonString, ulogdTime, utf8Text } from '../../../src/format/ulogd-writer';
import { decodePacket, type StartLayer } from '../../../src/packet/decode';
import type { FlowRecord, PacketRecord } from '../../../src/records';
import { cat, esp, extHeader, fragmentHeader, icmp, ipv4, ipv6, tcp, toBytes, u16, udp, zeros, type Bytes } from '../packet/builders';

const MAC_HEADER = '1e:3f:fb:76:98:59:4a:19:9a:8d:a3:c4:08:00';
// 2026-11-22T05:20:10.135459+0530
const T_US = 1795305010135459;

/** A packet record as the NFLOG decoder makes it for an inbound packet on veth0. */
function inbound(bytes: Bytes, extra: Partial<PacketRecord> = {}, start: StartLayer = 'ipv4'): PacketRecord {
  const data = toBytes(bytes);
  return {
    kind: 'packet',
    group: 42,
    family: start === 'ipv6' ? 10 : 2,
    hook: 1,
    hwProtocol: start === 'ipv6' ? 0x86dd : 0x0800,
    prefix: 'ulogd-cmp in: ',
    timestampUs: T_US,
    kernelTimestamp: true,
    receivedUs: T_US + 800,
    mark: undefined,
    inIfindex: 2,
    inInterface: 'veth0',
    hwAddr: '4a:19:9a:8d:a3:c4',
    hwType: 1,
    hwLen: 14,
    hwHeader: start === 'ipv6' ? MAC_HEADER.replace(/08:00$/, '86:dd') : MAC_HEADER,
    seq: 0,
    payloadLength: data.length,
    packet: decodePacket(data, 0, data.length, start),
    ...extra,
  };
}

function keys(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

const ECHO = ipv4(
  { protocol: 1, src: '10.77.41.1', dst: '10.77.41.2', id: 61245, df: true, checksum: 58574 },
  icmp(8, 0, cat(u16(2039), u16(1)), zeros(56), 0x208b),
);

describe('packetToUlogdJson', () => {
  it('writes the line ulogd 2.0.8 wrote for an ICMP echo request (TZ=Asia/Kolkata), byte for byte', () => {
    const line =
      '{"timestamp": "2026-11-22T05:20:10.135459+0530", "dvc": "Netfilter", "raw.pktlen": 84, "raw.pktcount": 1, ' +
      '"oob.prefix": "ulogd-cmp in: ", "oob.time.sec": 1795305010, "oob.time.usec": 135459, "oob.mark": 0, ' +
      '"oob.ifindex_in": 2, "oob.hook": 1, "raw.mac_len": 14, "oob.seq.local": 0, "oob.family": 2, "oob.protocol": 2048, ' +
      '"raw.label": 0, "raw.type": 1, "raw.mac.addrlen": 6, "ip.protocol": 1, "ip.tos": 0, "ip.ttl": 64, "ip.totlen": 84, ' +
      '"ip.ihl": 5, "ip.csum": 58574, "ip.id": 61245, "ip.fragoff": 16384, "icmp.type": 8, "icmp.code": 0, ' +
      '"icmp.echoid": 2039, "icmp.echoseq": 1, "icmp.csum": 35616, "oob.in": "veth0", "oob.out": "", ' +
      '"src_ip": "10.77.41.1", "dest_ip": "10.77.41.2", "mac.saddr.str": "4a:19:9a:8d:a3:c4", ' +
      '"mac.daddr.str": "1e:3f:fb:76:98:59", "mac.str": "1e:3f:fb:76:98:59:4a:19:9a:8d:a3:c4:08:00"}';
    expect(packetToUlogdJson(inbound(ECHO), { utcOffsetMinutes: 330 })).toBe(line);
  });

  it('writes TCP flags as 0/1, urgp only with URG, offset and reserved as ulogd does (always 0), res1/res2 from the reserved bits and ECE/CWR', () => {
    const syn = keys(
      packetToUlogdJson(
        inbound(ipv4({ protocol: 6 }, tcp({ sport: 40000, dport: 22, seq: 7, flags: 0x02, window: 64240, checksum: 0x14f7 }))),
      ),
    );
    expect(syn).toMatchObject({
      src_port: 40000,
      dest_port: 22,
      'tcp.seq': 7,
      'tcp.ackseq': 0,
      'tcp.window': 64240,
      'tcp.offset': 0,
      'tcp.reserved': 0,
    });
    expect(syn).toMatchObject({
      'tcp.urg': 0,
      'tcp.ack': 0,
      'tcp.psh': 0,
      'tcp.rst': 0,
      'tcp.syn': 1,
      'tcp.fin': 0,
      'tcp.res1': 0,
      'tcp.res2': 0,
      'tcp.csum': 0x14f7,
    });
    expect(syn).not.toHaveProperty('tcp.urgp');
    const odd = keys(packetToUlogdJson(inbound(ipv4({ protocol: 6 }, tcp({ flags: 0x1f9, urgent: 9 })))));
    expect(odd).toMatchObject({
      'tcp.urg': 1,
      'tcp.urgp': 9,
      'tcp.ack': 1,
      'tcp.psh': 1,
      'tcp.rst': 0,
      'tcp.syn': 0,
      'tcp.fin': 1,
      'tcp.res1': 1,
      'tcp.res2': 1,
    });
    const order = Object.keys(odd);
    expect(order.slice(order.indexOf('src_port'), order.indexOf('tcp.csum') + 1)).toEqual([
      'src_port',
      'dest_port',
      'tcp.seq',
      'tcp.ackseq',
      'tcp.window',
      'tcp.offset',
      'tcp.reserved',
      'tcp.urg',
      'tcp.urgp',
      'tcp.ack',
      'tcp.psh',
      'tcp.rst',
      'tcp.syn',
      'tcp.fin',
      'tcp.res1',
      'tcp.res2',
      'tcp.csum',
    ]);
  });

  it('writes UDP and the byte-swapped ICMP checksum, fragmtu for fragmentation needed', () => {
    const u = keys(packetToUlogdJson(inbound(ipv4({ protocol: 17 }, udp({ sport: 5353, dport: 53, checksum: 0x14e5 }, zeros(3))))));
    expect(u).toMatchObject({ src_port: 5353, dest_port: 53, 'udp.len': 11, 'udp.csum': 0x14e5 });
    const mtu = keys(packetToUlogdJson(inbound(ipv4({ protocol: 1 }, icmp(3, 4, cat(u16(0), u16(1400)), [], 0x1234)))));
    expect(mtu).toMatchObject({ 'icmp.type': 3, 'icmp.code': 4, 'icmp.fragmtu': 1400, 'icmp.csum': 0x3412 });
    expect(mtu).not.toHaveProperty('icmp.echoid');
  });

  it('writes IPv6 with ip.protocol before the ip6 keys and ip6.nexthdr as the last header of the walk', () => {
    const bytes = ipv6(
      { nextHeader: 0, src: 'fd77:41::1', dst: 'fd77:41::2', trafficClass: 3, flowLabel: 527169, hopLimit: 64 },
      cat(extHeader(58), icmp(128, 0, cat(u16(26088), u16(1)), zeros(8), 0x10dc)),
    );
    const line = packetToUlogdJson(inbound(bytes, {}, 'ipv6'));
    const k = keys(line);
    expect(k).toMatchObject({
      'ip.protocol': 58,
      'ip6.payloadlen': 24,
      'ip6.priority': 3,
      'ip6.flowlabel': 527169,
      'ip6.hoplimit': 64,
      'ip6.nexthdr': 58,
    });
    expect(k).toMatchObject({ 'icmpv6.type': 128, 'icmpv6.code': 0, 'icmpv6.echoid': 26088, 'icmpv6.echoseq': 1, 'icmpv6.csum': 0xdc10 });
    expect(k).toMatchObject({ src_ip: 'fd77:41::1', dest_ip: 'fd77:41::2', 'oob.protocol': 0x86dd, 'oob.family': 10 });
    expect(Object.keys(k).indexOf('ip.protocol')).toBeLessThan(Object.keys(k).indexOf('ip6.payloadlen'));
  });

  it('writes a later IPv6 fragment and ESP as ulogd does: no ip.protocol, the fragment offset in bytes', () => {
    const later = keys(
      packetToUlogdJson(inbound(ipv6({ nextHeader: 44 }, cat(fragmentHeader(17, 185, false, 0xabcdef), zeros(16))), {}, 'ipv6')),
    );
    expect(later).not.toHaveProperty('ip.protocol');
    expect(later).toMatchObject({ 'ip6.nexthdr': 17, 'ip6.fragoff': 1480, 'ip6.fragid': 0xabcdef });
    expect(later).not.toHaveProperty('src_port');
    const first = keys(
      packetToUlogdJson(inbound(ipv6({ nextHeader: 44 }, cat(fragmentHeader(17, 0, true, 5), udp({ sport: 1, dport: 2 }))), {}, 'ipv6')),
    );
    expect(first).toMatchObject({ 'ip.protocol': 17, 'ip6.nexthdr': 17, 'ip6.fragoff': 0, 'ip6.fragid': 5, src_port: 1, dest_port: 2 });
    const sealed = keys(packetToUlogdJson(inbound(ipv6({ nextHeader: 50 }, esp(0x1001, 9, zeros(8))), {}, 'ipv6')));
    expect(sealed).not.toHaveProperty('ip.protocol');
    expect(sealed['ip6.nexthdr']).toBe(50);
  });

  it('leaves out the IP keys when the copy ends inside the IP header, and the whole transport when it is short', () => {
    const short = keys(packetToUlogdJson(inbound(ipv4({ protocol: 6 }, []))));
    expect(short).not.toHaveProperty('ip.protocol');
    expect(short).not.toHaveProperty('src_ip');
    expect(short['raw.pktlen']).toBe(20);
    const shortTcp = keys(packetToUlogdJson(inbound(ipv4({ protocol: 6 }, zeros(12)))));
    expect(shortTcp['ip.protocol']).toBe(6);
    expect(shortTcp).not.toHaveProperty('src_port');
  });

  it('writes an outbound packet without MAC keys, with uid/gid and ulogd’s own clock when the kernel sent no timestamp', () => {
    const rec = inbound(ipv4({ protocol: 17 }, udp({ dport: 7777 })), {
      hook: 3,
      inIfindex: undefined,
      inInterface: undefined,
      outIfindex: 2,
      outInterface: 'veth0',
      hwAddr: undefined,
      hwType: undefined,
      hwLen: undefined,
      hwHeader: undefined,
      uid: 4321,
      gid: 4322,
      kernelTimestamp: false,
      timestampUs: T_US + 800,
    });
    const k = keys(packetToUlogdJson(rec, { utcOffsetMinutes: 0, nowUs: T_US }));
    expect(k).toMatchObject({
      'oob.ifindex_out': 2,
      'oob.uid': 4321,
      'oob.gid': 4322,
      'oob.in': '',
      'oob.out': 'veth0',
      'oob.protocol': 0x0800,
    });
    expect(k['oob.time.usec']).toBe(135459);
    expect(k.timestamp).toBe('2026-11-21T23:50:10.135459');
    for (const absent of ['oob.ifindex_in', 'raw.mac_len', 'raw.type', 'raw.mac.addrlen', 'mac.saddr.str', 'mac.daddr.str', 'mac.str']) {
      expect(k, absent).not.toHaveProperty(absent);
    }
    // A source address without a MAC header: HWHDR's "void" hardware type.
    const onlyAddr = keys(packetToUlogdJson({ ...rec, hwAddr: '02:00:00:00:00:01' }));
    expect(onlyAddr).toMatchObject({ 'raw.type': 0xffff, 'raw.mac.addrlen': 6, 'mac.saddr.str': '02:00:00:00:00:01' });
  });

  it('takes ulogd’s settings: device, label, boolean_label, eventv1, timestamp off', () => {
    const rec = inbound(ECHO);
    const v1 = packetToUlogdJson(rec, { eventV1: true, device: 'gw1', label: 1, booleanLabel: true, utcOffsetMinutes: 0 });
    expect(v1.startsWith('{"@version": 1, "@timestamp": "2026-11-21T23:50:10.135459", "dvc": "gw1", ')).toBe(true);
    expect(keys(v1).action).toBe('allowed');
    expect(keys(v1)).not.toHaveProperty('raw.label');
    expect(keys(packetToUlogdJson(rec, { label: 3 }))['raw.label']).toBe(3);
    const bare = packetToUlogdJson(rec, { timestamp: false });
    expect(bare.startsWith('{"dvc": "Netfilter", "raw.pktlen": 84')).toBe(true);
  });

  it('writes the prefix as jansson does: escapes, UTF-8 decoded, and no key for invalid UTF-8', () => {
    expect(keys(packetToUlogdJson(inbound(ECHO, { prefix: 'caf\xc3\xa9 ' })))['oob.prefix']).toBe('café ');
    const escaped = packetToUlogdJson(inbound(ECHO, { prefix: 'a"b\\c\x1f\t' }));
    expect(escaped).toContain('"oob.prefix": "a\\"b\\\\c\\u001F\\t"');
    expect(keys(packetToUlogdJson(inbound(ECHO, { prefix: 'bad\xff' })))).not.toHaveProperty('oob.prefix');
  });

  it('never throws on a record whose payload did not decode', () => {
    const broken: PacketRecord = { ...inbound(ECHO), packet: { error: 'ipv4.truncated' }, payloadLength: 7, family: 0 };
    expect(() => JSON.parse(packetToUlogdJson(broken))).not.toThrow();
    expect(keys(packetToUlogdJson(broken))).not.toHaveProperty('src_ip');
  });
});

describe('ulogd time, strings and UTF-8', () => {
  it('prints local time with microseconds and the zone, none at UTC (ulogd 2.0.8)', () => {
    expect(ulogdTime(1795305010, 5, 330)).toBe('2026-11-22T05:20:10.000005+0530');
    expect(ulogdTime(1795305010, undefined, -180)).toBe('2026-11-21T20:50:10-0300');
    expect(ulogdTime(1795305010, undefined, 0)).toBe('2026-11-21T23:50:10');
    // ulogd takes the sign from the hours: half an hour west comes out as +0030.
    expect(ulogdTime(1795305010, undefined, -30)).toBe('2026-11-21T23:20:10+0030');
  });

  it('escapes like jansson and reads UTF-8 like json_string', () => {
    expect(janssonString('x/\u007f\u0001\n')).toBe('"x/\u007f\\u0001\\n"');
    expect(utf8Text('\xe2\x82\xac')).toBe('€');
    expect(utf8Text('\xc0\xaf')).toBeNull(); // overlong
    expect(utf8Text('\xed\xa0\x80')).toBeNull(); // surrogate
    expect(utf8Text('\xe2\x82')).toBeNull(); // cut
  });
});

function flow(extra: Partial<FlowRecord>): FlowRecord {
  return {
    kind: 'flow',
    event: 'new',
    family: 2,
    timestampUs: T_US,
    receivedUs: T_US,
    id: 688006250,
    original: { src: '10.99.0.1', dst: '10.99.0.2', protocol: 6, srcPort: 59540, dstPort: 22 },
    reply: { src: '10.99.0.2', dst: '10.99.0.1', protocol: 6, srcPort: 22, dstPort: 59540 },
    ...extra,
  };
}

describe('flowToUlogdJson', () => {
  it('writes a TCP DESTROY with kernel times as ulogd NFCT (hash_enable=0) does', () => {
    const line = flowToUlogdJson(
      flow({
        event: 'destroy',
        originalPackets: 1,
        originalBytes: 60,
        replyPackets: 1,
        replyBytes: 40,
        startUs: 1795304772931262,
        stopUs: 1795304772931275,
        receivedUs: 1795304772931999,
      }),
      { utcOffsetMinutes: 0 },
    );
    expect(line).toBe(
      '{"timestamp": "2026-11-21T23:46:12", "dvc": "Netfilter", "orig.ip.protocol": 6, "orig.l4.sport": 59540, "orig.l4.dport": 22, ' +
        '"orig.raw.pktlen": 60, "orig.raw.pktcount": 1, "reply.ip.protocol": 6, "reply.l4.sport": 22, "reply.l4.dport": 59540, ' +
        '"reply.raw.pktlen": 40, "reply.raw.pktcount": 1, "ct.mark": 0, "ct.id": 688006250, "ct.event": 4, ' +
        '"flow.start.sec": 1795304772, "flow.start.usec": 931262, "flow.end.sec": 1795304772, "flow.end.usec": 931275, ' +
        '"oob.family": 2, "oob.protocol": 0, "src_ip": "10.99.0.1", "dest_ip": "10.99.0.2", ' +
        '"reply.ip.saddr.str": "10.99.0.2", "reply.ip.daddr.str": "10.99.0.1"}',
    );
  });

  it('writes an ICMP NEW with code before type, zero counters and ulogd’s clock as the start', () => {
    const k = keys(
      flowToUlogdJson(
        flow({
          original: { src: '10.99.0.1', dst: '10.99.0.2', protocol: 1, icmpType: 8, icmpCode: 0, icmpId: 7 },
          reply: { src: '10.99.0.2', dst: '10.99.0.1', protocol: 1, icmpType: 0, icmpCode: 0, icmpId: 7 },
        }),
        { nowUs: 1795304772922400 },
      ),
    );
    const order = Object.keys(k);
    expect(order.slice(2, 12)).toEqual([
      'orig.ip.protocol',
      'orig.raw.pktlen',
      'orig.raw.pktcount',
      'reply.ip.protocol',
      'reply.raw.pktlen',
      'reply.raw.pktcount',
      'icmp.code',
      'icmp.type',
      'ct.mark',
      'ct.id',
    ]);
    expect(k).toMatchObject({ 'icmp.type': 8, 'icmp.code': 0, 'ct.event': 1, 'flow.start.sec': 1795304772, 'flow.start.usec': 922400 });
    expect(k).not.toHaveProperty('flow.end.sec');
    expect(k).not.toHaveProperty('orig.l4.sport');
  });

  it('has no ICMP keys for ICMPv6 flows, event 2 for updates and dumps, and no addresses for other families', () => {
    const v6 = keys(
      flowToUlogdJson(
        flow({
          family: 10,
          original: { src: 'fd99::1', dst: 'fd99::2', protocol: 58, icmpType: 128 },
          reply: { src: 'fd99::2', dst: 'fd99::1', protocol: 58 },
        }),
      ),
    );
    expect(v6).not.toHaveProperty('icmp.type');
    expect(v6).toMatchObject({ src_ip: 'fd99::1', 'reply.ip.daddr.str': 'fd99::1', 'oob.family': 10 });
    expect(keys(flowToUlogdJson(flow({ event: 'update' })))['ct.event']).toBe(2);
    expect(keys(flowToUlogdJson(flow({ event: 'dump' })))['ct.event']).toBe(2);
    expect(keys(flowToUlogdJson(flow({ family: 7 })))).not.toHaveProperty('src_ip');
  });

  it('uses its clock for a DESTROY end without kernel timestamps, and no start then', () => {
    const k = keys(flowToUlogdJson(flow({ event: 'destroy', receivedUs: T_US })));
    expect(k).toMatchObject({ 'flow.end.sec': 1795305010, 'flow.end.usec': 135459 });
    expect(k).not.toHaveProperty('flow.start.sec');
    const collectorTimes = keys(flowToUlogdJson(flow({ event: 'destroy', startUs: 1, stopUs: 2, timesFromCollector: true })));
    expect(collectorTimes).not.toHaveProperty('flow.start.sec');
    expect(collectorTimes['flow.end.sec']).toBe(1795305010);
  });
});
