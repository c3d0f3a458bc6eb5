// EcsPacketLines writes lines through one JsonWriter, reused from line to
// line, and fills the template of a run of one shape for the next packets of
// that shape. Nothing of one line may leak into the next, and a template may
// serve only records of its shape: change every field of a record in turn,
// right after a run of its original made the template, and the line must
// still equal JSON.stringify(packetToEcs()).
import { describe, expect, it } from 'vitest';
import { packetToEcs, SLOT, type EcsOptions } from '../../../src/ecs/packet';
import { EcsPacketLines, packetToEcsJson } from '../../../src/ecs/packet-json';
import { DatagramDecoder } from '../../../src/datagram';
import type { CollectorRecord, PacketRecord } from '../../../src/records';
import { loadFixture } from '../../helpers/fixtures';
import { LineEncoder } from '../../../src/format/line-target';
import { formatTimestampUs, writeTimestampUs } from '../../../src/ecs/timestamp';
import { writeJsonNumber } from '../../../src/ecs/doc-writer';
import { communityId } from '../../../src/ecs/community-id';
import { ipv4, ipv6, record, sampleRecords } from '../../helpers/packet-records';
import { changedAt, leafVariants } from '../../helpers/record-variants';

type Json = Record<string, unknown>;

/** Optional fields a record may lack, with a value to give them. */
const ADDED_RECORD_FIELDS: Json = {
  groupLabel: 'lan',
  mark: 7,
  uid: 1000,
  gid: 100,
  ctInfo: 2,
  seq: 11,
  seqGlobal: 12,
  inIfindex: 4,
  outIfindex: 5,
  physInIfindex: 6,
  physOutIfindex: 8,
  inInterface: 'in0',
  outInterface: 'out0',
  physInInterface: 'pin0',
  physOutInterface: 'pout0',
  hwAddr: '02:00:00:00:00:99',
  l2Header: '020000000002020000000001080045',
  vlan: { proto: 0x8100, tci: 5, id: 5 },
  decodeError: 'nflog.truncated',
};
const ADDED_TRANSPORT_FIELDS: Json = { mss: 1460, id: 3, sequence: 4, options: '020405B4' };

/** Every variant of a record that changes one leaf or adds one optional field. */
function variants(base: PacketRecord): PacketRecord[] {
  const out = leafVariants(base);
  for (const [field, value] of Object.entries(ADDED_RECORD_FIELDS)) {
    if ((base as unknown as Json)[field] === undefined) {
      out.push(changedAt(base, [field], value));
    } else {
      const without = structuredClone(base);
      delete (without as unknown as Json)[field];
      out.push(without);
    }
  }
  const tr = base.packet.transport as Json | undefined;
  if (tr !== undefined) {
    for (const [field, value] of Object.entries(ADDED_TRANSPORT_FIELDS))
      if (field in tr || tr.kind === 'tcp' || tr.kind === 'icmp') out.push(changedAt(base, ['packet', 'transport', field], value));
  }
  if (base.packet.link === undefined) {
    out.push(
      changedAt(base, ['packet', 'link'], {
        kind: 'ethernet',
        src: '02:00:00:00:00:05',
        dst: '02:00:00:00:00:06',
        etherType: 0x800,
        vlans: [],
      }),
    );
  } else {
    out.push(changedAt(base, ['packet', 'link', 'vlans'], [...base.packet.link.vlans, { tpid: 0x8100, id: 77, priority: 0, dei: false }]));
  }
  out.push(changedAt(base, ['packet', 'error'], 'tcp.truncated'));
  return out.filter((v) => v.packet.network !== undefined);
}

function decodedFixtures(): PacketRecord[] {
  const out: CollectorRecord[] = [];
  for (const name of ['nflog-inbound.json', 'nflog-outbound-uid.json']) {
    for (const d of loadFixture(name).datagrams) {
      if (d.source !== 1) continue;
      const bytes = new Uint8Array(Buffer.from(d.hex, 'hex'));
      new DatagramDecoder().decode(bytes, new DataView(bytes.buffer), 0, bytes.length, 1, 0, d.receivedUs, out);
    }
  }
  return out.filter((r): r is PacketRecord => r.kind === 'packet');
}

/** The line EcsPacketLines.writeLine() puts into an output buffer. */
function written(lines: EcsPacketLines, r: PacketRecord): string {
  const encoder = new LineEncoder();
  lines.writeLine(r, encoder);
  const text = Buffer.concat(encoder.take().map((c) => c.bytes)).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1);
}

const OPTION_SETS: Array<EcsOptions | undefined> = [
  undefined,
  { groupLabels: { 1: 'lan' }, observer: { hostname: 'gw' }, communityIdSeed: 3 },
];

describe('ECS packet lines', () => {
  const tcpWithOptions = record(
    {
      network: ipv4('192.0.2.1', '192.0.2.2', 6),
      transport: {
        kind: 'tcp',
        srcPort: 1,
        dstPort: 2,
        seq: 3,
        ack: 4,
        dataOffset: 8,
        flags: 0x18,
        window: 5,
        checksum: 0,
        urgentPointer: 0,
        options: '0101080A00000001',
      },
    },
    { seq: 1, seqGlobal: 2 },
  );
  const icmpv6Echo = record(
    { network: ipv6('2001:db8::1', '2001:db8::2', 58), transport: { kind: 'icmpv6', type: 128, code: 0, checksum: 0, id: 9, sequence: 1 } },
    { family: 10 },
  );
  const bases = [...sampleRecords(), ...decodedFixtures(), tcpWithOptions, icmpv6Echo];

  it('follows every change of a field after its original went through the same writer', () => {
    expect(bases.length).toBeGreaterThan(15);
    let checked = 0;
    for (const options of OPTION_SETS) {
      const lines = new EcsPacketLines(options);
      let templated = 0;
      for (const base of bases) {
        // A run of one shape: its template is made, and the variants below are compared with it.
        for (let k = 0; k < 20; k++) lines.line(base);
        if ((lines as unknown as { templates: Array<{ record: unknown }> }).templates[0]?.record === base) templated++;
        for (const variant of variants(base)) {
          const expected = JSON.stringify(packetToEcs(base, options));
          expect(lines.line(base)).toBe(expected);
          expect(lines.line(base)).toBe(expected);
          expect(written(lines, base)).toBe(expected);
          const expectedVariant = JSON.stringify(packetToEcs(variant, options));
          if (checked % 2 === 0) expect(lines.line(variant)).toBe(expectedVariant);
          else expect(written(lines, variant)).toBe(expectedVariant);
          checked++;
        }
      }
      // Most shapes get a template.
      expect(templated).toBeGreaterThan(bases.length / 2);
    }
    expect(checked).toBeGreaterThan(1500);
  });

  it('fills one template for a scan: every packet a new flow, and the slots present or not as each packet has them', () => {
    let state = 7;
    const random = (n: number): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    /** A packet of a scan from the base record: new addresses, ports, IP id, lengths, sequence numbers, times. */
    const scanned = (base: PacketRecord, i: number): PacketRecord => {
      const r = structuredClone(base);
      r.timestampUs += i * 37;
      r.receivedUs += i * 41;
      if (r.seq !== undefined) r.seq += i;
      if (r.seqGlobal !== undefined) r.seqGlobal += i;
      r.payloadLength += random(3);
      const net = r.packet.network;
      if (net?.kind === 'ipv4') {
        net.dst = `198.51.${random(3)}.${random(256)}`;
        net.id = random(65536);
        net.totalLength += random(3);
        net.checksum = random(65536);
        // Now and then a packet to itself: related.ip holds one address.
        if (random(10) === 0) net.dst = net.src;
      } else if (net?.kind === 'ipv6') {
        net.dst = `2001:db8:5ca::${random(65536).toString(16)}`;
        net.flowLabel = random(0x100000);
        net.payloadLength += random(3);
      }
      const tr = r.packet.transport;
      if (tr?.kind === 'tcp') {
        tr.srcPort = 1024 + random(60000);
        tr.dstPort = random(65536);
        tr.seq = random(2 ** 32);
        tr.ack = random(2);
        tr.window = random(65536);
        // Options come and go: the slot is written only when there are some.
        tr.options = random(2) === 0 ? '' : '020405B4'.slice(0, 2 * (1 + random(4)));
      } else if (tr?.kind === 'udp') {
        tr.dstPort = random(65536);
        tr.length = 8 + random(100);
      } else if (tr?.kind === 'icmp' || tr?.kind === 'icmpv6') {
        if (tr.sequence !== undefined) tr.sequence = random(65536);
      }
      return r;
    };
    const fixtures = decodedFixtures();
    let filled = 0;
    for (const options of OPTION_SETS) {
      for (const base of [...fixtures, tcpWithOptions, icmpv6Echo]) {
        const lines = new EcsPacketLines(options);
        const internals = lines as unknown as { templates: unknown[]; matching(r: PacketRecord): unknown };
        for (let i = 0; i < 300; i++) {
          const r = scanned(base, i);
          const expected = JSON.stringify(packetToEcs(r, options));
          if (i > 20 && internals.templates.length > 0 && internals.matching(r) !== undefined) filled++;
          if (i % 2 === 0) expect(lines.line(r)).toBe(expected);
          else expect(written(lines, r)).toBe(expected);
        }
      }
    }
    // Most of the scans' lines come from a template.
    expect(filled).toBeGreaterThan(0.6 * OPTION_SETS.length * (fixtures.length + 2) * 280);
  });

  it('keeps each flow its own Community ID while scan packets of other flows come between its packets', () => {
    const flows = [0, 1, 2, 3].map((k) => {
      const r = structuredClone(tcpWithOptions);
      const net = r.packet.network;
      if (net?.kind === 'ipv4') net.dst = `203.0.113.${k + 1}`;
      return r;
    });
    const lines = new EcsPacketLines();
    for (let i = 0; i < 400; i++) {
      // A packet of one of four flows (its ID kept from its second packet on), then one of a scan (a new flow).
      const flow = structuredClone(flows[i % 4]);
      flow.timestampUs += i;
      const scan = structuredClone(tcpWithOptions);
      const net = scan.packet.network;
      if (net?.kind === 'ipv4') net.dst = `198.51.100.${i % 250}`;
      if (scan.packet.transport?.kind === 'tcp') scan.packet.transport.dstPort = 1000 + i;
      for (const r of [flow, scan]) {
        const expected = JSON.stringify(packetToEcs(r));
        // The text API hashes without the flows' cache: the cached IDs must be the same.
        const n = r.packet.network;
        const t = r.packet.transport;
        if (n?.kind !== 'ipv4' || t?.kind !== 'tcp') throw new Error('an IPv4 TCP record expected');
        const id = communityId({ srcIp: n.src, dstIp: n.dst, protocol: 6, srcPort: t.srcPort, dstPort: t.dstPort });
        expect(JSON.parse(expected).network.community_id).toBe(id);
        expect(written(lines, r)).toBe(expected);
      }
    }
  });

  it('does not take a record with a field the template lacks for one of its shape (the same number of keys)', () => {
    const base = tcpWithOptions;
    const lines = new EcsPacketLines();
    for (let i = 0; i < 20; i++) lines.line(base);
    // Without a field the line does not show (the TCP checksum), and with one the template lacks (the MSS):
    // as many keys.
    const other = structuredClone(base);
    const tr = other.packet.transport as unknown as Record<string, unknown>;
    delete tr.checksum;
    tr.mss = 1460;
    expect(lines.line(other)).toBe(JSON.stringify(packetToEcs(other)));
  });

  it('keeps the templates of shapes that take turns in runs', () => {
    const [a, b, c] = decodedFixtures();
    const lines = new EcsPacketLines();
    const internals = lines as unknown as { templates: unknown[]; matching(r: PacketRecord): unknown };
    let filled = 0;
    for (let i = 0; i < 600; i++) {
      const r = [a, b, c][Math.floor(i / 20) % 3];
      if (internals.matching(r) !== undefined) filled++;
      expect(written(lines, r)).toBe(JSON.stringify(packetToEcs(r)));
    }
    expect(internals.templates).toHaveLength(3);
    // After each shape's first run, every line comes from its template.
    expect(filled).toBeGreaterThan(600 - 3 * 20);
  });

  it('fills dates and the Community ID inside the fixed bytes of a template, across seconds, and writes in full the dates that do not fit', () => {
    const base = decodedFixtures()[0];
    const lines = new EcsPacketLines();
    const internals = lines as unknown as { templates: Array<{ inPart: number[] }>; matching(r: PacketRecord): unknown };
    const at = (timestampUs: number, receivedUs: number): PacketRecord => ({ ...base, timestampUs, receivedUs });
    const t0 = base.timestampUs;
    for (let i = 0; i < 20; i++) written(lines, at(t0 + i, t0 + i + 5));
    // Both dates and the Community ID are in the template's parts.
    expect(internals.templates[0].inPart).toHaveLength(3);
    const cases: Array<[number, number]> = [
      // The next second, for one date and then both; the dates in different seconds.
      [t0 + 1_000_000, t0 + 999_999],
      [t0 + 1_000_000, t0 + 1_000_001],
      [t0 + 3_600_000_000, t0 - 86_400_000_000],
      // Before 1970, and the last second of year 9999.
      [-1, -1_000_001],
      [253402300799000000, t0],
      // Years the parts cannot hold (an expanded year), and what the formatter makes of nothing.
      [253402300800000000, t0],
      [t0, -62198755200000000],
      [Number.NaN, Infinity],
      // And back: the parts must hold the record's own second again.
      [t0 + 7, t0 + 8],
      [t0 + 2_000_007, t0 + 8],
    ];
    let filled = 0;
    for (const [timestampUs, receivedUs] of cases) {
      const r = at(timestampUs, receivedUs);
      if (internals.matching(r) !== undefined) filled++;
      const expected = JSON.stringify(packetToEcs(r));
      expect(written(lines, r)).toBe(expected);
      expect(lines.line(r)).toBe(expected);
    }
    expect(filled).toBe(cases.length);
  });

  it('holds in a variant of the template the values a run of packets kept, and leaves it for a packet that changes one', () => {
    const base = decodedFixtures()[0];
    const lines = new EcsPacketLines();
    type Internal = { held: number[]; variant?: Internal };
    const internals = lines as unknown as { templates: Internal[]; matching(r: PacketRecord): unknown };
    /** A packet of the flow: its own sequence number, IP id and times. */
    const packet = (i: number, change?: (r: PacketRecord) => void): PacketRecord => {
      const r = structuredClone(base);
      r.seq = i;
      r.timestampUs += i;
      r.receivedUs += i;
      const net = r.packet.network;
      if (net?.kind === 'ipv4') net.id = (net.id + i) & 0xffff;
      change?.(r);
      return r;
    };
    const check = (r: PacketRecord): void => {
      const expected = JSON.stringify(packetToEcs(r));
      expect(written(lines, r)).toBe(expected);
      expect(lines.line(r)).toBe(expected);
    };
    for (let i = 0; i < 60; i++) check(packet(i));
    const variant = internals.templates[0].variant;
    expect(variant).toBeDefined();
    // It holds the addresses, ports and lengths, never the sequence number (in the line twice) or the IP id.
    expect(variant?.held).toEqual(expect.arrayContaining([SLOT.srcIp, SLOT.dstIp, SLOT.srcPort, SLOT.dstPort, SLOT.bytes]));
    expect(variant?.held).not.toContain(SLOT.seq);
    expect(variant?.held).not.toContain(SLOT.ipId);
    expect(internals.matching(packet(61))).toBe(variant);
    // Packets that change one held value get the template's line, then the flow's again.
    const others: Array<(r: PacketRecord) => void> = [
      (r) => {
        if (r.packet.transport?.kind === 'udp') r.packet.transport.dstPort += 1;
      },
      (r) => {
        if (r.packet.network?.kind === 'ipv4') r.packet.network.dst = '10.66.1.22';
      },
      (r) => {
        r.payloadLength += 1;
      },
      (r) => {
        if (r.packet.network?.kind === 'ipv4') r.packet.network.totalLength += 1;
      },
    ];
    for (const [k, change] of others.entries()) {
      const other = packet(100 + k, change);
      expect(internals.matching(other)).not.toBe(variant);
      check(other);
      check(packet(200 + k));
    }
    // A new flow of the shape gets its own variant after a run of its own.
    for (let i = 0; i < 40; i++) check(packet(300 + i, others[0]));
    expect(internals.templates[0].variant).not.toBe(variant);
    expect(internals.matching(packet(400, others[0]))).toBe(internals.templates[0].variant);
  });

  it('keeps lines per options object in packetToEcsJson', () => {
    const base = bases[0];
    for (const options of [...OPTION_SETS, { communityId: false }]) {
      expect(packetToEcsJson(base, options)).toBe(JSON.stringify(packetToEcs(base, options)));
    }
  });

  it('writes each packet its own numbers', () => {
    const first = decodedFixtures()[0];
    const later = structuredClone(first);
    later.timestampUs += 1_234_567;
    later.receivedUs += 2_000_001;
    later.seq = (later.seq ?? 0) + 500;
    later.payloadLength += 3;
    const net = later.packet.network as { id: number; totalLength: number };
    net.id += 7;
    net.totalLength += 3;
    const lines = new EcsPacketLines();
    const line = JSON.parse(lines.line(first) && lines.line(first) && lines.line(later));
    expect(line['@timestamp']).toBe(
      new Date(Math.floor(later.timestampUs / 1000)).toISOString().replace('Z', '') +
        String(later.timestampUs % 1000).padStart(3, '0') +
        'Z',
    );
    expect(line.event.sequence).toBe(later.seq);
    expect(line.netfilter.ip.id).toBe(net.id);
    expect(line.source.bytes).toBe(net.totalLength);
    expect(line.netfilter.payload_length).toBe(later.payloadLength);
  });

  it('writes the same bytes as the string, for odd text and numbers too', () => {
    const odd = record(
      {
        network: ipv4('192.0.2.1', '192.0.2.2', 6),
        transport: {
          kind: 'tcp',
          srcPort: 1,
          dstPort: 2,
          seq: 0xffffffff,
          ack: 0,
          dataOffset: 15,
          flags: 0x1ff,
          window: 65535,
          checksum: 0,
          urgentPointer: 9,
          options: '0'.repeat(80),
        },
      },
      { prefix: 'dröp \u2028 "x" \\ \u0001 ✓ ', inInterface: 'eth€', seq: 4294967295, seqGlobal: 0, payloadLength: 1e6 },
    );
    const odder = structuredClone(odd);
    // biome-ignore lint/correctness/noPrecisionLoss: beyond 2^53 on purpose (the formatter must cope)
    odder.timestampUs = 253402300800123456; // year 10000: an expanded year
    odder.receivedUs = -1_500_000;
    odder.seq = 1.5; // not a decoder's number, but it must read as String() writes it
    odder.payloadLength = 2 ** 40;
    const lines = new EcsPacketLines();
    for (const r of [odd, odd, odd, odder]) expect(written(lines, r)).toBe(JSON.stringify(packetToEcs(r)));
  });

  it('writes numbers as bytes the same as JSON.stringify, at the edges of the digit path too', () => {
    const out = Buffer.alloc(64);
    for (const n of [
      0,
      -0,
      1,
      9,
      10,
      99,
      100,
      65535,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 53,
      -1,
      1.5,
      1e21,
      Number.NaN,
      Infinity,
    ]) {
      expect(out.toString('latin1', 0, writeJsonNumber(out, 0, n))).toBe(JSON.stringify(n));
    }
  });

  it('writes timestamps as bytes the same as the string', () => {
    const out = Buffer.alloc(64);
    for (const us of [
      0,
      1,
      999_999,
      1_000_000,
      1795297490123456,
      -1,
      -1_000_001,
      253402300800000000,
      -62198755200000000,
      8.64e18,
      NaN,
      Infinity,
      1.7e15 + 0.9,
    ]) {
      const end = writeTimestampUs(out, 3, us);
      expect(out.toString('latin1', 3, end)).toBe(formatTimestampUs(us));
    }
  });
});
