// Shared by the pcap unit tests: kernel NFLOG entries from the recorded
// fixtures, and a hand-made pcap file builder independent of the writer.
import { DatagramDecoder } from '../../../src/datagram';
import { NLMSG_HDRLEN, nlAlign } from '../../../src/netlink/message';
import { NFLOG_PACKET_TYPE } from '../../../src/nflog/constants';
import { SOURCE_NFLOG } from '../../../src/ring/layout';
import type { PacketRecord } from '../../../src/records';
import { loadFixture } from '../../helpers/fixtures';

export interface KernelEntry {
  /** The NFLOG message without its nlmsghdr: what a pcap record holds. */
  body: Buffer;
  record: PacketRecord;
}

/** The NFLOG entries of fixtures as the kernel sent them, and the live decoder's records of them. */
export function kernelEntries(names: string[]): { entries: KernelEntry[]; interfaces: Map<number, string> } {
  const entries: KernelEntry[] = [];
  const decoder = new DatagramDecoder({ includePayload: true });
  for (const name of names) {
    for (const d of loadFixture(name).datagrams) {
      const bytes = new Uint8Array(Buffer.from(d.hex, 'hex'));
      const view = new DataView(bytes.buffer);
      const out: PacketRecord[] = [];
      decoder.decode(bytes, view, 0, bytes.length, d.source, d.flags, d.receivedUs, out);
      if (d.source !== SOURCE_NFLOG) continue;
      const bodies: Buffer[] = [];
      for (let at = 0; at + NLMSG_HDRLEN <= bytes.length; ) {
        const length = view.getUint32(at, true);
        if (length < NLMSG_HDRLEN) break;
        if (view.getUint16(at + 4, true) === NFLOG_PACKET_TYPE) bodies.push(Buffer.from(bytes.subarray(at + NLMSG_HDRLEN, at + length)));
        at += nlAlign(length);
      }
      const packets = out.filter((r) => r.kind === 'packet');
      if (packets.length !== bodies.length) throw new Error(`${name}: ${packets.length} records for ${bodies.length} messages`);
      for (const [i, record] of packets.entries()) entries.push({ body: bodies[i], record });
    }
  }
  return { entries, interfaces: decoder.links.entries() };
}

export interface HandRecord {
  seconds: number;
  fraction: number;
  body: Uint8Array;
  /** Original length when it differs from the body's (snapped records). */
  original?: number;
}

/** A pcap file built field by field: magic, byte order and link type as given. */
export function handPcap(
  records: HandRecord[],
  options: { big?: boolean; magic?: number; linkType?: number; snaplen?: number } = {},
): Buffer {
  const le = !options.big;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  const u32 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const u16 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  u32(header, options.magic ?? 0xa1b2c3d4, 0);
  u16(header, 2, 4);
  u16(header, 4, 6);
  u32(header, options.snaplen ?? 262144, 16);
  u32(header, options.linkType ?? 239, 20);
  parts.push(header);
  for (const r of records) {
    const h = Buffer.alloc(16);
    u32(h, r.seconds, 0);
    u32(h, r.fraction, 4);
    u32(h, r.body.length, 8);
    u32(h, r.original ?? r.body.length, 12);
    parts.push(h, Buffer.from(r.body));
  }
  return Buffer.concat(parts);
}

/**
 * A record without the fields a pcap file cannot carry the same way: the
 * receive time (to the microsecond in pcap), and the timestamp when it is
 * that receive time (no kernel timestamp).
 */
export function comparable(record: PacketRecord): Partial<PacketRecord> {
  const { receivedUs: _received, timestampUs, ...rest } = record;
  return record.kernelTimestamp ? { ...rest, timestampUs } : rest;
}

/** A small deterministic generator (xorshift32) for chunk sizes and garbage. */
export function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}
