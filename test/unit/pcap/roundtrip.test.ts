// Writer and reader together: kernel entries written as pcap come back as
// the records the live decoder made of them, in either byte order, with
// either timestamp precision, in chunks of any size; and the writer rebuilds
// the kernel's own bytes.
import { describe, expect, it } from 'vitest';
import { NflogPcapReader, readNflogPcap } from '../../../src/pcap/reader';
import { NflogPcapWriter } from '../../../src/pcap/writer';
import { decodePacket } from '../../../src/packet/decode';
import type { PacketRecord } from '../../../src/records';
import { comparable, kernelEntries, random } from './helpers';

const FIXTURES = ['nflog-inbound.json', 'nflog-outbound-uid.json'];

function pcapOf(records: PacketRecord[], writer: NflogPcapWriter): Buffer {
  return Buffer.concat([writer.fileHeader(), writer.encodeBatch(records)]);
}

describe('NFLOG pcap round trip', () => {
  const { entries, interfaces } = kernelEntries(FIXTURES);
  const records = entries.map((e) => e.record);

  it('has kernel entries to work with (inbound with MAC header and timestamp, outbound with uid)', () => {
    expect(records).toHaveLength(8);
    expect(records.some((r) => r.hwLen === 14 && r.kernelTimestamp && r.mark === 0x2a)).toBe(true);
    expect(records.some((r) => r.uid === 4242 && r.outIfindex !== undefined)).toBe(true);
    for (const r of records) expect(r.payload?.length).toBeGreaterThan(0);
  });

  it('rebuilds the bytes the kernel sent for each entry', () => {
    const writer = new NflogPcapWriter({ byteOrder: 'little' });
    for (const { body, record } of entries) {
      const written = writer.encode(record);
      expect(written.readUInt32LE(8)).toBe(body.length);
      expect(written.readUInt32LE(12)).toBe(body.length);
      expect(written.subarray(16).toString('hex')).toBe(body.toString('hex'));
    }
  });

  for (const byteOrder of ['little', 'big'] as const) {
    for (const nanoseconds of [false, true]) {
      it(`reads back what it wrote: ${byteOrder} endian, ${nanoseconds ? 'nano' : 'micro'}second magic`, () => {
        const writer = new NflogPcapWriter({ byteOrder, nanoseconds });
        const file = pcapOf(records, writer);
        const magic = byteOrder === 'little' ? file.readUInt32LE(0) : file.readUInt32BE(0);
        expect(magic).toBe(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
        const read = readNflogPcap(file, { includePayload: true, interfaces });
        expect(read.fatal).toBeNull();
        expect(read.errors).toBe(0);
        expect(read.header).toMatchObject({ byteOrder, nanoseconds, linkType: 239, snaplen: 262144, versionMajor: 2, versionMinor: 4 });
        expect(read.records.map(comparable)).toEqual(records.map(comparable));
        // The pcap timestamp is the receive time, to the microsecond.
        expect(read.records.map((r) => r.receivedUs)).toEqual(records.map((r) => Math.floor(r.receivedUs)));
        // Without a kernel timestamp the record's time is the receive time: the pcap timestamp.
        for (const r of read.records) if (!r.kernelTimestamp) expect(r.timestampUs).toBe(r.receivedUs);
      });
    }
  }

  it('gives the same records whatever the chunks the file arrives in', () => {
    const file = pcapOf(records, new NflogPcapWriter());
    const whole = readNflogPcap(file, { includePayload: true }).records;
    const next = random(7);
    for (const largest of [1, 3, 17, 100, 5000]) {
      const reader = new NflogPcapReader({ includePayload: true });
      const got: PacketRecord[] = [];
      for (let at = 0; at < file.length; ) {
        const size = 1 + Math.floor(next() * largest);
        reader.push(file.subarray(at, at + size), got);
        at += size;
      }
      reader.end();
      expect(reader.fatal).toBeNull();
      expect(reader.counters).toMatchObject({ records: 8, packets: 8, decodeErrors: 0, skipped: 0, bytes: file.length });
      expect(got).toEqual(whole);
    }
  });

  it('carries every field the writer knows, nested VLAN included, in both byte orders', () => {
    const payload = Uint8Array.from(Buffer.from('4500001c000100004011f9c30a0000010a000002303930390008fc8d', 'hex'));
    const record: PacketRecord = {
      ...records[0],
      group: 65535,
      family: 7,
      hook: 2,
      prefix: 'br fwd',
      physInIfindex: 7,
      physOutIfindex: 8,
      outIfindex: 9,
      seq: 41,
      seqGlobal: 0xfffffffe,
      ctInfo: 2,
      vlan: { proto: 0x8100, tci: 0x2064, id: 0x064 },
      l2Header: '0200006601020200006601018100',
      payload,
      payloadLength: payload.length,
      packet: decodePacket(payload, 0, payload.length, 'ipv4'),
      receivedUs: 1_700_000_000_123_456,
    };
    // The MAC header of this record is the one in packet.link, as the decoder put it.
    record.packet.link = records[0].packet.link;
    for (const byteOrder of ['little', 'big'] as const) {
      const read = readNflogPcap(pcapOf([record], new NflogPcapWriter({ byteOrder })), { includePayload: true });
      expect(read.errors).toBe(0);
      expect(read.records[0]).toEqual({
        ...record,
        inInterface: undefined,
        outInterface: undefined,
        physInInterface: undefined,
        physOutInterface: undefined,
      });
    }
  });

  it('cuts records at the snaplen, and the reader decodes what was kept', () => {
    const writer = new NflogPcapWriter();
    const file = pcapOf(records, writer);
    expect(writer.counters).toMatchObject({ records: 8, snapped: 0 });
    // Cut the longest entries by a few bytes: into their payloads, behind the IP header.
    const snaplen = Math.max(...entries.map((e) => e.body.length)) - 8;
    const small = new NflogPcapWriter({ snaplen });
    const cut = pcapOf(records, small);
    const read = readNflogPcap(cut, { includePayload: true });
    expect(read.fatal).toBeNull();
    const snapped = read.counters.snapped;
    expect(snapped).toBe(small.counters.snapped);
    expect(snapped).toBeGreaterThan(0);
    const full = readNflogPcap(file, { includePayload: true }).records;
    read.records.forEach((r, i) => {
      // Metadata is whole; the payload is the front of the original.
      expect(r.prefix).toBe(full[i].prefix);
      expect(r.payloadLength).toBeLessThanOrEqual(full[i].payloadLength);
      expect(Buffer.from(r.payload ?? []).toString('hex')).toBe(Buffer.from(full[i].payload!.subarray(0, r.payloadLength)).toString('hex'));
      expect(r.packet.network).toEqual(full[i].packet.network);
    });
  });

  it('counts records without a payload and skips other record kinds', () => {
    const writer = new NflogPcapWriter();
    const bare = { ...records[0], payload: undefined };
    const batch = writer.encodeBatch([{ kind: 'gap', source: 'nflog', reason: 'sequence', count: 1, timestampUs: 0 }, bare]);
    expect(writer.counters).toMatchObject({ records: 1, withoutPayload: 1 });
    const read = readNflogPcap(Buffer.concat([writer.fileHeader(), batch]));
    expect(read.records).toHaveLength(1);
    expect(read.records[0].payloadLength).toBe(0);
    // The MAC header is metadata: it stays.
    expect(read.records[0].packet).toEqual({ link: records[0].packet.link });
  });

  it('writes odd records without throwing: oversized values are cut, impossible numbers become 0', () => {
    const payload = new Uint8Array(70_000).fill(0x45);
    const odd: PacketRecord = {
      ...records[0],
      prefix: 'x'.repeat(70_000),
      payload,
      payloadLength: payload.length,
      l2Header: 'zz',
      hwAddr: 'not a mac',
      mark: Number.NaN,
      hook: 300,
      timestampUs: Number.POSITIVE_INFINITY,
      receivedUs: -5,
    };
    const writer = new NflogPcapWriter();
    const file = Buffer.concat([writer.fileHeader(), writer.encodeBatch([odd])]);
    const read = readNflogPcap(file, { includePayload: true });
    expect(read.fatal).toBeNull();
    expect(read.records).toHaveLength(1);
    const r = read.records[0];
    expect(r.prefix).toHaveLength(0xffff - 5);
    expect(r.payloadLength).toBe(0xffff - 4);
    expect(r).toMatchObject({ mark: 0, hook: 300 & 0xff, timestampUs: 0, receivedUs: 0, l2Header: '00' });
    expect(r.hwAddr).toBeUndefined();
  });

  it('writes the MAC header from hwHeader (any link type), or rebuilds an Ethernet one from packet.link', () => {
    const ether = records[0];
    expect(ether.hwHeader).toMatch(/^([0-9a-f]{2}:){13}[0-9a-f]{2}$/);
    const tunnel: PacketRecord = {
      ...records[1],
      hwType: 778,
      hwLen: 4,
      hwHeader: 'c0:a8:01:01',
      packet: { ...records[1].packet, link: undefined },
    };
    const older: PacketRecord = { ...ether, hwHeader: undefined };
    const writer = new NflogPcapWriter();
    const read = readNflogPcap(Buffer.concat([writer.fileHeader(), writer.encodeBatch([tunnel, older])]), { includePayload: true }).records;
    expect(read[0]).toMatchObject({ hwType: 778, hwLen: 4, hwHeader: 'c0:a8:01:01' });
    expect(read[0].packet.link).toBeUndefined();
    expect(read[1].hwHeader).toBe(ether.hwHeader);
    expect(read[1].packet.link).toEqual(ether.packet.link);
  });
});
