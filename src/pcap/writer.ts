// Writes PacketRecords as a pcap file of link type NFLOG, which tcpdump,
// Wireshark and this module's reader read. The entry's attributes are built
// again from the record, in the order the kernel emits them, so a record
// decoded from the kernel comes out as the bytes the kernel sent (apart from
// what the record does not keep: the conntrack entry, NFULA_CT).
//
// The payload needs the collector option includePayload: without it an entry
// has its metadata only (tcpdump then shows no packet), and `withoutPayload`
// counts such records.
import { endianness } from 'node:os';
import { NLA_F_NESTED, nlAlign } from '../netlink/message';
import * as C from '../nflog/constants';
import type { CollectorRecord, PacketRecord } from '../records';
import * as F from './format';
import { ARPHRD_ETHER, ETH_HLEN } from '../packet/protocols';

export interface NflogPcapWriterOptions {
  /** Byte order of the file and of the attribute headers. Default: this host's, as libpcap writes. */
  byteOrder?: F.ByteOrder;
  /** Longest record kept; longer entries are cut (and say so in their original length). Default 262144. */
  snaplen?: number;
  /** Nanosecond timestamps (magic 0xa1b23c4d). Default false: microseconds. */
  nanoseconds?: boolean;
}

export interface NflogPcapWriterCounters {
  /** pcap records written. */
  records: number;
  /** Bytes of the records (the file header not included). */
  bytes: number;
  /** Records without a payload (the collector ran without includePayload). */
  withoutPayload: number;
  /** Records cut to the snapshot length. */
  snapped: number;
}

/** struct nfulnl_msg_packet_hw: be16 address length, u16 pad, u8 address[8]. */
const HWADDR_LEN = 12;
const HWADDR_MAX = 8;
const TIMESTAMP_LEN = 16;
/** NFULA_VLAN: nested NFULA_VLAN_PROTO and NFULA_VLAN_TCI, a be16 each. */
const VLAN_LEN = 16;
/** The longest attribute value a u16 length can say. */
const LONGEST_VALUE = 0xffff - F.NFLOG_TLV_HEADER_LEN;

export class NflogPcapWriter {
  readonly byteOrder: F.ByteOrder;
  readonly snaplen: number;
  readonly nanoseconds: boolean;
  readonly counters: NflogPcapWriterCounters = { records: 0, bytes: 0, withoutPayload: 0, snapped: 0 };
  private readonly le: boolean;

  constructor(options: NflogPcapWriterOptions = {}) {
    this.byteOrder = options.byteOrder ?? (endianness() === 'LE' ? 'little' : 'big');
    this.le = this.byteOrder === 'little';
    const snaplen = options.snaplen ?? F.MAXIMUM_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < F.NFLOG_HEADER_LEN || snaplen > F.LARGEST_RECORD) {
      throw new RangeError(
        `NflogPcapWriter: snaplen must be an integer from ${F.NFLOG_HEADER_LEN} to ${F.LARGEST_RECORD}, got ${String(snaplen)}`,
      );
    }
    this.snaplen = snaplen;
    this.nanoseconds = options.nanoseconds ?? false;
  }

  /** The 24-byte file header: write it once, before any record. */
  fileHeader(): Buffer {
    const out = Buffer.alloc(F.PCAP_FILE_HEADER_LEN);
    const le = this.le;
    const magic = this.nanoseconds ? F.PCAP_MAGIC_NANOSECONDS : F.PCAP_MAGIC_MICROSECONDS;
    if (le) out.writeUInt32LE(magic, 0);
    else out.writeUInt32BE(magic, 0);
    this.u16(out, 4, F.PCAP_VERSION_MAJOR);
    this.u16(out, 6, F.PCAP_VERSION_MINOR);
    // thiszone and sigfigs stay 0.
    this.u32(out, 16, this.snaplen);
    this.u32(out, 20, F.LINKTYPE_NFLOG);
    return out;
  }

  /** One pcap record holding `record` as an NFLOG entry. */
  encode(record: PacketRecord): Buffer {
    const out = Buffer.alloc(this.recordLength(record));
    this.writeRecord(out, 0, record);
    return out;
  }

  /** The packet records of a batch as consecutive pcap records, in one Buffer; other kinds are left out. */
  encodeBatch(records: readonly CollectorRecord[]): Buffer {
    let total = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (record.kind === 'packet') total += this.recordLength(record);
    }
    // Zero-filled: attribute padding must be zeros.
    const out = Buffer.alloc(total);
    let at = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (record.kind === 'packet') at = this.writeRecord(out, at, record);
    }
    return out;
  }

  private recordLength(record: PacketRecord): number {
    return F.PCAP_RECORD_HEADER_LEN + Math.min(entryLength(record), this.snaplen);
  }

  /** Writes the pcap record header and the entry (cut to the snaplen) at `at`; returns where it ends. */
  private writeRecord(out: Buffer, at: number, record: PacketRecord): number {
    const length = entryLength(record);
    const captured = Math.min(length, this.snaplen);
    // The time the entry was received, as libpcap stamps it.
    const us = wholeMicroseconds(record.receivedUs);
    const seconds = Math.floor(us / 1e6);
    const micros = us - seconds * 1e6;
    this.u32(out, at, seconds >>> 0);
    this.u32(out, at + 4, this.nanoseconds ? micros * 1000 : micros);
    this.u32(out, at + 8, captured);
    this.u32(out, at + 12, length);
    const body = at + F.PCAP_RECORD_HEADER_LEN;
    if (captured === length) {
      this.writeEntry(out, body, record);
    } else {
      const whole = Buffer.alloc(length);
      this.writeEntry(whole, 0, record);
      whole.copy(out, body, 0, captured);
      this.counters.snapped++;
    }
    if (record.payload === undefined) this.counters.withoutPayload++;
    this.counters.records++;
    this.counters.bytes += F.PCAP_RECORD_HEADER_LEN + captured;
    return body + captured;
  }

  /**
   * The NFLOG entry at `start` (entryLength bytes, zero-filled): header and
   * attributes, in the kernel's order (__build_packet_message).
   */
  private writeEntry(out: Buffer, start: number, r: PacketRecord): void {
    out[start] = r.family;
    out[start + 1] = F.NFLOG_VERSION;
    out.writeUInt16BE(r.group & 0xffff, start + 2);
    let at = start + F.NFLOG_HEADER_LEN;

    this.header(out, at, C.NFULA_PACKET_HDR, 4);
    out.writeUInt16BE(r.hwProtocol & 0xffff, at + 4);
    out[at + 6] = r.hook;
    at += tlv(4);
    // NUL-terminated, as the kernel sends it (the NUL is the buffer's zero).
    const prefixLength = prefixBytes(r);
    this.header(out, at, C.NFULA_PREFIX, prefixLength + 1);
    out.write(r.prefix, at + F.NFLOG_TLV_HEADER_LEN, prefixLength, 'latin1');
    at += tlv(prefixLength + 1);
    at = this.be32(out, at, C.NFULA_IFINDEX_INDEV, r.inIfindex);
    at = this.be32(out, at, C.NFULA_IFINDEX_PHYSINDEV, r.physInIfindex);
    at = this.be32(out, at, C.NFULA_IFINDEX_OUTDEV, r.outIfindex);
    at = this.be32(out, at, C.NFULA_IFINDEX_PHYSOUTDEV, r.physOutIfindex);
    at = this.be32(out, at, C.NFULA_MARK, r.mark);
    if (r.hwAddr !== undefined) {
      this.header(out, at, C.NFULA_HWADDR, HWADDR_LEN);
      const written = writeHex(out, at + F.NFLOG_TLV_HEADER_LEN + 4, r.hwAddr, HWADDR_MAX);
      out.writeUInt16BE(written, at + F.NFLOG_TLV_HEADER_LEN);
      at += tlv(HWADDR_LEN);
    }
    at = this.be16(out, at, C.NFULA_HWTYPE, r.hwType);
    at = this.be16(out, at, C.NFULA_HWLEN, r.hwLen);
    const link = ethernetHeader(r);
    if (r.hwHeader !== undefined) {
      // The header's own bytes, as the decoder kept them.
      const length = hwHeaderBytes(r);
      this.header(out, at, C.NFULA_HWHEADER, length);
      writeHex(out, at + F.NFLOG_TLV_HEADER_LEN, r.hwHeader, length);
      at += tlv(length);
    } else if (link) {
      this.header(out, at, C.NFULA_HWHEADER, ETH_HLEN);
      const value = at + F.NFLOG_TLV_HEADER_LEN;
      writeHex(out, value, link.dst, 6);
      writeHex(out, value + 6, link.src, 6);
      out.writeUInt16BE(link.etherType & 0xffff, value + 12);
      at += tlv(ETH_HLEN);
    }
    if (r.kernelTimestamp) {
      // Two be64: seconds and microseconds; seconds fit in 53 bits.
      this.header(out, at, C.NFULA_TIMESTAMP, TIMESTAMP_LEN);
      const value = at + F.NFLOG_TLV_HEADER_LEN;
      const us = wholeMicroseconds(r.timestampUs);
      const seconds = Math.floor(us / 1e6);
      out.writeUInt32BE(Math.floor(seconds / 0x1_0000_0000), value);
      out.writeUInt32BE(seconds >>> 0, value + 4);
      out.writeUInt32BE(us - seconds * 1e6, value + 12);
      at += tlv(TIMESTAMP_LEN);
    }
    at = this.be32(out, at, C.NFULA_UID, r.uid);
    at = this.be32(out, at, C.NFULA_GID, r.gid);
    at = this.be32(out, at, C.NFULA_SEQ, r.seq);
    at = this.be32(out, at, C.NFULA_SEQ_GLOBAL, r.seqGlobal);
    at = this.be32(out, at, C.NFULA_CT_INFO, r.ctInfo);
    if (r.vlan) {
      this.header(out, at, C.NFULA_VLAN | NLA_F_NESTED, VLAN_LEN);
      const inner = this.be16(out, at + F.NFLOG_TLV_HEADER_LEN, C.NFULA_VLAN_PROTO, r.vlan.proto);
      this.be16(out, inner, C.NFULA_VLAN_TCI, r.vlan.tci);
      at += tlv(VLAN_LEN);
    }
    if (r.l2Header !== undefined) {
      const length = l2HeaderBytes(r);
      this.header(out, at, C.NFULA_L2HDR, length);
      writeHex(out, at + F.NFLOG_TLV_HEADER_LEN, r.l2Header, length);
      at += tlv(length);
    }
    if (r.payload) {
      const length = payloadBytes(r);
      this.header(out, at, C.NFULA_PAYLOAD, length);
      out.set(length === r.payload.length ? r.payload : r.payload.subarray(0, length), at + F.NFLOG_TLV_HEADER_LEN);
    }
  }

  /** An attribute header for a value of `length` bytes. */
  private header(out: Buffer, at: number, type: number, length: number): void {
    this.u16(out, at, F.NFLOG_TLV_HEADER_LEN + length);
    this.u16(out, at + 2, type);
  }

  private be32(out: Buffer, at: number, type: number, value: number | undefined): number {
    if (value === undefined) return at;
    this.header(out, at, type, 4);
    out.writeUInt32BE(value >>> 0, at + F.NFLOG_TLV_HEADER_LEN);
    return at + tlv(4);
  }

  private be16(out: Buffer, at: number, type: number, value: number | undefined): number {
    if (value === undefined) return at;
    this.header(out, at, type, 2);
    out.writeUInt16BE(value & 0xffff, at + F.NFLOG_TLV_HEADER_LEN);
    return at + tlv(2);
  }

  private u16(out: Buffer, at: number, value: number): void {
    if (this.le) out.writeUInt16LE(value, at);
    else out.writeUInt16BE(value, at);
  }

  private u32(out: Buffer, at: number, value: number): void {
    if (this.le) out.writeUInt32LE(value, at);
    else out.writeUInt32BE(value, at);
  }
}

/** The MAC header to rebuild when a record has no hwHeader: an Ethernet NFULA_HWHEADER decoded as packet.link. */
function ethernetHeader(r: PacketRecord): { dst: string; src: string; etherType: number } | undefined {
  const link = r.packet.link;
  return link?.kind === 'ethernet' && r.hwType === ARPHRD_ETHER ? link : undefined;
}

/** Bytes of the NFLOG entry a record becomes, padding included. */
function entryLength(r: PacketRecord): number {
  let size = F.NFLOG_HEADER_LEN + tlv(4) + tlv(prefixBytes(r) + 1);
  if (r.inIfindex !== undefined) size += tlv(4);
  if (r.physInIfindex !== undefined) size += tlv(4);
  if (r.outIfindex !== undefined) size += tlv(4);
  if (r.physOutIfindex !== undefined) size += tlv(4);
  if (r.mark !== undefined) size += tlv(4);
  if (r.hwAddr !== undefined) size += tlv(HWADDR_LEN);
  if (r.hwType !== undefined) size += tlv(2);
  if (r.hwLen !== undefined) size += tlv(2);
  if (r.hwHeader !== undefined) size += tlv(hwHeaderBytes(r));
  else if (ethernetHeader(r)) size += tlv(ETH_HLEN);
  if (r.kernelTimestamp) size += tlv(TIMESTAMP_LEN);
  if (r.uid !== undefined) size += tlv(4);
  if (r.gid !== undefined) size += tlv(4);
  if (r.seq !== undefined) size += tlv(4);
  if (r.seqGlobal !== undefined) size += tlv(4);
  if (r.ctInfo !== undefined) size += tlv(4);
  if (r.vlan) size += tlv(VLAN_LEN);
  if (r.l2Header !== undefined) size += tlv(l2HeaderBytes(r));
  if (r.payload) size += tlv(payloadBytes(r));
  return size;
}

// Values longer than an attribute can hold are cut (the kernel never sends such).
function prefixBytes(r: PacketRecord): number {
  return Math.min(r.prefix.length, LONGEST_VALUE - 1);
}

function l2HeaderBytes(r: PacketRecord): number {
  return Math.min(r.l2Header!.length >> 1, LONGEST_VALUE);
}

/** hwHeader is 'aa:bb:…': three characters a byte, the last without its ':'. */
function hwHeaderBytes(r: PacketRecord): number {
  return Math.min(Math.floor((r.hwHeader!.length + 1) / 3), LONGEST_VALUE);
}

function payloadBytes(r: PacketRecord): number {
  return Math.min(r.payload!.length, LONGEST_VALUE);
}

/** Whole microseconds for a time field: 0 for what is not a time (NaN, negative, infinite). */
function wholeMicroseconds(us: number): number {
  return Number.isFinite(us) && us > 0 ? Math.min(Math.floor(us), Number.MAX_SAFE_INTEGER) : 0;
}

/** Bytes an attribute with a value of `length` bytes takes, padding included. */
function tlv(length: number): number {
  return nlAlign(F.NFLOG_TLV_HEADER_LEN + length);
}

/**
 * Writes up to `max` bytes from hex text ('aa:bb:…', 'aa-bb-…' or plain
 * 'aabb…') at `at`; stops at the first pair that is not hex. Returns how
 * many bytes it wrote.
 */
function writeHex(out: Buffer, at: number, text: string, max: number): number {
  let written = 0;
  for (let i = 0; written < max && i + 1 < text.length; ) {
    const high = hexValue(text.charCodeAt(i));
    const low = hexValue(text.charCodeAt(i + 1));
    if (high < 0 || low < 0) break;
    out[at + written++] = (high << 4) | low;
    i += 2;
    const next = text.charCodeAt(i);
    if (next === 0x3a || next === 0x2d) i++; // ':' or '-'
  }
  return written;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}
