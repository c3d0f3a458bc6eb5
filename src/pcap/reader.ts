// Reads pcap files of link type NFLOG (what `tcpdump -i nflog:N -w FILE`
// writes) into the PacketRecords the live collector delivers, in chunks of
// any size: a file of hundreds of MB never has to be in memory at once.
//
// Times: receivedUs is the pcap record's timestamp (libpcap stamps the time
// it read the datagram, as the live reader does); timestampUs is the kernel's
// NFULA_TIMESTAMP when the entry has one, else the same pcap timestamp —
// exactly the rule of live records.
//
// Never throws on bad bytes: a record that is not NFLOG is skipped and
// counted, a record that does not decode is delivered with decodeError (as
// live), and what makes the rest of the file unreadable (bad magic, another
// link type, an impossible record length, a cut-off end) stops the reader
// and is said in `fatal`.
import { NflogDecoder } from '../nflog/decode';
import { NLA_F_NESTED, NLA_TYPE_MASK, nlAlign } from '../netlink/message';
import type { PacketRecord } from '../records';
import * as F from './format';

export interface NflogPcapReaderOptions {
  /** Keep a copy of each packet's payload on the record (as the collector option). Default false. */
  includePayload?: boolean;
  /** Operator labels per group (as the collector option `labels`). */
  labels?: ReadonlyMap<number, string>;
  /** Interface names by index: a pcap file carries only the indexes. */
  interfaces?: ReadonlyMap<number, string>;
}

export interface NflogPcapCounters {
  /** Whole pcap records read. */
  records: number;
  /** Packet records produced. */
  packets: number;
  /** Packet records delivered with decodeError set. */
  decodeErrors: number;
  /** Records skipped: shorter than the NFLOG header, or an NFLOG version other than 0. */
  skipped: number;
  /** Records the snapshot length cut (captured length below the original length). */
  snapped: number;
  /** Bytes pushed in. */
  bytes: number;
}

/** Nesting deeper than this is not followed when swapping attribute headers. */
const MAX_NESTING = 8;

export class NflogPcapReader {
  /** The file header, once the first 24 bytes have arrived. */
  header: F.PcapFileHeader | null = null;
  /** Why reading stopped for good, or null. */
  fatal: string | null = null;
  readonly counters: NflogPcapCounters = { records: 0, packets: 0, decodeErrors: 0, skipped: 0, snapped: 0, bytes: 0 };

  private readonly decoder: NflogDecoder;
  private readonly labels: ReadonlyMap<number, string> | undefined;
  private readonly interfaces: ReadonlyMap<number, string> | undefined;
  private littleEndian = true;
  private nanoseconds = false;
  private largestRecord = F.MAXIMUM_SNAPLEN;
  /** A unit (file header or record) that the last chunk left incomplete. */
  private pending = new Uint8Array(0);
  private pendingView = new DataView(this.pending.buffer);
  private pendingLength = 0;
  /** Where records are rewritten before decoding (swapped or snapped ones). */
  private scratch = new Uint8Array(0);
  private scratchView = new DataView(this.scratch.buffer);

  constructor(options: NflogPcapReaderOptions = {}) {
    this.decoder = new NflogDecoder(options.includePayload ?? false);
    this.labels = options.labels;
    this.interfaces = options.interfaces;
  }

  /** Everything that went wrong: records with decode errors, skipped records, and a fatal stop. */
  get errors(): number {
    return this.counters.decodeErrors + this.counters.skipped + (this.fatal === null ? 0 : 1);
  }

  /** Decodes the records completed by `chunk` and appends them to `out` (returned). */
  push(input: Uint8Array, out: PacketRecord[] = []): PacketRecord[] {
    if (this.fatal !== null) return out;
    this.counters.bytes += input.length;
    // A plain Uint8Array over the same memory: a Buffer's slice() would share the caller's bytes with payloads.
    const chunk = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const end = chunk.length;
    let at = 0;
    // First complete the unit an earlier chunk began.
    while (this.pendingLength > 0 && at < end) {
      let need = this.unitLength(this.pendingView, 0, this.pendingLength);
      if (need < 0) return out;
      if (this.pendingLength < need) {
        const take = Math.min(need - this.pendingLength, end - at);
        this.appendPending(chunk, at, take);
        at += take;
        // The record header may just have arrived: now its length is known.
        need = this.unitLength(this.pendingView, 0, this.pendingLength);
        if (need < 0) return out;
      }
      if (this.pendingLength < need) continue;
      this.unit(this.pending, this.pendingView, 0, out);
      this.pendingLength = 0;
    }
    // Then whole units straight from the chunk, without copying.
    while (at < end && this.fatal === null) {
      const need = this.unitLength(view, at, end - at);
      if (need < 0 || end - at < need) break;
      this.unit(chunk, view, at, out);
      at += need;
    }
    if (this.fatal === null && at < end) this.appendPending(chunk, at, end - at);
    return out;
  }

  /** The input is over: a unit still incomplete means the file was cut off. */
  end(): void {
    if (this.fatal !== null) return;
    if (this.header === null) {
      this.fatal =
        this.counters.bytes === 0
          ? 'pcap.empty: no file header'
          : `pcap.truncated-file: ${this.pendingLength} bytes, fewer than the ${F.PCAP_FILE_HEADER_LEN} of a file header`;
    } else if (this.pendingLength > 0) {
      const need = this.unitLength(this.pendingView, 0, this.pendingLength);
      this.fatal = `pcap.truncated-file: the last record has ${this.pendingLength} of its ${need} bytes`;
    }
    this.pendingLength = 0;
  }

  /**
   * Length of the unit starting at `at`, as far as the `available` bytes
   * tell: the file header, a record header, or a whole record. -1 (and
   * fatal set) when the record length is impossible.
   */
  private unitLength(view: DataView, at: number, available: number): number {
    if (this.header === null) return F.PCAP_FILE_HEADER_LEN;
    if (available < F.PCAP_RECORD_HEADER_LEN) return F.PCAP_RECORD_HEADER_LEN;
    const captured = view.getUint32(at + 8, this.littleEndian);
    if (captured > this.largestRecord) {
      this.fatal = `pcap.bad-record-length: a record claims ${captured} bytes (snaplen ${this.header.snaplen})`;
      this.pendingLength = 0;
      return -1;
    }
    return F.PCAP_RECORD_HEADER_LEN + captured;
  }

  private unit(bytes: Uint8Array, view: DataView, at: number, out: PacketRecord[]): void {
    if (this.header === null) this.fileHeader(view, at);
    else this.record(bytes, view, at, out);
  }

  private fileHeader(view: DataView, at: number): void {
    const magic = view.getUint32(at, true);
    let littleEndian: boolean;
    let nanoseconds: boolean;
    if (magic === F.PCAP_MAGIC_MICROSECONDS || magic === F.PCAP_MAGIC_NANOSECONDS) {
      littleEndian = true;
      nanoseconds = magic === F.PCAP_MAGIC_NANOSECONDS;
    } else {
      const swapped = view.getUint32(at, false);
      if (swapped !== F.PCAP_MAGIC_MICROSECONDS && swapped !== F.PCAP_MAGIC_NANOSECONDS) {
        this.fatal =
          magic === F.PCAPNG_MAGIC
            ? 'pcap.pcapng: a pcapng file; write classic pcap (tcpdump -w does, or: editcap -F pcap)'
            : `pcap.bad-magic: 0x${magic.toString(16).padStart(8, '0')} is not a pcap file`;
        return;
      }
      littleEndian = false;
      nanoseconds = swapped === F.PCAP_MAGIC_NANOSECONDS;
    }
    const header: F.PcapFileHeader = {
      byteOrder: littleEndian ? 'little' : 'big',
      nanoseconds,
      versionMajor: view.getUint16(at + 4, littleEndian),
      versionMinor: view.getUint16(at + 6, littleEndian),
      snaplen: view.getUint32(at + 16, littleEndian),
      // The upper bits may carry FCS information; the link type is the low 26.
      linkType: view.getUint32(at + 20, littleEndian) & 0x03ffffff,
    };
    this.header = header;
    if (header.linkType !== F.LINKTYPE_NFLOG) {
      this.fatal = `pcap.not-nflog: link type ${header.linkType}, not ${F.LINKTYPE_NFLOG} (NFLOG)`;
      return;
    }
    this.littleEndian = littleEndian;
    this.nanoseconds = nanoseconds;
    this.largestRecord = Math.min(Math.max(header.snaplen, F.MAXIMUM_SNAPLEN), F.LARGEST_RECORD);
  }

  private record(bytes: Uint8Array, view: DataView, at: number, out: PacketRecord[]): void {
    const le = this.littleEndian;
    const seconds = view.getUint32(at, le);
    const fraction = view.getUint32(at + 4, le);
    const captured = view.getUint32(at + 8, le);
    const original = view.getUint32(at + 12, le);
    const receivedUs = seconds * 1e6 + (this.nanoseconds ? Math.floor(fraction / 1000) : fraction);
    this.counters.records++;
    const body = at + F.PCAP_RECORD_HEADER_LEN;
    if (captured < F.NFLOG_HEADER_LEN || bytes[body + 1] !== F.NFLOG_VERSION) {
      this.counters.skipped++;
      return;
    }
    const snapped = captured < original;
    if (snapped) this.counters.snapped++;
    let record: PacketRecord;
    if (le && !snapped) {
      // The common case, a file from a little-endian host: decode in place.
      record = this.decoder.decodeBody(bytes, view, body, body + captured, receivedUs);
    } else {
      this.rewrite(bytes, body, captured, !le, snapped);
      record = this.decoder.decodeBody(this.scratch, this.scratchView, 0, captured, receivedUs);
    }
    this.finish(record, out);
  }

  /**
   * Copies a record's body to the scratch buffer and makes its attribute
   * headers little-endian (they are in the file's byte order) and, for a
   * record the snapshot length cut, shortens the cut attribute to what is
   * there, so the payload's captured part still decodes.
   */
  private rewrite(bytes: Uint8Array, body: number, length: number, swap: boolean, snapped: boolean): void {
    if (this.scratch.length < length) {
      this.scratch = new Uint8Array(Math.max(length, this.scratch.length * 2, 4096));
      this.scratchView = new DataView(this.scratch.buffer);
    }
    this.scratch.set(bytes.subarray(body, body + length));
    if (swap) swapAttributes(this.scratch, F.NFLOG_HEADER_LEN, length, 0);
    if (!snapped) return;
    const view = this.scratchView;
    let at = F.NFLOG_HEADER_LEN;
    while (at + F.NFLOG_TLV_HEADER_LEN <= length) {
      const tlvLength = view.getUint16(at, true);
      if (tlvLength < F.NFLOG_TLV_HEADER_LEN) return;
      if (at + tlvLength > length) {
        view.setUint16(at, length - at, true);
        return;
      }
      at += nlAlign(tlvLength);
    }
  }

  private finish(record: PacketRecord, out: PacketRecord[]): void {
    if (record.decodeError) this.counters.decodeErrors++;
    const label = this.labels?.get(record.group);
    if (label !== undefined) record.groupLabel = label;
    const names = this.interfaces;
    if (names) {
      if (record.inIfindex !== undefined) record.inInterface = names.get(record.inIfindex);
      if (record.outIfindex !== undefined) record.outInterface = names.get(record.outIfindex);
      if (record.physInIfindex !== undefined) record.physInInterface = names.get(record.physInIfindex);
      if (record.physOutIfindex !== undefined) record.physOutInterface = names.get(record.physOutIfindex);
    }
    this.counters.packets++;
    out.push(record);
  }

  private appendPending(bytes: Uint8Array, at: number, length: number): void {
    const needed = this.pendingLength + length;
    if (this.pending.length < needed) {
      const grown = new Uint8Array(Math.max(needed, this.pending.length * 2, 4096));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
      this.pendingView = new DataView(grown.buffer);
    }
    this.pending.set(bytes.subarray(at, at + length), this.pendingLength);
    this.pendingLength = needed;
  }
}

/**
 * Byte-swaps the u16 length and type of each attribute in bytes[at, end),
 * and of the attributes nested in those flagged NLA_F_NESTED (libpcap swaps
 * only the top level; nested ones come from the same host, so they are
 * swapped too). Stops at the first malformed header.
 */
function swapAttributes(bytes: Uint8Array, at: number, end: number, depth: number): void {
  while (at + F.NFLOG_TLV_HEADER_LEN <= end) {
    swap16(bytes, at);
    swap16(bytes, at + 2);
    const length = bytes[at] | (bytes[at + 1] << 8);
    const type = bytes[at + 2] | (bytes[at + 3] << 8);
    if (length < F.NFLOG_TLV_HEADER_LEN) return;
    const valueEnd = Math.min(at + length, end);
    if (type & NLA_F_NESTED && (type & NLA_TYPE_MASK) !== 0 && depth < MAX_NESTING) {
      swapAttributes(bytes, at + F.NFLOG_TLV_HEADER_LEN, valueEnd, depth + 1);
    }
    at += nlAlign(length);
  }
}

function swap16(bytes: Uint8Array, at: number): void {
  const first = bytes[at];
  bytes[at] = bytes[at + 1];
  bytes[at + 1] = first;
}

export interface NflogPcapContents {
  records: PacketRecord[];
  /** reader.errors: records with decode errors, skipped records, and a fatal stop. */
  errors: number;
  header: F.PcapFileHeader | null;
  counters: NflogPcapCounters;
  fatal: string | null;
}

/** Reads a whole NFLOG pcap file held in memory. Pure; never throws on bad bytes. */
export function readNflogPcap(bytes: Uint8Array, options: NflogPcapReaderOptions = {}): NflogPcapContents {
  const reader = new NflogPcapReader(options);
  const records = reader.push(bytes);
  reader.end();
  return { records, errors: reader.errors, header: reader.header, counters: reader.counters, fatal: reader.fatal };
}

/**
 * Bytes decoded per batch at most. Small batches let records die young: over
 * a 230 MB file, 64 KiB batches read 584k records/s, 1 MiB ones 155k (the
 * garbage collector promoting whole batches).
 */
const BATCH_BYTES = 64 * 1024;

/**
 * Reads an NFLOG pcap stream (a file's ReadStream, say) and yields the
 * records of each piece of at most 64 KiB. Ends the reader when the source
 * ends: its counters and `fatal` then say what went wrong.
 */
export async function* readNflogPcapBatches(
  source: AsyncIterable<Uint8Array>,
  reader: NflogPcapReader,
): AsyncGenerator<PacketRecord[], void, undefined> {
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length && reader.fatal === null; at += BATCH_BYTES) {
      const records = reader.push(chunk.subarray(at, Math.min(chunk.length, at + BATCH_BYTES)));
      if (records.length > 0) yield records;
    }
    if (reader.fatal !== null) break;
  }
  reader.end();
}
