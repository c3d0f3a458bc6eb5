// Where the length fields of a netlink datagram are: the nlmsghdr length of
// every message and the nla_len of every attribute, nested ones included.
// The mutator aims at these, because a wrong length is what walks a decoder
// out of bounds. The walk is a guess over possibly broken bytes: it stops at
// the first length that does not fit.

export interface LengthField {
  /** Byte offset of the field. */
  at: number;
  /** 4: nlmsg_len (u32 LE); 2: nla_len (u16 LE). */
  size: 2 | 4;
  /** Bytes from the field to the end of its enclosing container. */
  room: number;
}

const NLMSG_HDRLEN = 16;
const MAX_DEPTH = 4;

/**
 * Length fields of the messages in bytes[start, length), taking each message
 * body to start with `bodyHeader` bytes of family header (nfgenmsg: 4; ifinfomsg: 16).
 */
export function lengthFields(bytes: Uint8Array, start: number, length: number, bodyHeader: number, out: LengthField[] = []): LengthField[] {
  let at = start;
  while (at + NLMSG_HDRLEN <= length) {
    const len = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
    out.push({ at, size: 4, room: length - at });
    if (len < NLMSG_HDRLEN || at + len > length) break;
    attributeFields(bytes, at + NLMSG_HDRLEN + bodyHeader, at + len, 0, out);
    at += (len + 3) & ~3;
  }
  return out;
}

/** Length fields of the attributes in bytes[start, end), descending into any payload that parses as attributes. */
export function attributeFields(bytes: Uint8Array, start: number, end: number, depth: number, out: LengthField[]): void {
  let at = start;
  while (at + 4 <= end) {
    const len = bytes[at] | (bytes[at + 1] << 8);
    if (len < 4 || at + len > end) break;
    out.push({ at, size: 2, room: end - at });
    // Nested (NLA_F_NESTED, or a payload that itself looks like attributes): walk in.
    if (depth < MAX_DEPTH && len >= 8 && looksLikeAttributes(bytes, at + 4, at + len)) {
      attributeFields(bytes, at + 4, at + len, depth + 1, out);
    }
    at += (len + 3) & ~3;
  }
}

function looksLikeAttributes(bytes: Uint8Array, start: number, end: number): boolean {
  let at = start;
  while (at + 4 <= end) {
    const len = bytes[at] | (bytes[at + 1] << 8);
    if (len < 4 || at + len > end) return false;
    at += (len + 3) & ~3;
  }
  return at >= end;
}
