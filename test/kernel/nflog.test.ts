// The collector against the real kernel: two namespaces joined by veth,
// nft and iptables NFLOG rules, IPv4/IPv6 TCP, UDP and ICMP traffic, and
// every field the collector reports checked against what the lab knows.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { packetToEcs } from '../../src/ecs/packet';
import { communityId } from '../../src/ecs/community-id';
import { NetnsLab } from '../../src/lab/netns';
import { connectTcp, ping, sendUdp } from '../../src/lab/traffic';
import type { PacketRecord } from '../../src/records';
import type { Ipv4Header, Ipv6Header, TcpHeader, UdpHeader } from '../../src/packet/types';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';

const MAC_A = '02:00:00:77:01:01';
const MAC_B = '02:00:00:77:01:02';

describeKernel('NFLOG on the real kernel', () => {
  const lab = new NetnsLab('nfc-t');
  let inbound: Gatherer;
  let outbound: Gatherer;

  beforeAll(() => {
    lab.addNamespace('a');
    lab.addNamespace('b');
    lab.addLink({
      a: { ns: 'a', ifname: 'veth-a', mac: MAC_A, addresses: ['10.77.1.1/24', 'fd77:1::1/64'] },
      b: { ns: 'b', ifname: 'veth-b', mac: MAC_B, addresses: ['10.77.1.2/24', 'fd77:1::2/64'] },
    });
    lab.nft(
      'b',
      `table inet nfc {
        chain input {
          type filter hook input priority 0;
          udp dport 5001 meta mark set 0x2a log prefix "UDP-IN ACCEPT " group 11
          icmp type echo-request log prefix "[OY-A]: " group 11
          icmpv6 type echo-request log prefix "icmp6.in.dropped" group 11
        }
      }`,
    );
    for (const tool of ['iptables', 'ip6tables']) {
      lab.exec('b', tool, [
        '-A',
        'INPUT',
        '-p',
        'tcp',
        '--syn',
        '--dport',
        '5002',
        '-j',
        'NFLOG',
        '--nflog-group',
        '12',
        '--nflog-prefix',
        'IPTABLES: DROP',
      ]);
    }
    lab.nft(
      'a',
      `table inet nfcout {
        chain output {
          type filter hook output priority 0;
          meta skuid 4242 udp dport 5003 log prefix "OUT " group 13
        }
      }`,
    );
    inbound = new Gatherer(createCollector({ nflog: [11, { group: 12, label: 'legacy' }], netns: lab.name('b') }));
    outbound = new Gatherer(createCollector({ nflog: [13], netns: lab.name('a') }));
  });

  afterAll(async () => {
    await inbound?.close();
    await outbound?.close();
    lab.destroy();
  });

  it('reports each inbound packet once, with prefix, group, mark, interface, MACs, addresses and ports', async () => {
    sendUdp(lab, 'a', '10.77.1.2', 5001, 1, 32, { srcPort: 40001 });
    sendUdp(lab, 'a', 'fd77:1::2', 5001, 1, 32, { srcPort: 40002 });
    ping(lab, 'a', '10.77.1.2');
    ping(lab, 'a', 'fd77:1::2');
    connectTcp(lab, 'a', '10.77.1.2', 5002);
    connectTcp(lab, 'a', 'fd77:1::2', 5002);
    expect(await inbound.until(() => inbound.packets().length >= 6)).toBe(true);
    // Nothing more arrives: exactly one event per packet sent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const packets = inbound.packets();
    expect(packets).toHaveLength(6);
    expect(inbound.gaps()).toEqual([]);

    const ifindex = lab.ifindex('b', 'veth-b');
    for (const p of packets) {
      expect(p.hook).toBe(1);
      expect(p.inIfindex).toBe(ifindex);
      expect(p.inInterface).toBe('veth-b');
      expect(p.outIfindex).toBeUndefined();
      expect(p.hwAddr).toBe(MAC_A);
      expect(p.packet.link).toMatchObject({ src: MAC_A, dst: MAC_B });
      expect(p.kernelTimestamp || p.timestampUs > 0).toBe(true);
      expect(p.decodeError).toBeUndefined();
    }

    const find = (pred: (p: PacketRecord) => boolean): PacketRecord => {
      const found = packets.filter(pred);
      expect(found).toHaveLength(1);
      return found[0];
    };
    const udp4 = find((p) => p.family === 2 && p.packet.transport?.kind === 'udp');
    expect(udp4).toMatchObject({ group: 11, prefix: 'UDP-IN ACCEPT ', mark: 0x2a, hwProtocol: 0x0800 });
    expect(udp4.packet.network).toMatchObject({ kind: 'ipv4', src: '10.77.1.1', dst: '10.77.1.2', totalLength: 60 });
    expect(udp4.packet.transport).toMatchObject({ srcPort: 40001, dstPort: 5001, length: 40 });

    const udp6 = find((p) => p.family === 10 && p.packet.transport?.kind === 'udp');
    expect(udp6).toMatchObject({ group: 11, mark: 0x2a, hwProtocol: 0x86dd });
    expect(udp6.packet.network).toMatchObject({ kind: 'ipv6', src: 'fd77:1::1', dst: 'fd77:1::2', payloadLength: 40 });
    expect((udp6.packet.transport as UdpHeader).srcPort).toBe(40002);

    const icmp = find((p) => p.packet.transport?.kind === 'icmp');
    expect(icmp).toMatchObject({ group: 11, prefix: '[OY-A]: ' });
    expect(icmp.mark).toBeUndefined();
    expect(icmp.packet.transport).toMatchObject({ type: 8, code: 0 });

    const icmp6 = find((p) => p.packet.transport?.kind === 'icmpv6');
    expect(icmp6).toMatchObject({ group: 11, prefix: 'icmp6.in.dropped' });
    expect(icmp6.packet.transport).toMatchObject({ type: 128, code: 0 });

    const tcp4 = find((p) => p.family === 2 && p.packet.transport?.kind === 'tcp');
    expect(tcp4).toMatchObject({ group: 12, groupLabel: 'legacy', prefix: 'IPTABLES: DROP' });
    expect((tcp4.packet.transport as TcpHeader).dstPort).toBe(5002);
    expect((tcp4.packet.transport as TcpHeader).flags & 0x12).toBe(0x02);
    const tcp6 = find((p) => p.family === 10 && p.packet.transport?.kind === 'tcp');
    expect((tcp6.packet.network as Ipv6Header).src).toBe('fd77:1::1');

    // Sequence numbers of each group start at 0 and have no holes.
    for (const group of [11, 12]) {
      expect(packets.filter((p) => p.group === group).map((p) => p.seq)).toEqual(packets.filter((p) => p.group === group).map((_, i) => i));
    }

    // The same packets as ECS documents.
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the document as its JSON reader would
    const doc = packetToEcs(udp4) as Record<string, any>;
    expect(doc.source).toMatchObject({ ip: '10.77.1.1', port: 40001, bytes: 60 });
    expect(doc.destination).toMatchObject({ ip: '10.77.1.2', port: 5001 });
    expect(doc.source.mac).toBe(MAC_A.toUpperCase().replace(/:/g, '-'));
    expect(doc.destination.mac).toBe(MAC_B.toUpperCase().replace(/:/g, '-'));
    expect(doc.network).toMatchObject({ transport: 'udp', type: 'ipv4', iana_number: '17' });
    expect(doc.network.community_id).toBe(
      communityId({ srcIp: '10.77.1.1', dstIp: '10.77.1.2', protocol: 17, srcPort: 40001, dstPort: 5001 }),
    );
    expect(doc.observer.ingress.interface).toMatchObject({ name: 'veth-b', id: String(ifindex) });
    expect(doc.event).toMatchObject({ action: 'accept' });
    expect(doc.event.type).toContain('allowed');
    expect(doc.rule.name).toBe('UDP-IN ACCEPT');
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the document as its JSON reader would
    const tcpDoc = packetToEcs(tcp4) as Record<string, any>;
    expect(tcpDoc.event).toMatchObject({ action: 'drop' });
    expect(tcpDoc.event.type).toContain('denied');
    expect(tcpDoc.netfilter.group_label).toBe('legacy');
  });

  it('reports the uid and gid of local senders and the output interface', async () => {
    sendUdp(lab, 'a', '10.77.1.2', 5003, 3, 8, { uid: 4242, gid: 4343 });
    sendUdp(lab, 'a', '10.77.1.2', 5003, 2, 8); // root: not matched by the rule
    expect(await outbound.until(() => outbound.packets().length >= 3)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const packets = outbound.packets();
    expect(packets).toHaveLength(3);
    for (const p of packets) {
      expect(p).toMatchObject({ group: 13, hook: 3, uid: 4242, gid: 4343, prefix: 'OUT ', outInterface: 'veth-a' });
      expect(p.outIfindex).toBe(lab.ifindex('a', 'veth-a'));
      expect((p.packet.network as Ipv4Header).dst).toBe('10.77.1.2');
    }
  });

  it('learns interfaces that appear while it runs', async () => {
    lab.exec('b', 'ip', ['link', 'add', 'late0', 'type', 'veth', 'peer', 'name', 'late1']);
    const index = lab.ifindex('b', 'late0');
    // The link event travels through the same ring as packets.
    expect(await inbound.until(() => inbound.interfaces().get(index) === 'late0')).toBe(true);
    lab.exec('b', 'ip', ['link', 'del', 'late0']);
    expect(await inbound.until(() => !inbound.interfaces().has(index))).toBe(true);
  });
});
