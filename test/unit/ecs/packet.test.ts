import { describe, expect, it } from 'vitest';
import { createActionMapper } from '../../../src/verdict/action';
import { communityId } from '../../../src/ecs/community-id';
import * as os from 'node:os';
import { ECS_VERSION, packetToEcs } from '../../../src/ecs/packet';
import { AGENT_VERSION, machineAgentId } from '../../../src/ecs/identity';
import { ipv4, ipv6, record, T0 } from '../../helpers/packet-records';

const TS = '2026-11-21T21:44:50.123456Z';
const CREATED = '2026-11-21T21:44:50.123706Z';

const EVENT_BASE = { kind: 'event', category: ['network'], module: 'netfilter', dataset: 'netfilter.log', created: CREATED };
// Every document names the gateway (os.hostname() by default) and the collector.
const OBSERVER_BASE = { type: 'firewall', product: 'netfilter', hostname: os.hostname() };
const AGENT = {
  type: 'netfilter-collector',
  version: AGENT_VERSION,
  name: os.hostname(),
  ...(machineAgentId() === undefined ? {} : { id: machineAgentId() }),
};

describe('packetToEcs', () => {
  it('TCP/IPv4 input, dropped, Ethernet, all record attributes', () => {
    const rec = record(
      {
        link: { kind: 'ethernet', src: '00:00:5e:00:53:23', dst: 'aa:bb:cc:dd:ee:0f', etherType: 0x0800, vlans: [] },
        network: ipv4('128.232.110.120', '66.35.250.204', 6, { totalLength: 60, tos: 0x10, id: 54321 }),
        transport: {
          kind: 'tcp',
          srcPort: 34855,
          dstPort: 80,
          seq: 1000,
          ack: 0,
          dataOffset: 10,
          flags: 0x02,
          window: 64240,
          checksum: 0,
          urgentPointer: 0,
          options: '020405B4',
          mss: 1460,
        },
      },
      {
        prefix: 'IPTABLES: DROP ',
        inIfindex: 2,
        inInterface: 'eth0',
        mark: 7,
        uid: 1000,
        gid: 100,
        seq: 11,
        seqGlobal: 99,
        vlan: { proto: 0x8100, tci: 10, id: 10 },
        ctInfo: 2,
      },
    );
    expect(packetToEcs(rec, { observer: { hostname: 'gw1', name: 'edge' } })).toStrictEqual({
      '@timestamp': TS,
      ecs: { version: ECS_VERSION },
      event: { ...EVENT_BASE, type: ['connection', 'denied'], action: 'drop', outcome: 'success', sequence: 11 },
      source: { ip: '128.232.110.120', port: 34855, mac: '00-00-5E-00-53-23', bytes: 60, packets: 1 },
      destination: { ip: '66.35.250.204', port: 80, mac: 'AA-BB-CC-DD-EE-0F' },
      network: {
        type: 'ipv4',
        transport: 'tcp',
        iana_number: '6',
        community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
        direction: 'ingress',
        vlan: { id: '10' },
      },
      observer: {
        ...OBSERVER_BASE,
        hostname: 'gw1',
        name: 'edge',
        ingress: { interface: { name: 'eth0', id: '2' } },
      },
      agent: { ...AGENT, name: 'edge' },
      rule: { name: 'IPTABLES: DROP' },
      related: { ip: ['128.232.110.120', '66.35.250.204'] },
      netfilter: {
        group: 1,
        family: 'ipv4',
        family_number: 2,
        hook: 'input',
        hook_number: 1,
        prefix: 'IPTABLES: DROP ',
        kernel_timestamp: true,
        payload_length: 60,
        hw_protocol: 0x0800,
        mark: 7,
        uid: 1000,
        gid: 100,
        seq: 11,
        seq_global: 99,
        ct_info: 2,
        vlan: { id: 10 },
        ip: { ttl: 64, id: 54321, tos: 0x10, flags: ['df'], fragment_offset: 0 },
        tcp: { flags: ['syn'], window: 64240, seq: 1000, ack: 0, mss: 1460, options: '020405B4' },
      },
    });
  });

  it('UDP/IPv6 output, accepted, no link layer, egress interface', () => {
    const src = '2001:db8::1';
    const dst = '2001:4860:4860::8888';
    const rec = record(
      {
        network: ipv6(src, dst, 17, { payloadLength: 40, extensionHeaders: [0], nextHeader: 0 }),
        transport: { kind: 'udp', srcPort: 54585, dstPort: 53, length: 40, checksum: 0 },
      },
      { family: 10, hook: 3, hwProtocol: 0x86dd, prefix: 'udp.out.accepted', outIfindex: 3, outInterface: 'wan0', kernelTimestamp: false },
    );
    expect(packetToEcs(rec)).toStrictEqual({
      '@timestamp': TS,
      ecs: { version: ECS_VERSION },
      event: { ...EVENT_BASE, type: ['connection', 'allowed'], action: 'accept', outcome: 'success' },
      source: { ip: src, port: 54585, bytes: 80, packets: 1 },
      destination: { ip: dst, port: 53 },
      network: {
        type: 'ipv6',
        transport: 'udp',
        iana_number: '17',
        community_id: communityId({ srcIp: src, dstIp: dst, protocol: 17, srcPort: 54585, dstPort: 53 }),
        direction: 'egress',
      },
      observer: { ...OBSERVER_BASE, egress: { interface: { name: 'wan0', id: '3' } } },
      agent: AGENT,
      rule: { name: 'udp.out.accepted' },
      related: { ip: [src, dst] },
      netfilter: {
        group: 1,
        family: 'ipv6',
        family_number: 10,
        hook: 'output',
        hook_number: 3,
        prefix: 'udp.out.accepted',
        kernel_timestamp: false,
        payload_length: 60,
        hw_protocol: 0x86dd,
        ip: { hop_limit: 255, flow_label: 0x12345, traffic_class: 0, extension_headers: [0] },
        udp: { length: 40 },
      },
    });
  });

  it('ICMP echo request, forward hook, unknown verdict, source MAC from NFULA_HWADDR', () => {
    const rec = record(
      {
        network: ipv4('192.168.0.89', '192.168.0.1', 1, { totalLength: 84, dontFragment: false, moreFragments: false, flagReserved: true }),
        transport: { kind: 'icmp', type: 8, code: 0, checksum: 0, id: 0x1234, sequence: 3 },
      },
      { hook: 2, prefix: 'FWD LOG', hwAddr: '52:54:00:12:34:56', inInterface: 'lan0', outInterface: 'wan0', inIfindex: 4, outIfindex: 5 },
    );
    expect(packetToEcs(rec)).toStrictEqual({
      '@timestamp': TS,
      ecs: { version: ECS_VERSION },
      event: { ...EVENT_BASE, type: ['connection', 'info'] },
      source: { ip: '192.168.0.89', mac: '52-54-00-12-34-56', bytes: 84, packets: 1 },
      destination: { ip: '192.168.0.1' },
      network: { type: 'ipv4', transport: 'icmp', iana_number: '1', community_id: '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=' },
      observer: {
        ...OBSERVER_BASE,
        ingress: { interface: { name: 'lan0', id: '4' } },
        egress: { interface: { name: 'wan0', id: '5' } },
      },
      agent: AGENT,
      rule: { name: 'FWD LOG' },
      related: { ip: ['192.168.0.89', '192.168.0.1'] },
      netfilter: {
        group: 1,
        family: 'ipv4',
        family_number: 2,
        hook: 'forward',
        hook_number: 2,
        prefix: 'FWD LOG',
        kernel_timestamp: true,
        payload_length: 60,
        hw_protocol: 0x0800,
        ip: { ttl: 64, id: 4242, tos: 0, flags: ['ce'], fragment_offset: 0 },
        icmp: { type: 8, code: 0, id: 0x1234, sequence: 3 },
      },
    });
  });

  it('ICMPv6 router solicitation to ff02::2, group label gives the verdict', () => {
    const src = 'fe80::200:86ff:fe05:80da';
    const rec = record(
      {
        network: ipv6(src, 'ff02::2', 58, { payloadLength: 16 }),
        transport: { kind: 'icmpv6', type: 133, code: 0, checksum: 0 },
      },
      { family: 10, hook: 0, group: 5, hwProtocol: 0x86dd },
    );
    expect(packetToEcs(rec, { groupLabels: { 5: 'v6-dropped' } })).toStrictEqual({
      '@timestamp': TS,
      ecs: { version: ECS_VERSION },
      event: { ...EVENT_BASE, type: ['connection', 'denied'], action: 'drop', outcome: 'success' },
      source: { ip: src, bytes: 56, packets: 1 },
      destination: { ip: 'ff02::2' },
      network: { type: 'ipv6', transport: 'ipv6-icmp', iana_number: '58', community_id: '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=' },
      observer: OBSERVER_BASE,
      agent: AGENT,
      related: { ip: [src, 'ff02::2'] },
      netfilter: {
        group: 5,
        group_label: 'v6-dropped',
        family: 'ipv6',
        family_number: 10,
        hook: 'prerouting',
        hook_number: 0,
        prefix: '',
        kernel_timestamp: true,
        payload_length: 60,
        hw_protocol: 0x86dd,
        ip: { hop_limit: 255, flow_label: 0x12345, traffic_class: 0 },
        icmp: { type: 133, code: 0 },
      },
    });
  });

  it('SCTP, postrouting, short tag, user action mapper and seed', () => {
    const rec = record(
      {
        network: ipv4('192.168.170.8', '192.168.170.56', 132, { totalLength: 100 }),
        transport: { kind: 'sctp', srcPort: 7, dstPort: 7, verificationTag: 0xdeadbeef, checksum: 0, firstChunkType: 1 },
      },
      { hook: 4, prefix: '[OY-R]: ' },
    );
    const doc = packetToEcs(rec, {
      communityIdSeed: 1,
      actionMapper: createActionMapper({ rules: [{ match: 'oy-r', action: 'refuse', type: 'denied' }] }),
    });
    expect(doc.event).toStrictEqual({ ...EVENT_BASE, type: ['connection', 'denied'], action: 'refuse', outcome: 'success' });
    expect(doc.network).toStrictEqual({
      type: 'ipv4',
      transport: 'sctp',
      iana_number: '132',
      community_id: '1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=',
    });
    expect(doc.source).toStrictEqual({ ip: '192.168.170.8', port: 7, bytes: 100, packets: 1 });
    expect(doc.destination).toStrictEqual({ ip: '192.168.170.56', port: 7 });
    expect(doc.rule).toStrictEqual({ name: '[OY-R]:' });
    expect(doc.netfilter.hook).toBe('postrouting');
    expect(doc.netfilter.sctp).toStrictEqual({ verification_tag: 0xdeadbeef, chunk_type: 1 });
    // default mapper reads the short tag
    expect(packetToEcs(rec).event.action).toBe('reject');
  });

  it('ESP: protocol-only community id, no ports', () => {
    const rec = record(
      { network: ipv4('10.0.0.1', '10.0.0.2', 50, { totalLength: 120 }), transport: { kind: 'esp', spi: 0x1001, sequence: 9 } },
      { prefix: 'INPUT DFLT ACCEPT' },
    );
    const doc = packetToEcs(rec);
    expect(doc.network).toStrictEqual({
      type: 'ipv4',
      transport: 'esp',
      iana_number: '50',
      community_id: communityId({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 50 }),
      direction: 'ingress',
    });
    expect(doc.source).toStrictEqual({ ip: '10.0.0.1', bytes: 120, packets: 1 });
    expect(doc.destination).toStrictEqual({ ip: '10.0.0.2' });
    expect(doc.netfilter.esp).toStrictEqual({ spi: 0x1001, sequence: 9 });
    expect(doc.event.type).toStrictEqual(['connection', 'allowed']);
  });

  it('no transport layer (protocol 46, decode error): protocol-only community id', () => {
    const rec = record(
      { network: ipv4('10.1.12.1', '10.1.12.2', 46, { totalLength: 44 }), error: 'rsvp.unknown' },
      { hook: 2, prefix: '' },
    );
    expect(packetToEcs(rec)).toStrictEqual({
      '@timestamp': TS,
      ecs: { version: ECS_VERSION },
      event: { ...EVENT_BASE, type: ['connection', 'info'] },
      source: { ip: '10.1.12.1', bytes: 44, packets: 1 },
      destination: { ip: '10.1.12.2' },
      network: { type: 'ipv4', transport: 'rsvp', iana_number: '46', community_id: '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=' },
      observer: OBSERVER_BASE,
      agent: AGENT,
      related: { ip: ['10.1.12.1', '10.1.12.2'] },
      netfilter: {
        group: 1,
        family: 'ipv4',
        family_number: 2,
        hook: 'forward',
        hook_number: 2,
        prefix: '',
        kernel_timestamp: true,
        payload_length: 60,
        hw_protocol: 0x0800,
        decode_error: 'rsvp.unknown',
        ip: { ttl: 64, id: 4242, tos: 0, flags: ['df'], fragment_offset: 0 },
      },
    });
  });

  it('no network layer at all', () => {
    const rec = record({ error: 'ipv4.truncated' }, { payloadLength: 3, decodeError: 'ipv4.truncated', family: 0, hook: 0 });
    expect(packetToEcs(rec)).toStrictEqual({
      '@timestamp': TS,
      ecs: { version: ECS_VERSION },
      event: { ...EVENT_BASE, type: ['info'] },
      network: {},
      observer: OBSERVER_BASE,
      agent: AGENT,
      netfilter: {
        group: 1,
        family: 'unspec',
        family_number: 0,
        hook_number: 0,
        prefix: '',
        kernel_timestamp: true,
        payload_length: 3,
        hw_protocol: 0x0800,
        decode_error: 'ipv4.truncated',
      },
    });
  });

  it('ICMP error with the quoted packet, bridge ports, QinQ', () => {
    const rec = record(
      {
        link: {
          kind: 'ethernet',
          src: '02:00:00:00:00:01',
          dst: '02:00:00:00:00:02',
          etherType: 0x0800,
          vlans: [
            { tpid: 0x88a8, id: 100, priority: 0, dei: false },
            { tpid: 0x8100, id: 200, priority: 0, dei: false },
          ],
        },
        network: ipv4('10.0.0.1', '10.0.0.2', 1, { totalLength: 56 }),
        transport: {
          kind: 'icmp',
          type: 3,
          code: 3,
          checksum: 0,
          embedded: {
            network: ipv4('10.0.0.2', '10.0.0.1', 17),
            transport: { kind: 'udp', srcPort: 5000, dstPort: 53, length: 0, checksum: 0 },
          },
        },
      },
      { family: 7, hook: 2, physInInterface: 'veth1', physInIfindex: 9, physOutIfindex: 10 },
    );
    const doc = packetToEcs(rec);
    expect(doc.network).toStrictEqual({
      type: 'ipv4',
      transport: 'icmp',
      iana_number: '1',
      community_id: communityId({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 1, icmpType: 3, icmpCode: 3 }),
      vlan: { id: '100' },
      inner: { vlan: { id: '200' } },
    });
    expect(doc.netfilter.family).toBe('bridge');
    expect(doc.netfilter.hook).toBe('forward');
    expect(doc.netfilter.vlan).toStrictEqual({ id: 100, inner_id: 200 });
    expect(doc.netfilter.physin).toStrictEqual({ name: 'veth1', ifindex: 9 });
    expect(doc.netfilter.physout).toStrictEqual({ ifindex: 10 });
    expect(doc.netfilter.icmp).toStrictEqual({
      type: 3,
      code: 3,
      original: { src_ip: '10.0.0.2', dst_ip: '10.0.0.1', protocol: 17, src_port: 5000, dst_port: 53 },
    });
    expect(doc.source?.mac).toBe('02-00-00-00-00-01');
    expect(doc.destination?.mac).toBe('02-00-00-00-00-02');
  });

  it('ARP: addresses from the ARP payload, no transport, no community id', () => {
    const rec = record(
      {
        network: {
          kind: 'arp',
          hardwareType: 1,
          protocolType: 0x0800,
          hardwareLength: 6,
          protocolLength: 4,
          operation: 1,
          senderMac: '52:54:00:00:00:01',
          senderIp: '192.0.2.1',
          targetMac: '00:00:00:00:00:00',
          targetIp: '192.0.2.2',
        },
      },
      { family: 3, hook: 0, hwProtocol: 0x0806, prefix: 'arp drop' },
    );
    const doc = packetToEcs(rec);
    expect(doc.event.type).toStrictEqual(['denied']);
    expect(doc.network).toStrictEqual({ type: 'arp', direction: 'ingress' });
    expect(doc.source).toStrictEqual({ ip: '192.0.2.1' });
    expect(doc.destination).toStrictEqual({ ip: '192.0.2.2' });
    expect(doc.netfilter.arp).toStrictEqual({ operation: 1, sender_mac: '52:54:00:00:00:01', target_mac: '00:00:00:00:00:00' });
    expect(doc.netfilter.hook).toBe('input');
  });

  it('related.ip is unique; the community id can be turned off; L2HDR gives MACs', () => {
    const rec = record(
      {
        network: ipv4('10.0.0.1', '10.0.0.1', 6),
        transport: {
          kind: 'tcp',
          srcPort: 1,
          dstPort: 2,
          seq: 0,
          ack: 0,
          dataOffset: 5,
          flags: 0x1ff,
          window: 0,
          checksum: 0,
          urgentPointer: 5,
          options: '',
        },
      },
      { l2Header: '0200000000020200000000010800' },
    );
    const doc = packetToEcs(rec, { communityId: false });
    expect(doc.related).toStrictEqual({ ip: ['10.0.0.1'] });
    expect(doc.network.community_id).toBeUndefined();
    expect('community_id' in doc.network).toBe(false);
    expect(doc.source?.mac).toBe('02-00-00-00-00-01');
    expect(doc.destination?.mac).toBe('02-00-00-00-00-02');
    expect(doc.netfilter.tcp).toStrictEqual({
      flags: ['ae', 'cwr', 'ece', 'urg', 'ack', 'psh', 'rst', 'syn', 'fin'],
      window: 0,
      seq: 0,
      ack: 0,
      urgent_pointer: 5,
    });
  });

  it('writes no undefined or null values and survives JSON round trips', () => {
    const rec = record({
      network: ipv4('10.0.0.1', '10.0.0.2', 17),
      transport: { kind: 'udp', srcPort: 1, dstPort: 2, length: 8, checksum: 0 },
    });
    const doc = packetToEcs(rec);
    const walk = (v: unknown): void => {
      expect(v).not.toBeUndefined();
      expect(v).not.toBeNull();
      if (typeof v === 'object') for (const x of Object.values(v as object)) walk(x);
    };
    walk(doc);
    expect(JSON.parse(JSON.stringify(doc))).toStrictEqual(doc);
  });

  it('keeps microseconds across seconds and alternating timestamps', () => {
    const a = packetToEcs(record({}, { timestampUs: T0, receivedUs: T0 + 1_000_000 }));
    expect(a['@timestamp']).toBe('2026-11-21T21:44:50.123456Z');
    expect(a.event.created).toBe('2026-11-21T21:44:51.123456Z');
  });
});
