// The reader over files that are cut, bent or made of noise: it never throws,
// delivers what it can, and counts or names what went wrong.
import { describe, expect, it } from 'vitest';
import { NflogPcapReader, readNflogPcap } from '../../../src/pcap/reader';
import { NflogPcapWriter } from '../../../src/pcap/writer';
import { handPcap, kernelEntries, random } from './helpers';

const { entries } = kernelEntries(['nflog-inbound.json', 'nflog-outbound-uid.json']);
const writer = new NflogPcapWriter({ byteOrder: 'little' });
const FILE = Buffer.concat([writer.fileHeader(), ...entries.map((e) => writer.encode(e.record))]);
/** Where each record ends in FILE. */
const RECORD_ENDS: number[] = [];
for (let at = 24; at < FILE.length; ) {
  at += 16 + FILE.readUInt32LE(at + 8);
  RECORD_ENDS.push(at);
}

describe('NFLOG pcap reader on hostile input', () => {
  it('reads a hand-made file, independent of the writer: both byte orders, µs and ns', () => {
    const body = entries[0].body;
    for (const big of [false, true]) {
      for (const [magic, fraction, us] of [
        [0xa1b2c3d4, 654321, 654321],
        [0xa1b23c4d, 654321987, 654321],
      ]) {
        // A big-endian host writes its attribute headers big-endian too.
        const bytes = Buffer.from(body);
        if (big)
          for (let at = 4; at + 4 <= bytes.length; at += (bytes.readUInt16BE(at) + 3) & ~3) {
            bytes.writeUInt16BE(bytes.readUInt16LE(at), at);
            bytes.writeUInt16BE(bytes.readUInt16LE(at + 2), at + 2);
          }
        const read = readNflogPcap(handPcap([{ seconds: 1_700_000_000, fraction, body: bytes }], { big, magic }));
        expect(read.errors).toBe(0);
        expect(read.header).toMatchObject({ byteOrder: big ? 'big' : 'little', nanoseconds: magic === 0xa1b23c4d });
        expect(read.records).toHaveLength(1);
        expect(read.records[0]).toMatchObject({ receivedUs: 1_700_000_000_000_000 + us, prefix: entries[0].record.prefix, mark: 0x2a });
        expect(read.records[0].packet.transport).toEqual(entries[0].record.packet.transport);
      }
    }
  });

  it('stops on a file cut anywhere and delivers the records before the cut', () => {
    for (let length = 0; length < FILE.length; length++) {
      const read = readNflogPcap(FILE.subarray(0, length));
      const whole = RECORD_ENDS.filter((end) => end <= length).length;
      expect(read.records).toHaveLength(whole);
      const atBoundary = length === 24 || RECORD_ENDS.includes(length);
      if (atBoundary) {
        expect(read.fatal).toBeNull();
        expect(read.errors).toBe(0);
      } else {
        expect(read.fatal).toMatch(length === 0 ? /^pcap\.empty/ : /^pcap\.truncated-file/);
        expect(read.errors).toBe(1);
      }
    }
  });

  it('names files that are not NFLOG pcap', () => {
    expect(readNflogPcap(handPcap([], { linkType: 1 })).fatal).toMatch(/^pcap\.not-nflog: link type 1/);
    expect(readNflogPcap(Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff', 'hex')).fatal).toMatch(/^pcap\.pcapng/);
    const garbage = Buffer.from('this is not a capture file at all');
    const read = readNflogPcap(garbage);
    expect(read.fatal).toMatch(/^pcap\.bad-magic/);
    expect(read.records).toEqual([]);
    expect(read.errors).toBe(1);
  });

  it('stops at an impossible record length instead of waiting for gigabytes', () => {
    const file = Buffer.from(FILE);
    file.writeUInt32LE(0xfffffff0, RECORD_ENDS[1] + 8);
    const reader = new NflogPcapReader();
    const records = reader.push(file);
    expect(records).toHaveLength(2);
    expect(reader.fatal).toMatch(/^pcap\.bad-record-length/);
    // Nothing more is read or buffered.
    expect(reader.push(FILE)).toEqual([]);
  });

  it('skips records too short for the NFLOG header or of another version, and goes on', () => {
    const good = { seconds: 1, fraction: 0, body: entries[2].body };
    const read = readNflogPcap(
      handPcap([
        { seconds: 1, fraction: 0, body: new Uint8Array(0) },
        { seconds: 1, fraction: 0, body: Uint8Array.from([2, 0, 0]) },
        { seconds: 1, fraction: 0, body: Uint8Array.from([2, 1, 0, 1, 8, 0, 1, 0, 8, 0, 0, 3]) },
        good,
      ]),
    );
    expect(read.counters).toMatchObject({ records: 4, skipped: 3, packets: 1 });
    expect(read.errors).toBe(3);
    expect(read.records[0].prefix).toBe(entries[2].record.prefix);
  });

  it('delivers records with broken attributes with decodeError and counts them', () => {
    const body = Buffer.from(entries[0].body);
    body.writeUInt16LE(2, 4); // the first attribute's length, below its own header
    const tooLong = Buffer.from(entries[1].body);
    tooLong.writeUInt16LE(0xfff0, 4);
    const read = readNflogPcap(
      handPcap([
        { seconds: 1, fraction: 0, body },
        { seconds: 1, fraction: 0, body: tooLong },
      ]),
    );
    expect(read.records).toHaveLength(2);
    for (const r of read.records) expect(r.decodeError).toBe('netlink.bad-attribute-length');
    expect(read.counters.decodeErrors).toBe(2);
    expect(read.errors).toBe(2);
  });

  it('never throws on noise, flipped bytes or noise behind a valid header, in any chunking', () => {
    const next = random(2024);
    const byte = () => Math.floor(next() * 256);
    let records = 0;
    for (let round = 0; round < 400; round++) {
      let input: Buffer;
      if (round % 3 === 0) {
        input = Buffer.from(Array.from({ length: Math.floor(next() * 600) }, byte));
      } else if (round % 3 === 1) {
        input = Buffer.from(FILE);
        for (let flips = 0; flips < 1 + next() * 8; flips++) input[24 + Math.floor(next() * (input.length - 24))] = byte();
      } else {
        const body = Buffer.from(Array.from({ length: 4 + Math.floor(next() * 300) }, byte));
        body[1] = 0; // NFLOG version 0, so the attributes are decoded
        input = handPcap([{ seconds: 1, fraction: 0, body }], { big: next() < 0.5, snaplen: 1 + Math.floor(next() * 400) });
        // Snapped on purpose now and then.
        if (next() < 0.5) input.writeUInt32LE(input.readUInt32LE(24 + 12) + 100, 24 + 12);
      }
      const reader = new NflogPcapReader({ includePayload: true });
      const chunk = 1 + Math.floor(next() * 64);
      expect(() => {
        for (let at = 0; at < input.length; at += chunk) records += reader.push(input.subarray(at, at + chunk)).length;
        reader.end();
      }).not.toThrow();
      expect(reader.errors).toBeGreaterThanOrEqual(reader.counters.decodeErrors);
    }
    // The flipped files still gave records: the reader went on past damage it could survive.
    expect(records).toBeGreaterThan(0);
  });
});
