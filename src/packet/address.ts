// Address text: IPv4 dotted quad, IPv6 in RFC 5952 canonical form, MAC.
// Callers check bounds; these read exactly 4, 16 or `length` bytes.

import { DECIMAL, DECIMAL_DOT, HEX_LOWER, HEX_SHORT, LOWER_DIGIT_CODES } from './hex';

// A gateway's log repeats few addresses: each of 4,096 slots (chosen by a hash of the
// address) remembers the last IPv4 address that fell in it and its text. A typed-array slot
// lookup is cheaper than a Map, and it is bounded: random addresses cost a recomputation, not memory.
const IPV4_SLOTS = 4096;
const IPV4_KEYS = new Int32Array(IPV4_SLOTS);
const IPV4_TEXTS: Array<string | undefined> = new Array<string | undefined>(IPV4_SLOTS).fill(undefined);

/** '192.0.2.1' from 4 bytes at offset. */
export function ipv4ToString(bytes: Uint8Array, offset: number): string {
  const key = (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
  const slot = Math.imul(key, 0x9e3779b1) >>> 20; // the top 12 bits: IPV4_SLOTS slots
  const known = IPV4_TEXTS[slot];
  if (known !== undefined && IPV4_KEYS[slot] === key) return known;
  const text = DECIMAL_DOT[bytes[offset]] + DECIMAL_DOT[bytes[offset + 1]] + DECIMAL_DOT[bytes[offset + 2]] + DECIMAL[bytes[offset + 3]];
  IPV4_KEYS[slot] = key;
  IPV4_TEXTS[slot] = text;
  return text;
}

/** One 16-bit group without leading zeros. */
function group(bytes: Uint8Array, at: number): string {
  const hi = bytes[at];
  return hi === 0 ? HEX_SHORT[bytes[at + 1]] : HEX_SHORT[hi] + HEX_LOWER[bytes[at + 1]];
}

// Building IPv6 text takes about 0.1 µs and a gateway's log repeats few addresses: each of
// 1,024 slots (chosen by a hash of the 16 bytes) remembers the last address that fell in it and
// its text. Bounded: random addresses cost a recomputation, not memory.
const IPV6_SLOTS = 1024;
const IPV6_KEYS = new Uint8Array(IPV6_SLOTS * 16);
const IPV6_TEXTS: Array<string | undefined> = new Array<string | undefined>(IPV6_SLOTS).fill(undefined);

/**
 * RFC 5952 text of the 16-byte address at offset: lower case, no leading
 * zeros, the longest run of two or more zero groups (the first on ties)
 * written as '::', and IPv4-mapped addresses as '::ffff:192.0.2.1'.
 */
export function ipv6ToString(bytes: Uint8Array, offset: number): string {
  let hash = 0;
  for (let i = 0; i < 16; i++) hash = (Math.imul(hash, 31) + bytes[offset + i]) | 0;
  const slot = (hash ^ (hash >>> 10) ^ (hash >>> 20)) & (IPV6_SLOTS - 1);
  const key = slot * 16;
  let text = IPV6_TEXTS[slot];
  if (text !== undefined && sameBytes(IPV6_KEYS, key, bytes, offset, 16)) return text;
  text = ipv6Text(bytes, offset);
  for (let i = 0; i < 16; i++) IPV6_KEYS[key + i] = bytes[offset + i];
  IPV6_TEXTS[slot] = text;
  return text;
}

function sameBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

function ipv6Text(bytes: Uint8Array, offset: number): string {
  // Longest run of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const at = offset + 2 * i;
    if (bytes[at] === 0 && bytes[at + 1] === 0) {
      if (runStart < 0) runStart = i;
      const len = i - runStart + 1;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }

  // ::ffff:a.b.c.d (RFC 5952 section 5).
  if (bestStart === 0 && bestLen === 5 && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff) {
    return '::ffff:' + ipv4ToString(bytes, offset + 12);
  }

  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s.length > 0 && i !== bestStart + bestLen) s += ':';
    s += group(bytes, offset + 2 * i);
  }
  return s;
}

// A gateway sees few distinct MACs: each of 1,024 slots remembers the last MAC that fell in it
// (its two 24-bit halves) and its text. A plain array lookup is cheaper than a Map keyed by
// the 48-bit value, which is not a small integer.
const MAC_SLOTS = 1024;
const MAC_HIGH = new Int32Array(MAC_SLOTS);
const MAC_LOW = new Int32Array(MAC_SLOTS);
const MAC_TEXTS: Array<string | undefined> = new Array<string | undefined>(MAC_SLOTS).fill(undefined);

/** 'aa:bb:cc:dd:ee:ff' (lower case) from `length` bytes at offset. */
export function macToString(bytes: Uint8Array, offset: number, length = 6): string {
  if (length === 6) {
    const a = bytes[offset];
    const b = bytes[offset + 1];
    const c = bytes[offset + 2];
    const d = bytes[offset + 3];
    const e = bytes[offset + 4];
    const f = bytes[offset + 5];
    const high = (a << 16) | (b << 8) | c;
    const low = (d << 16) | (e << 8) | f;
    const slot = (low ^ (low >>> 10) ^ high ^ (high >>> 10)) & (MAC_SLOTS - 1);
    const known = MAC_TEXTS[slot];
    if (known !== undefined && MAC_HIGH[slot] === high && MAC_LOW[slot] === low) return known;
    const H = LOWER_DIGIT_CODES;
    const text = String.fromCharCode(
      H[a >> 4],
      H[a & 15],
      58,
      H[b >> 4],
      H[b & 15],
      58,
      H[c >> 4],
      H[c & 15],
      58,
      H[d >> 4],
      H[d & 15],
      58,
      H[e >> 4],
      H[e & 15],
      58,
      H[f >> 4],
      H[f & 15],
    );
    MAC_HIGH[slot] = high;
    MAC_LOW[slot] = low;
    MAC_TEXTS[slot] = text;
    return text;
  }
  if (length <= 0) return '';
  let s = HEX_LOWER[bytes[offset]];
  for (let i = 1; i < length; i++) s += ':' + HEX_LOWER[bytes[offset + i]];
  return s;
}

// The MAC header text joins six pieces, a chain of five string pieces; a gateway sees few distinct 14-byte headers, so each of 1,024 slots
// remembers the last header that fell in it (as four integers) with its flat text and its two
// addresses' text: one lookup gives an Ethernet entry all three.
const HEADER_SLOTS = 1024;
const HEADER_KEYS = new Int32Array(HEADER_SLOTS * 4);
const HEADER_ENTRIES: Array<EthernetHeaderText | undefined> = new Array<EthernetHeaderText | undefined>(HEADER_SLOTS).fill(undefined);

/** The text of a 14-byte Ethernet header: as the kernel's LOG prints it after MAC=, and its addresses. Shared: never modify. */
export interface EthernetHeaderText {
  /** Every byte as lower-case hex joined by ':'. */
  readonly header: string;
  readonly dst: string;
  readonly src: string;
}

/** The text of the 14-byte Ethernet header at offset (the caller checked that 14 bytes are there). */
export function ethernetHeaderText(bytes: Uint8Array, offset: number): EthernetHeaderText {
  const a = (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
  const b = (bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7];
  const c = (bytes[offset + 8] << 24) | (bytes[offset + 9] << 16) | (bytes[offset + 10] << 8) | bytes[offset + 11];
  const d = (bytes[offset + 12] << 8) | bytes[offset + 13];
  const slot = Math.imul(a ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35) ^ Math.imul(d, 0x27d4eb2f), 0x9e3779b1) >>> 22;
  const key = slot * 4;
  const known = HEADER_ENTRIES[slot];
  if (
    known !== undefined &&
    HEADER_KEYS[key] === a &&
    HEADER_KEYS[key + 1] === b &&
    HEADER_KEYS[key + 2] === c &&
    HEADER_KEYS[key + 3] === d
  ) {
    return known;
  }
  const dst = macToString(bytes, offset);
  const src = macToString(bytes, offset + 6);
  const entry: EthernetHeaderText = {
    header: dst + ':' + src + ':' + HEX_LOWER[bytes[offset + 12]] + ':' + HEX_LOWER[bytes[offset + 13]],
    dst,
    src,
  };
  HEADER_KEYS[key] = a;
  HEADER_KEYS[key + 1] = b;
  HEADER_KEYS[key + 2] = c;
  HEADER_KEYS[key + 3] = d;
  HEADER_ENTRIES[slot] = entry;
  return entry;
}

/**
 * A link-layer header as the kernel's LOG prints it after MAC=: every byte as
 * lower-case hex joined by ':'. Ethernet's 14 bytes: a cached text.
 */
export function linkHeaderToString(bytes: Uint8Array, offset: number, length: number): string {
  return length === 14 ? ethernetHeaderText(bytes, offset).header : macToString(bytes, offset, length);
}
