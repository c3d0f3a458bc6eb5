// Fuzz target for the NFLOG pcap reader (src/pcap/reader.ts): a whole-file
// read and a chunked read of the same bytes must agree.
import { NflogPcapReader, readNflogPcap } from '../../src/pcap/reader';
import { packetToEcsJson } from '../../src/ecs/packet-json';
import type { PacketRecord } from '../../src/records';
import { recordedFrom, splitMessages, SOURCE_NFLOG, builtNflogMessages } from './seeds';
import { OracleError, outputBound, type Target } from './target';

/** A pcap file (little endian, µs or ns) holding the given NFLOG bodies (nfgenmsg + attributes). */
function pcapFile(bodies: Uint8Array[], nanoseconds: boolean): Uint8Array {
  const size = 24 + bodies.reduce((n, b) => n + 16 + b.length, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(239, 20);
  let at = 24;
  bodies.forEach((b, i) => {
    out.writeUInt32LE(1_700_000_000 + i, at);
    out.writeUInt32LE(1000 * i, at + 4);
    out.writeUInt32LE(b.length, at + 8);
    out.writeUInt32LE(b.length + (i === 1 ? 100 : 0), at + 12); // one snapped record
    out.set(b, at + 16);
    at += 16 + b.length;
  });
  return new Uint8Array(out);
}

/** Byte 0 picks how the reader is fed besides whole: chunks of 1 + byte0 * 3 bytes. */
export function pcapTarget(): Target {
  return {
    name: 'pcap',
    description: 'src/pcap/reader.ts: readNflogPcap on a whole file, and NflogPcapReader fed in chunks (byte 0 picks the size) must agree',
    layout: { kind: 'raw' },
    seeds: () => {
      const recorded = recordedFrom(SOURCE_NFLOG)
        .flatMap((d) => splitMessages(d))
        .map((m) => m.slice(16));
      const built = builtNflogMessages().map((m) => Uint8Array.from(m).slice(16));
      const files = [
        pcapFile(recorded.slice(0, 4), false),
        pcapFile(recorded.slice(4), true),
        pcapFile(built.slice(0, 6), false),
        pcapFile(built.slice(6), false),
      ];
      return files.map((f, i) => {
        const withParam = new Uint8Array(f.length + 1);
        withParam[0] = i * 37;
        withParam.set(f, 1);
        return withParam;
      });
    },
    run(bytes, length) {
      if (length < 1) return { errors: [], outputSize: 0, records: 0, shapes: [] };
      const file = bytes.subarray(1, length);
      const whole = readNflogPcap(file);
      const chunk = 1 + bytes[0] * 3;
      const reader = new NflogPcapReader();
      const chunked: PacketRecord[] = [];
      for (let at = 0; at < file.length; at += chunk) reader.push(file.subarray(at, Math.min(file.length, at + chunk)), chunked);
      reader.end();
      let size = 0;
      const errors: Array<string | undefined> = [whole.fatal === null ? undefined : `pcap.fatal`];
      for (const r of whole.records) {
        size += packetToEcsJson(r).length;
        errors.push(r.decodeError);
      }
      if (whole.records.length > length / 4) throw new OracleError(`${whole.records.length} records from ${length} bytes`);
      if (size > outputBound(length) * Math.max(1, whole.records.length)) throw new OracleError(`output ${size} chars for ${length} bytes`);
      // Chunking must not change what is read.
      if (chunked.length !== whole.records.length || (reader.fatal === null) !== (whole.fatal === null)) {
        throw new OracleError(
          `chunks of ${chunk}: ${chunked.length} records (fatal ${reader.fatal}), whole: ${whole.records.length} (fatal ${whole.fatal})`,
        );
      }
      for (let i = 0; i < chunked.length; i++) {
        if (JSON.stringify(chunked[i]) !== JSON.stringify(whole.records[i]))
          throw new OracleError(`chunks of ${chunk}: record ${i} differs from the whole-file read`);
      }
      return { errors, outputSize: size, records: whole.records.length, shapes: whole.records };
    },
  };
}
