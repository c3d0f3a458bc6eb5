// Netlink framing: the messages of one datagram and the attributes of one
// message. Bounds-checked, allocation-free: callers pass their own tables.

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0x3fff;

export function nlAlign(n: number): number {
  return (n + 3) & ~3;
}

/** One message's header, as read by readMessageHeader. */
export interface MessageHeader {
  /** Total length including the header; 0 when the header could not be read. */
  length: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/**
 * Reads the nlmsghdr at `offset` (host byte order: little endian on the
 * machines this runs on). Returns false, leaving `out` untouched, when fewer
 * than 16 bytes remain or the length field does not fit inside `end`.
 */
export function readMessageHeader(view: DataView, offset: number, end: number, out: MessageHeader): boolean {
  if (offset + NLMSG_HDRLEN > end) return false;
  const length = view.getUint32(offset, true);
  if (length < NLMSG_HDRLEN || offset + length > end) return false;
  out.length = length;
  out.type = view.getUint16(offset + 4, true);
  out.flags = view.getUint16(offset + 6, true);
  out.seq = view.getUint32(offset + 8, true);
  out.pid = view.getUint32(offset + 12, true);
  return true;
}

/**
 * Attribute table: for each attribute type up to a maximum, where its payload
 * starts and how long it is. One table is reused for every message.
 */
export class AttributeTable {
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /** Types seen in the last parse, so clearing costs only what was set. */
  private readonly seen: Int32Array;
  private seenCount = 0;

  constructor(readonly maxType: number) {
    this.offsets = new Int32Array(maxType + 1).fill(-1);
    this.lengths = new Int32Array(maxType + 1);
    this.seen = new Int32Array(maxType + 1);
  }

  has(type: number): boolean {
    return this.offsets[type] >= 0;
  }

  /**
   * Fills the table from the attributes in [offset, end). Types above
   * maxType are skipped (newer kernels add attributes). The last occurrence of
   * a type wins. Returns null, or an error code when the attributes are
   * malformed; the attributes before the fault are kept.
   */
  parse(view: DataView, offset: number, end: number): string | null {
    for (let i = 0; i < this.seenCount; i++) this.offsets[this.seen[i]] = -1;
    this.seenCount = 0;
    let at = offset;
    while (at + NLA_HDRLEN <= end) {
      const length = view.getUint16(at, true);
      if (length < NLA_HDRLEN || at + length > end) return 'netlink.bad-attribute-length';
      const type = view.getUint16(at + 2, true) & NLA_TYPE_MASK;
      if (type <= this.maxType) {
        if (this.offsets[type] < 0) this.seen[this.seenCount++] = type;
        this.offsets[type] = at + NLA_HDRLEN;
        this.lengths[type] = length - NLA_HDRLEN;
      }
      at += nlAlign(length);
    }
    // Fewer than 4 trailing bytes are padding, not an attribute.
    return null;
  }
}
