import { describe, expect, it } from 'vitest';
import { DatagramDecoder } from '../../src/datagram';
import { FLAG_ENOBUFS, FLAG_TRUNCATED, SOURCE_CONNTRACK, SOURCE_CONNTRACK_DUMP, SOURCE_NFLOG, SOURCE_RTNL } from '../../src/ring/layout';
import type { CollectorRecord, GapRecord, PacketRecord } from '../../src/records';
import * as C from '../../src/nflog/constants';
import { attr, datagram, linkMessage, message, nested, nflogMessage, u16be, u32be, u64be } from '../helpers/netlink-builder';

/** IPv4 + UDP, 10.0.0.1:5000 -> 10.0.0.2:53, 4 bytes of data. */
const UDP4 = [
  0x45,
  0x00,
  ...u16be(32),
  ...u16be(0x1234),
  0x40,
  0x00,
  64,
  17,
  0,
  0,
  10,
  0,
  0,
  1,
  10,
  0,
  0,
  2,
  ...u16be(5000),
  ...u16be(53),
  ...u16be(12),
  0,
  0,
  1,
  2,
  3,
  4,
];

function decodeAll(decoder: DatagramDecoder, bytes: Uint8Array, view: DataView, source = SOURCE_NFLOG, flags = 0): CollectorRecord[] {
  const out: CollectorRecord[] = [];
  decoder.decode(bytes, view, 0, bytes.length, source, flags, 1_700_000_000_000_000, out);
  return out;
}

function packetWithSeq(seq: number, group = 1): number[] {
  return nflogMessage(
    group,
    2,
    attr(C.NFULA_PACKET_HDR, [...u16be(0x0800), 3, 0]),
    attr(C.NFULA_SEQ, u32be(seq)),
    attr(C.NFULA_PAYLOAD, UDP4),
  );
}

describe('DatagramDecoder', () => {
  it('decodes every NFLOG attribute of a packet message', () => {
    const decoder = new DatagramDecoder({ labels: new Map([[5, 'wan']]) });
    const links = datagram(linkMessage(16, 2, 'eth0'), linkMessage(16, 3, 'eth1'));
    expect(decodeAll(decoder, links.bytes, links.view, SOURCE_RTNL)).toEqual([]);

    const { bytes, view } = datagram(
      nflogMessage(
        5,
        2,
        attr(C.NFULA_PACKET_HDR, [...u16be(0x0800), 1, 0]),
        attr(C.NFULA_MARK, u32be(0xdeadbeef)),
        attr(C.NFULA_TIMESTAMP, [...u64be(1_700_000_123), ...u64be(456_789)]),
        attr(C.NFULA_IFINDEX_INDEV, u32be(2)),
        attr(C.NFULA_IFINDEX_OUTDEV, u32be(3)),
        attr(C.NFULA_IFINDEX_PHYSINDEV, u32be(2)),
        attr(C.NFULA_IFINDEX_PHYSOUTDEV, u32be(9)),
        attr(C.NFULA_HWADDR, [...u16be(6), 0, 0, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0]),
        attr(C.NFULA_PREFIX, 'IPTABLES: DROP '),
        attr(C.NFULA_UID, u32be(1000)),
        attr(C.NFULA_GID, u32be(100)),
        attr(C.NFULA_SEQ, u32be(0)),
        attr(C.NFULA_SEQ_GLOBAL, u32be(77)),
        attr(C.NFULA_HWTYPE, u16be(1)),
        attr(C.NFULA_HWLEN, u16be(14)),
        attr(C.NFULA_HWHEADER, [0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x08, 0x00]),
        attr(C.NFULA_CT_INFO, u32be(2)),
        nested(C.NFULA_VLAN, attr(C.NFULA_VLAN_PROTO, u16be(0x8100)), attr(C.NFULA_VLAN_TCI, u16be(0x2064))),
        attr(C.NFULA_L2HDR, [0xab, 0xcd]),
        attr(C.NFULA_PAYLOAD, UDP4),
      ),
    );
    const [record] = decodeAll(decoder, bytes, view) as PacketRecord[];
    expect(record).toMatchObject({
      kind: 'packet',
      group: 5,
      groupLabel: 'wan',
      family: 2,
      hook: 1,
      hwProtocol: 0x0800,
      prefix: 'IPTABLES: DROP ',
      timestampUs: 1_700_000_123_456_789,
      kernelTimestamp: true,
      mark: 0xdeadbeef,
      inIfindex: 2,
      inInterface: 'eth0',
      outIfindex: 3,
      outInterface: 'eth1',
      physInIfindex: 2,
      physOutIfindex: 9,
      hwAddr: '02:aa:bb:cc:dd:ee',
      uid: 1000,
      gid: 100,
      seq: 0,
      seqGlobal: 77,
      hwType: 1,
      hwLen: 14,
      ctInfo: 2,
      vlan: { proto: 0x8100, tci: 0x2064, id: 0x064 },
      l2Header: 'abcd',
      payloadLength: UDP4.length,
    });
    expect(record.physOutInterface).toBeUndefined();
    expect(record.packet.link).toMatchObject({ src: '02:aa:bb:cc:dd:ee', dst: '02:11:22:33:44:55', etherType: 0x0800 });
    expect(record.packet.network).toMatchObject({ kind: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', ttl: 64, id: 0x1234 });
    expect(record.packet.transport).toMatchObject({ kind: 'udp', srcPort: 5000, dstPort: 53 });
    expect(record.decodeError).toBeUndefined();
    expect(decoder.counters).toMatchObject({ packets: 1, lost: 0, gaps: 0, decodeErrors: 0 });
  });

  it('gives records of one kind of entry one set of keys, in one order; rare fields only when the entry has them', () => {
    const decoder = new DatagramDecoder();
    const { bytes, view } = datagram(packetWithSeq(0), packetWithSeq(1));
    const [a, b] = decodeAll(decoder, bytes, view) as PacketRecord[];
    expect(Object.keys(a)).toEqual(Object.keys(b));
    const rare = ['groupLabel', 'physInIfindex', 'physOutIfindex', 'physInInterface', 'seqGlobal', 'vlan', 'ct', 'ctInfo'];
    for (const key of [...rare, 'l2Header', 'payload', 'netns']) expect(Object.keys(a)).not.toContain(key);
    // The common ones are keys (undefined when absent), so that the entries of most rules share one hidden class.
    expect(Object.keys(a)).toEqual(
      expect.arrayContaining(['mark', 'inIfindex', 'outInterface', 'hwHeader', 'uid', 'gid', 'seq', 'decodeError']),
    );
    expect(a.seq).toBe(0);
    expect(b.seq).toBe(1);
    const bridged = datagram(
      nflogMessage(
        1,
        2,
        attr(C.NFULA_PACKET_HDR, [...u16be(0x0800), 3, 0]),
        attr(C.NFULA_IFINDEX_PHYSINDEV, u32be(0)),
        attr(C.NFULA_PAYLOAD, UDP4),
      ),
    );
    const [withPort] = decodeAll(decoder, bridged.bytes, bridged.view) as PacketRecord[];
    expect(withPort.physInIfindex).toBe(0);
    expect(Object.keys(withPort)).toContain('physInIfindex');
    expect(Object.keys(withPort)).not.toContain('physOutIfindex');
  });

  it('uses the receive time when the kernel sent no timestamp', () => {
    const decoder = new DatagramDecoder();
    const { bytes, view } = datagram(packetWithSeq(0));
    const [record] = decodeAll(decoder, bytes, view) as PacketRecord[];
    expect(record.timestampUs).toBe(1_700_000_000_000_000);
    expect(record.kernelTimestamp).toBe(false);
  });

  it('turns a jump in sequence numbers into a gap record with the exact count', () => {
    const decoder = new DatagramDecoder({ boundGroups: [1] });
    const { bytes, view } = datagram(packetWithSeq(0), packetWithSeq(1), packetWithSeq(5), packetWithSeq(6));
    const records = decodeAll(decoder, bytes, view);
    expect(records.map((r) => r.kind)).toEqual(['packet', 'packet', 'gap', 'packet', 'packet']);
    expect(records[2]).toMatchObject({ kind: 'gap', source: 'nflog', reason: 'sequence', count: 3, group: 1, fromSeq: 2, toSeq: 4 });
    expect(decoder.counters).toMatchObject({ packets: 4, lost: 3, gaps: 1 });
  });

  it('decodes a datagram in parts with a limit, going on where it stopped', () => {
    const decoder = new DatagramDecoder({ boundGroups: [1] });
    const { bytes, view } = datagram(packetWithSeq(0), packetWithSeq(1), packetWithSeq(5), packetWithSeq(6), packetWithSeq(7));
    const out: CollectorRecord[] = [];
    const decode = (limit: number): number =>
      decoder.decode(bytes, view, 0, bytes.length, SOURCE_NFLOG, 0, 1_700_000_000_000_000, out, limit);
    expect(decode(2)).toBe(2);
    expect(decoder.unfinished).toBe(true);
    // The gap before seq 5 counts toward the limit, as a record of the batch.
    expect(decode(2)).toBe(2);
    expect(decoder.unfinished).toBe(true);
    expect(decode(10)).toBe(2);
    expect(decoder.unfinished).toBe(false);
    expect(out.map((r) => (r.kind === 'packet' ? r.seq : r.kind))).toEqual([0, 1, 'gap', 5, 6, 7]);
    expect(decoder.counters).toMatchObject({ datagrams: 1, packets: 5, lost: 3, gaps: 1 });
  });

  it('counts entries lost before the first one it saw of a group it bound', () => {
    const decoder = new DatagramDecoder({ boundGroups: [1] });
    const { bytes, view } = datagram(packetWithSeq(4));
    const records = decodeAll(decoder, bytes, view);
    expect(records[0]).toMatchObject({ kind: 'gap', count: 4, fromSeq: 0, toSeq: 3 });
  });

  it('keeps sequences per group', () => {
    const decoder = new DatagramDecoder({ boundGroups: [1, 2] });
    const { bytes, view } = datagram(packetWithSeq(0, 1), packetWithSeq(0, 2), packetWithSeq(1, 1), packetWithSeq(1, 2));
    expect(decodeAll(decoder, bytes, view).every((r) => r.kind === 'packet')).toBe(true);
  });

  it('reports ENOBUFS markers as gaps of unknown size', () => {
    const decoder = new DatagramDecoder();
    const bytes = new Uint8Array(0);
    const [gap] = decodeAll(decoder, bytes, new DataView(bytes.buffer), SOURCE_NFLOG, FLAG_ENOBUFS) as GapRecord[];
    expect(gap).toMatchObject({ kind: 'gap', reason: 'enobufs', count: null });
    expect(decoder.counters.lost).toBe(0);
    expect(decoder.counters.unresolvedEnobufs).toBe(1);
    // The next entry's sequence number counts what was dropped.
    const next = datagram(packetWithSeq(0), packetWithSeq(9));
    decodeAll(decoder, next.bytes, next.view);
    expect(decoder.counters).toMatchObject({ lost: 8, unresolvedEnobufs: 0 });
  });

  it('reports a truncated datagram, keeping the whole messages before the cut', () => {
    const decoder = new DatagramDecoder();
    const whole = datagram(packetWithSeq(0), packetWithSeq(1));
    const cut = whole.bytes.slice(0, whole.bytes.length - 10);
    const records = decodeAll(decoder, cut, new DataView(cut.buffer), SOURCE_NFLOG, FLAG_TRUNCATED);
    expect(records.map((r) => r.kind)).toEqual(['packet', 'gap']);
    expect(records[1]).toMatchObject({ reason: 'truncated' });
  });

  it('updates interface names as links come and go', () => {
    const decoder = new DatagramDecoder();
    const add = datagram(linkMessage(16, 7, 'veth-a'));
    decodeAll(decoder, add.bytes, add.view, SOURCE_RTNL);
    expect(decoder.links.name(7)).toBe('veth-a');
    const rename = datagram(linkMessage(16, 7, 'wan0'));
    decodeAll(decoder, rename.bytes, rename.view, SOURCE_RTNL);
    expect(decoder.links.name(7)).toBe('wan0');
    const del = datagram(linkMessage(17, 7));
    decodeAll(decoder, del.bytes, del.view, SOURCE_RTNL);
    expect(decoder.links.name(7)).toBeUndefined();
  });

  it('never throws on hostile bytes and counts what it could not decode', () => {
    let state = 12345;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state;
    };
    const seed = datagram(packetWithSeq(0), linkMessage(16, 2, 'eth0'));
    for (let round = 0; round < 20_000; round++) {
      const bytes = seed.bytes.slice(0, random() % (seed.bytes.length + 1));
      for (let flips = random() % 6; flips > 0; flips--) bytes[random() % Math.max(1, bytes.length)] = random() & 0xff;
      const decoder = new DatagramDecoder({ boundGroups: [1] });
      const out: CollectorRecord[] = [];
      const view = new DataView(bytes.buffer);
      expect(() => decoder.decode(bytes, view, 0, bytes.length, round % 2 ? SOURCE_NFLOG : SOURCE_RTNL, 0, 0, out)).not.toThrow();
      expect(out.length).toBeLessThan(64);
    }
  });

  it('reports a conntrack dump that the kernel ended with an error; an ack (error 0) is no loss', () => {
    const decoder = new DatagramDecoder();
    const errorAnswer = (errno: number): number[] =>
      message(2, [...new Uint8Array(new Int32Array([-errno]).buffer), ...new Array(16).fill(0)]);
    const { bytes, view } = datagram(errorAnswer(16), errorAnswer(0));
    const records = decodeAll(decoder, bytes, view, SOURCE_CONNTRACK_DUMP);
    expect(records).toEqual([
      expect.objectContaining({
        kind: 'gap',
        source: 'conntrack',
        reason: 'dump-failed',
        count: null,
        detail: 'the kernel ended a table dump with errno 16',
      }),
    ]);
  });

  it('counts the conntrack events the kernel dropped, from the count the reader thread writes', () => {
    const decoder = new DatagramDecoder();
    const counted = new Uint8Array(new Uint32Array([1234]).buffer);
    const [gap] = decodeAll(decoder, counted, new DataView(counted.buffer), SOURCE_CONNTRACK, FLAG_ENOBUFS) as GapRecord[];
    expect(gap).toMatchObject({ kind: 'gap', source: 'conntrack', reason: 'enobufs', count: 1234 });
    expect(decoder.counters.lost).toBe(1234);
    const unknown = new Uint8Array(0);
    const [other] = decodeAll(decoder, unknown, new DataView(unknown.buffer), SOURCE_CONNTRACK, FLAG_ENOBUFS) as GapRecord[];
    expect(other).toMatchObject({ source: 'conntrack', reason: 'enobufs', count: null });
    expect(decoder.counters.lost).toBe(1234);
  });

  it('reports an overflow of the dump socket as an incomplete dump, not as lost events', () => {
    const decoder = new DatagramDecoder();
    const bytes = new Uint8Array(0);
    const records = decodeAll(decoder, bytes, new DataView(bytes.buffer), SOURCE_CONNTRACK_DUMP, FLAG_ENOBUFS);
    expect(records).toEqual([expect.objectContaining({ kind: 'gap', source: 'conntrack', reason: 'dump-failed', count: null })]);
    expect((records[0] as GapRecord).detail).toMatch(/ENOBUFS.*incomplete/);
    expect(decoder.counters.unresolvedEnobufs).toBe(0);
  });
});

describe('NFLOG prefix text (remembered for the last 16 prefixes)', () => {
  function prefixOf(decoder: DatagramDecoder, prefixBytes: number[]): string | undefined {
    const d = datagram(nflogMessage(1, 2, attr(C.NFULA_PACKET_HDR, [...u16be(0x0800), 3, 0]), attr(C.NFULA_PREFIX, prefixBytes)));
    const [record] = decodeAll(decoder, d.bytes, d.view) as PacketRecord[];
    return record.prefix;
  }
  const bytesOf = (text: string): number[] => Array.from(Buffer.from(text, 'latin1'));

  it('ends the text at the first NUL, or at the attribute end without one, whatever was seen before', () => {
    const decoder = new DatagramDecoder();
    // Each case in turn after the others: one that starts like a known prefix, a known prefix with more
    // after its NUL, without the NUL, with an embedded NUL, empty.
    const cases: Array<[number[], string]> = [
      [[...bytesOf('DROP '), 0], 'DROP '],
      [[...bytesOf('DROP 2'), 0], 'DROP 2'],
      [[...bytesOf('DROP '), 0, ...bytesOf('junk'), 0], 'DROP '],
      [bytesOf('DROP '), 'DROP '],
      [bytesOf('DROP'), 'DROP'],
      [[...bytesOf('DR'), 0, ...bytesOf('OP '), 0], 'DR'],
      [[0], ''],
      [[], ''],
      [[...bytesOf('DROP 2'), 0, 0, 0], 'DROP 2'],
      [[...bytesOf('\u00e9t\u00e9'), 0], '\u00e9t\u00e9'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [bytes, text] of round === 1 ? cases.slice().reverse() : cases) expect(prefixOf(decoder, bytes)).toBe(text);
    }
  });

  it('gives the right text for more distinct prefixes than it remembers, seen again in turn', () => {
    const decoder = new DatagramDecoder();
    const texts = Array.from({ length: 40 }, (_, i) => `IPTABLES ${i % 2 === 0 ? 'DROP' : 'ACCEPT'} ${i}: `);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < texts.length; i++) {
        const text = texts[(i * (round + 1)) % texts.length];
        expect(prefixOf(decoder, [...bytesOf(text), 0])).toBe(text);
        expect(prefixOf(decoder, [...bytesOf(texts[0]), 0])).toBe(texts[0]);
      }
    }
  });
});
