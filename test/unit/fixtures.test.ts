// Datagrams recorded from the real kernel (scripts/record-fixtures.js),
// decoded without the kernel: every field the lab set up is checked.
import { describe, expect, it } from 'vitest';
import { DatagramDecoder } from '../../src/datagram';
import { packetToEcs } from '../../src/ecs/packet';
import type { CollectorRecord, PacketRecord } from '../../src/records';
import type { TcpHeader } from '../../src/packet/types';
import { decodeFixture, loadFixture } from '../helpers/fixtures';

const MAC_A = '02:00:00:66:01:01';
const MAC_B = '02:00:00:66:01:02';

function packets(name: string, decoder = new DatagramDecoder({ boundGroups: [41, 42] })): PacketRecord[] {
  const records = decodeFixture(name, decoder);
  expect(records.filter((r) => r.kind === 'gap')).toEqual([]);
  return records.filter((r): r is PacketRecord => r.kind === 'packet');
}

describe('recorded NFLOG datagrams', () => {
  it('inbound: one record per packet, interfaces from the link dump, MACs, marks, prefixes', () => {
    const decoder = new DatagramDecoder({ boundGroups: [41] });
    const list = packets('nflog-inbound.json', decoder);
    expect(list).toHaveLength(6);
    expect(decoder.counters).toMatchObject({ packets: 6, lost: 0, gaps: 0, decodeErrors: 0 });
    expect(list.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const p of list) {
      expect(p).toMatchObject({ group: 41, hook: 1, inInterface: 'veth-b', hwAddr: MAC_A, hwType: 1, hwLen: 14, kernelTimestamp: true });
      expect(p.packet.link).toMatchObject({ src: MAC_A, dst: MAC_B });
      expect(p.decodeError).toBeUndefined();
    }
    const [udp4, udp6, tcp4, tcp6, icmp, icmp6] = list;
    expect(udp4).toMatchObject({ family: 2, mark: 0x2a, prefix: 'IPTABLES: ACCEPT ' });
    expect(udp4.packet.network).toMatchObject({ src: '10.66.1.1', dst: '10.66.1.2', ttl: 64, protocol: 17 });
    expect(udp4.packet.transport).toMatchObject({ kind: 'udp', srcPort: 40001, dstPort: 5001, length: 32 });
    expect(udp6).toMatchObject({ family: 10, mark: 0x2a });
    expect(udp6.packet.network).toMatchObject({ src: 'fd66:1::1', dst: 'fd66:1::2', hopLimit: 64 });
    expect(tcp4).toMatchObject({ prefix: '[OY-D]: ' });
    expect(tcp4.packet.transport).toMatchObject({ kind: 'tcp', dstPort: 5002 });
    expect((tcp4.packet.transport as TcpHeader).flags).toBe(0x02);
    expect((tcp4.packet.transport as TcpHeader).mss).toBe(1460);
    expect(tcp6.packet.transport).toMatchObject({ kind: 'tcp', dstPort: 5002 });
    expect((tcp6.packet.transport as TcpHeader).mss).toBe(1440);
    expect(icmp).toMatchObject({ prefix: 'INPUT DFLT DROP ' });
    expect(icmp.packet.transport).toMatchObject({ kind: 'icmp', type: 8, code: 0 });
    expect(icmp6).toMatchObject({ prefix: 'tcp.in.dropped' });
    expect(icmp6.packet.transport).toMatchObject({ kind: 'icmpv6', type: 128 });

    const actions = list.map((p) => packetToEcs(p).event.action);
    expect(actions).toEqual(['accept', 'accept', 'drop', 'drop', 'drop', 'drop']);
  });

  it('outbound: uid/gid of the local sender and the output interface', () => {
    const list = packets('nflog-outbound-uid.json');
    expect(list).toHaveLength(2);
    for (const p of list) {
      expect(p).toMatchObject({ group: 42, hook: 3, uid: 4242, gid: 4242, outInterface: 'veth-a', prefix: 'OUT ' });
      expect(p.inIfindex).toBeUndefined();
      expect(p.packet.transport).toMatchObject({ kind: 'udp', dstPort: 5003 });
    }
  });

  it('a decoder that misses datagrams reports the exact count from sequence numbers', () => {
    const decoder = new DatagramDecoder({ boundGroups: [41] });
    // Replay the fixture without its 3rd and 4th NFLOG datagrams (one entry each: seq 2 and 3).
    const all = loadFixture('nflog-inbound.json').datagrams;
    const nflog = all.filter((d) => d.source === 1);
    const kept = all.filter((d) => d !== nflog[2] && d !== nflog[3]);
    const out: CollectorRecord[] = [];
    for (const d of kept) {
      const bytes = new Uint8Array(Buffer.from(d.hex, 'hex'));
      decoder.decode(bytes, new DataView(bytes.buffer), 0, bytes.length, d.source, d.flags, d.receivedUs, out);
    }
    const gaps = out.filter((r) => r.kind === 'gap');
    expect(gaps).toEqual([expect.objectContaining({ reason: 'sequence', count: 2, fromSeq: 2, toSeq: 3, group: 41 })]);
  });
});
