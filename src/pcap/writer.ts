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

const ARPHRD_ETHER = 1;
const ETH_HLEN = 14;
/** struct nfulnl_msg_packet_hw: be16 address length, u16 pad, u8 address[8]. */
const HWADDR_LEN = 12;
const HWADDR_MAX = 8;
const TIMESTAMP_LEN = 16;

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
      throw new RangeError(`NflogPcapWriter: snaplen must be an integer from ${F.NFLOG_HEADER_LEN} to ${F.LARGEST_RECORD}, got ${String(snaplen)}`);
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
    const entry = this.entry(record);
    const captured = Math.min(entry.length, this.snaplen);
    if (captured < entry.length) this.counters.snapped++;
    if (record.payload === undefined) this.counters.withoutPayload++;
    const out = Buffer.allocUnsafe(F.PCAP_RECORD_HEADER_LEN + captured);
    // The time the entry was received, as libpcap stamps it.
    const us = Math.max(0, Math.floor(record.receivedUs));
    const seconds = Math.floor(us / 1e6);
    const micros = us - seconds * 1e6;
    this.u32(out, 0, seconds >>> 0);
    this.u32(out, 4, this.nanoseconds ? micros * 1000 : micros);
    this.u32(out, 8, captured);
    this.u32(out, 12, entry.length);
    out.set(entry.subarray(0, captured), F.PCAP_RECORD_HEADER_LEN);
    this.counters.records++;
    this.counters.bytes += out.length;
    return out;
  }

  /** The packet records of a batch as consecutive pcap records; other kinds are left out. */
  encodeBatch(records: readonly CollectorRecord[]): Buffer {
    const parts: Buffer[] = [];
    for (const record of records) if (record.kind === 'packet') parts.push(this.encode(record));
    return Buffer.concat(parts);
  }

  /** The NFLOG entry: header and attributes, in the kernel's order (__build_packet_message). */
  private entry(r: PacketRecord): Buffer {
    const link = r.packet.link?.kind === 'ethernet' && r.hwType === ARPHRD_ETHER ? r.packet.link : undefined;
    const hwAddr = r.hwAddr === undefined ? undefined : macBytes(r.hwAddr);
    const l2Header = r.l2Header === undefined ? undefined : hexBytes(r.l2Header);
    const prefix = Buffer.from(`${r.prefix}\0`, 'latin1');

    let size = F.NFLOG_HEADER_LEN + tlv(4) + tlv(prefix.length);
    for (const value of [r.inIfindex, r.physInIfindex, r.outIfindex, r.physOutIfindex, r.mark]) if (value !== undefined) size += tlv(4);
    if (hwAddr) size += tlv(HWADDR_LEN);
    if (r.hwType !== undefined) size += tlv(2);
    if (r.hwLen !== undefined) size += tlv(2);
    if (link) size += tlv(ETH_HLEN);
    if (r.kernelTimestamp) size += tlv(TIMESTAMP_LEN);
    for (const value of [r.uid, r.gid, r.seq, r.seqGlobal, r.ctInfo]) if (value !== undefined) size += tlv(4);
    if (r.vlan) size += tlv(tlv(2) + tlv(2));
    if (l2Header) size += tlv(l2Header.length);
    if (r.payload) size += tlv(r.payload.length);

    const out = Buffer.alloc(size);
    out[0] = r.family;
    out[1] = F.NFLOG_VERSION;
    out.writeUInt16BE(r.group & 0xffff, 2);
    let at = F.NFLOG_HEADER_LEN;

    at = this.attribute(out, at, C.NFULA_PACKET_HDR, 4);
    out.writeUInt16BE(r.hwProtocol & 0xffff, at - 4);
    out[at - 2] = r.hook;
    at = this.bytes(out, at, C.NFULA_PREFIX, prefix);
    at = this.be32(out, at, C.NFULA_IFINDEX_INDEV, r.inIfindex);
    at = this.be32(out, at, C.NFULA_IFINDEX_PHYSINDEV, r.physInIfindex);
    at = this.be32(out, at, C.NFULA_IFINDEX_OUTDEV, r.outIfindex);
    at = this.be32(out, at, C.NFULA_IFINDEX_PHYSOUTDEV, r.physOutIfindex);
    at = this.be32(out, at, C.NFULA_MARK, r.mark);
    if (hwAddr) {
      at = this.attribute(out, at, C.NFULA_HWADDR, HWADDR_LEN);
      const value = at - nlAlign(HWADDR_LEN);
      out.writeUInt16BE(hwAddr.length, value);
      out.set(hwAddr, value + 4);
    }
    at = this.be16(out, at, C.NFULA_HWTYPE, r.hwType);
    at = this.be16(out, at, C.NFULA_HWLEN, r.hwLen);
    if (link) {
      const header = Buffer.alloc(ETH_HLEN);
      header.set(macBytes(link.dst).subarray(0, 6), 0);
      header.set(macBytes(link.src).subarray(0, 6), 6);
      header.writeUInt16BE(link.etherType & 0xffff, 12);
      at = this.bytes(out, at, C.NFULA_HWHEADER, header);
    }
    if (r.kernelTimestamp) {
      at = this.attribute(out, at, C.NFULA_TIMESTAMP, TIMESTAMP_LEN);
      const us = Math.max(0, Math.floor(r.timestampUs));
      const seconds = Math.floor(us / 1e6);
      out.writeBigUInt64BE(BigInt(seconds), at - 16);
      out.writeBigUInt64BE(BigInt(us - seconds * 1e6), at - 8);
    }
    at = this.be32(out, at, C.NFULA_UID, r.uid);
    at = this.be32(out, at, C.NFULA_GID, r.gid);
    at = this.be32(out, at, C.NFULA_SEQ, r.seq);
    at = this.be32(out, at, C.NFULA_SEQ_GLOBAL, r.seqGlobal);
    at = this.be32(out, at, C.NFULA_CT_INFO, r.ctInfo);
    if (r.vlan) {
      const start = at;
      at = this.attribute(out, at, C.NFULA_VLAN | NLA_F_NESTED, tlv(2) + tlv(2));
      let inner = start + F.NFLOG_TLV_HEADER_LEN;
      inner = this.be16(out, inner, C.NFULA_VLAN_PROTO, r.vlan.proto);
      this.be16(out, inner, C.NFULA_VLAN_TCI, r.vlan.tci);
    }
    if (l2Header) at = this.bytes(out, at, C.NFULA_L2HDR, l2Header);
    if (r.payload) at = this.bytes(out, at, C.NFULA_PAYLOAD, r.payload);
    return out;
  }

  /** Writes an attribute header for a value of `length` bytes at `at`; returns the end of the padded value. */
  private attribute(out: Buffer, at: number, type: number, length: number): number {
    this.u16(out, at, F.NFLOG_TLV_HEADER_LEN + length);
    this.u16(out, at + 2, type);
    return at + tlv(length);
  }

  private bytes(out: Buffer, at: number, type: number, value: Uint8Array): number {
    const end = this.attribute(out, at, type, value.length);
    out.set(value, at + F.NFLOG_TLV_HEADER_LEN);
    return end;
  }

  private be32(out: Buffer, at: number, type: number, value: number | undefined): number {
    if (value === undefined) return at;
    const end = this.attribute(out, at, type, 4);
    out.writeUInt32BE(value >>> 0, at + F.NFLOG_TLV_HEADER_LEN);
    return end;
  }

  private be16(out: Buffer, at: number, type: number, value: number | undefined): number {
    if (value === undefined) return at;
    const end = this.attribute(out, at, type, 2);
    out.writeUInt16BE(value & 0xffff, at + F.NFLOG_TLV_HEADER_LEN);
    return end;
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

/** Bytes an attribute with a value of `length` bytes takes, padding included. */
function tlv(length: number): number {
  return nlAlign(F.NFLOG_TLV_HEADER_LEN + length);
}

/** 'aa:bb:…' (or 'aa-bb-…') to bytes, at most 8 (the kernel's hw_addr). */
function macBytes(text: string): Buffer {
  return hexBytes(text.replace(/[:-]/g, '')).subarray(0, HWADDR_MAX);
}

function hexBytes(hex: string): Buffer {
  return Buffer.from(hex.length % 2 === 0 ? hex : hex.slice(0, -1), 'hex');
}
