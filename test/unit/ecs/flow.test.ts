import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConntrackDecoder } from '../../../src/conntrack/decode';
import { communityId } from '../../../src/ecs/community-id';
import { flowToEcs } from '../../../src/ecs/flow';
import { flowToEcsJson } from '../../../src/ecs/flow-json';
import type { FlowRecord } from '../../../src/records';
import {
  RECEIVED_US,
  dumpEntry,
  icmpEcho,
  ipv6Udp,
  kitchenSink,
  tcpEstablishedUpdate,
  tcpSnatNew,
  udpDnatDestroy,
  type Sample,
} from '../conntrack/samples';

const decoder = new ConntrackDecoder();
function record(sample: Sample): FlowRecord {
  const bytes = new Uint8Array(sample.msg);
  return decoder.decode(bytes, new DataView(bytes.buffer), 0, bytes.length, RECEIVED_US, sample.isDump);
}

describe('flowToEcs', () => {
  it('TCP new with SNAT: source.nat, start, community id', () => {
    const doc = flowToEcs(record(tcpSnatNew));
    expect(doc['@timestamp']).toBe('2023-11-14T22:13:20.000001Z');
    expect(doc.event).toEqual({
      kind: 'event',
      category: ['network'],
      type: ['connection', 'start'],
      action: 'flow-new',
      module: 'netfilter',
      dataset: 'netfilter.flow',
      created: '2023-11-14T22:15:00.000000Z',
      start: '2023-11-14T22:13:20.000001Z',
    });
    expect(doc.source).toEqual({ ip: '10.0.1.2', port: 40000, nat: { ip: '10.0.2.1', port: 40000 } });
    expect(doc.destination).toEqual({ ip: '10.0.2.2', port: 80 });
    expect(doc.network).toEqual({
      type: 'ipv4',
      transport: 'tcp',
      iana_number: '6',
      community_id: communityId({ srcIp: '10.0.1.2', dstIp: '10.0.2.2', protocol: 6, srcPort: 40000, dstPort: 80 }),
    });
    expect(doc.related).toEqual({ ip: ['10.0.1.2', '10.0.2.2', '10.0.2.1'] });
    expect(doc.observer).toEqual({ type: 'firewall', product: 'netfilter', hostname: os.hostname() });
    expect(doc.agent).toMatchObject({ type: 'netfilter-collector', name: os.hostname() });
    expect(doc.netfilter).toEqual({
      family: 'ipv4',
      family_number: 2,
      ct: {
        event: 'new',
        id: 0x11223344,
        status: 0x98,
        status_flags: ['confirmed', 'src_nat', 'src_nat_done'],
        state: 'SYN_SENT',
        state_number: 1,
        timeout: 120,
        original: { src_ip: '10.0.1.2', dst_ip: '10.0.2.2', protocol: 6, src_port: 40000, dst_port: 80 },
        reply: { src_ip: '10.0.2.2', dst_ip: '10.0.2.1', protocol: 6, src_port: 80, dst_port: 40000 },
        tcp: {
          flags_original: ['window_scale', 'sack_perm'],
          flags_original_bits: 3,
          flags_reply: [],
          flags_reply_bits: 0,
          wscale_original: 7,
          wscale_reply: 0,
        },
      },
    });
  });

  it('UDP destroy with DNAT: destination.nat, bytes per direction, duration in ns', () => {
    const doc = flowToEcs(record(udpDnatDestroy));
    expect(doc['@timestamp']).toBe('2023-11-14T22:13:50.500000Z');
    expect(doc.event.type).toEqual(['connection', 'end']);
    expect(doc.event.action).toBe('flow-destroy');
    expect(doc.event.start).toBe('2023-11-14T22:13:20.123456Z');
    expect(doc.event.end).toBe('2023-11-14T22:13:50.500000Z');
    expect(doc.event.duration).toBe(30_376_544_000);
    expect(doc.source).toEqual({ ip: '198.51.100.7', port: 5000, bytes: 300, packets: 3 });
    expect(doc.destination).toEqual({ ip: '203.0.113.1', port: 8080, nat: { ip: '10.0.1.5', port: 80 }, bytes: 1200, packets: 2 });
    expect(doc.network.bytes).toBe(1500);
    expect(doc.network.packets).toBe(5);
    expect(doc.network.transport).toBe('udp');
    expect(doc.related?.ip).toEqual(['198.51.100.7', '203.0.113.1', '10.0.1.5']);
    expect(doc.netfilter.ct.status_flags).toEqual(['seen_reply', 'assured', 'confirmed', 'dst_nat', 'dst_nat_done']);
  });

  it('ICMP echo: no ports, community id from type and code', () => {
    const doc = flowToEcs(record(icmpEcho));
    expect(doc.source).toEqual({ ip: '10.0.1.2' });
    expect(doc.destination).toEqual({ ip: '8.8.8.8' });
    expect(doc.network.transport).toBe('icmp');
    expect(doc.network.community_id).toBe(communityId({ srcIp: '10.0.1.2', dstIp: '8.8.8.8', protocol: 1, icmpType: 8, icmpCode: 0 }));
    // Echo request and reply hash alike.
    expect(doc.network.community_id).toBe(communityId({ srcIp: '8.8.8.8', dstIp: '10.0.1.2', protocol: 1, icmpType: 0, icmpCode: 0 }));
    expect(doc.netfilter.ct.original).toEqual({
      src_ip: '10.0.1.2',
      dst_ip: '8.8.8.8',
      protocol: 1,
      icmp_id: 0x1234,
      icmp_type: 8,
      icmp_code: 0,
    });
    expect(doc.event.type).toEqual(['connection', 'start']);
    expect(doc['@timestamp']).toBe(doc.event.created);
    expect(doc.event.start).toBeUndefined();
    expect(doc.event.duration).toBeUndefined();
  });

  it('IPv6 UDP update: network.type ipv6, info, sums', () => {
    const doc = flowToEcs(record(ipv6Udp));
    expect(doc.event.type).toEqual(['connection', 'info']);
    expect(doc.event.action).toBe('flow-update');
    expect(doc.network.type).toBe('ipv6');
    expect(doc.network.transport).toBe('udp');
    expect(doc.network.bytes).toBe(200);
    expect(doc.network.packets).toBe(2);
    expect(doc.source).toEqual({ ip: '2001:db8::1', port: 5353, bytes: 80, packets: 1 });
    expect(doc.destination).toEqual({ ip: '2001:db8:0:1::53', port: 53, bytes: 120, packets: 1 });
    expect(doc.event.start).toBe('2023-11-14T22:14:10.000000Z');
    expect(doc.event.end).toBeUndefined();
    expect(doc.netfilter.family).toBe('ipv6');
    expect(doc.netfilter.ct.status_flags).toEqual(['seen_reply', 'confirmed']);
  });

  it('TCP established update: state and per-direction tcp flags', () => {
    const doc = flowToEcs(record(tcpEstablishedUpdate));
    expect(doc.netfilter.ct.state).toBe('ESTABLISHED');
    expect(doc.netfilter.ct.tcp).toEqual({
      flags_original: ['window_scale', 'sack_perm', 'maxack_set'],
      flags_original_bits: 0x23,
      flags_reply: ['window_scale', 'sack_perm', 'data_unacknowledged', 'maxack_set'],
      flags_reply_bits: 0x33,
      wscale_original: 7,
      wscale_reply: 8,
    });
    expect(doc.source?.nat).toBeUndefined();
    expect(doc.destination?.nat).toBeUndefined();
  });

  it('everything else under netfilter.ct', () => {
    const doc = flowToEcs(record(kitchenSink));
    expect(doc.netfilter.ct).toMatchObject({
      id: 0xdeadbeef,
      mark: 0x1234,
      zone: 5,
      labels: '01000000000000000000000000000080',
      use: 2,
      helper: 'ftp',
      secctx: 'system_u:object_r:unlabeled_t:s0',
      master: { src_ip: '10.0.1.2', dst_ip: '192.0.2.21', protocol: 6, src_port: 40000, dst_port: 21 },
      seq_adj: {
        original: { position: 1000, offset_before: 0, offset_after: -3 },
        reply: { position: 2000, offset_before: 5, offset_after: 5 },
      },
      status_flags: ['expected', 'seen_reply', 'confirmed', 'seq_adjust', 'helper'],
    });
    expect(doc.netfilter.ct.original?.zone).toBe(5);
    expect(doc.network.bytes).toBe(5640);
  });

  it('a dump entry with SNAT and DNAT', () => {
    const doc = flowToEcs(record(dumpEntry));
    expect(doc.event.type).toEqual(['connection', 'info']);
    expect(doc.event.action).toBe('flow-dump');
    expect(doc.source?.nat).toEqual({ ip: '10.0.1.1', port: 61000 });
    expect(doc.destination?.nat).toEqual({ ip: '10.0.1.5', port: 8443 });
    expect(doc.related?.ip).toEqual(['10.0.1.2', '203.0.113.1', '10.0.1.5', '10.0.1.1']);
    expect(doc.netfilter.ct.event).toBe('dump');
  });

  it('options: community id seed or off, observer', () => {
    const r = record(tcpSnatNew);
    const seeded = flowToEcs(r, { communityIdSeed: 7, observer: { hostname: 'gw', name: 'edge' } });
    expect(seeded.network.community_id).toBe(
      communityId({ srcIp: '10.0.1.2', dstIp: '10.0.2.2', protocol: 6, srcPort: 40000, dstPort: 80 }, { seed: 7 }),
    );
    expect(seeded.observer).toEqual({ type: 'firewall', product: 'netfilter', hostname: 'gw', name: 'edge' });
    expect(flowToEcs(r, { communityId: false }).network.community_id).toBeUndefined();
  });

  it('collector-made start and stop times are flagged', () => {
    const r = { ...record(icmpEcho), event: 'destroy' as const, startUs: 1_000_000, stopUs: 3_500_000, timesFromCollector: true };
    const doc = flowToEcs(r);
    expect(doc.event.duration).toBe(2_500_000_000);
    expect(doc.netfilter.ct.times_from_collector).toBe(true);
    expect(flowToEcs(record(udpDnatDestroy)).netfilter.ct.times_from_collector).toBeUndefined();
  });

  it('a record without tuples still renders', () => {
    const doc = flowToEcs({ kind: 'flow', event: 'destroy', family: 2, timestampUs: 1, receivedUs: 1, decodeError: 'conntrack.truncated' });
    expect(doc.source).toBeUndefined();
    expect(doc.related).toBeUndefined();
    expect(doc.network).toEqual({ type: 'ipv4' });
    expect(doc.netfilter.ct.decode_error).toBe('conntrack.truncated');
  });

  it('flowToEcsJson is JSON.stringify of flowToEcs', () => {
    const optionSets = [undefined, { observer: { hostname: 'gw "1"', name: 'edge\\a' }, communityIdSeed: 9 }, { communityId: false }];
    const records: FlowRecord[] = [tcpSnatNew, udpDnatDestroy, icmpEcho, ipv6Udp, kitchenSink, dumpEntry].map((s) => record(s));
    records.push({ kind: 'flow', event: 'destroy', family: 2, timestampUs: 1, receivedUs: 1, decodeError: 'conntrack.truncated' });
    const odd = structuredClone(record(kitchenSink));
    // An event and a family no kernel sends, only a reply tuple, one direction's counters, a long flow.
    Object.assign(odd, {
      event: 'weird' as FlowRecord['event'],
      family: 99,
      original: undefined,
      originalBytes: undefined,
      startUs: 1,
      stopUs: 2 ** 60,
    });
    records.push(odd, {
      ...record(tcpSnatNew),
      stateName: 'É\u2028"',
      helper: 'ftp',
      secctx: 'x\\y',
      labels: '0f',
      timesFromCollector: true,
    });
    for (const options of optionSets) {
      for (const r of records) {
        expect(flowToEcsJson(r, options)).toBe(JSON.stringify(flowToEcs(r, options)));
        expect(flowToEcsJson(r, options)).not.toContain('null');
      }
    }
  });
});
