// Community ID v1 (corelight/community-id-spec): a hash of a flow's endpoints
// that is the same in both directions and across tools (Zeek, Suricata, Elastic).
//
//   sha1( seed:u16be | addrA | addrB | proto:u8 | 0:u8 [| portA:u16be | portB:u16be] )
//   → '1:' + base64 (or hex) of the digest
//
// The endpoints are ordered so that the smaller address (byte-wise) comes first,
// the smaller port breaking a tie, except for one-way ICMP messages. Ports are
// hashed only for TCP, UDP, SCTP, ICMP and ICMPv6; for ICMP/ICMPv6 the type is
// the source "port" and the type's counterpart (echo request ↔ reply …) or, for
// types without one, the code is the destination "port".
//
// SHA-1 is sha1.ts's one-block JS SHA-1, into five words that the ECS line
// writer turns into base64 bytes in place (writeCommunityId): per packet that
// measured 0.23 µs against 0.35 µs for node's crypto.hash, its base64 string
// and copying that string into the line (BENCHMARKS.md).
import { parseIpInto } from '../packet/ip-text';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../packet/protocols';
import { sha1Block } from './sha1';

export interface CommunityIdInput {
  srcIp: string;
  dstIp: string;
  /** IANA protocol number. */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  /** ICMP/ICMPv6 only. When absent, srcPort/dstPort are read as type/code. */
  icmpType?: number;
  icmpCode?: number;
}

export interface CommunityIdOptions {
  /** 16-bit seed, 0 by default. */
  seed?: number;
  /** Base64 (the default) or lower-case hex digest. */
  base64?: boolean;
}

// Type → counterpart type; types not listed are one-way (code used as the port).
const ICMP4_COUNTERPART = new Int16Array(256).fill(-1);
const ICMP6_COUNTERPART = new Int16Array(256).fill(-1);
function pair(table: Int16Array, a: number, b: number): void {
  table[a] = b;
  table[b] = a;
}
pair(ICMP4_COUNTERPART, 8, 0); // echo ↔ echo reply
pair(ICMP4_COUNTERPART, 13, 14); // timestamp ↔ reply
pair(ICMP4_COUNTERPART, 15, 16); // information ↔ reply
pair(ICMP4_COUNTERPART, 10, 9); // router solicitation ↔ advertisement
pair(ICMP4_COUNTERPART, 17, 18); // address mask ↔ reply
pair(ICMP6_COUNTERPART, 128, 129); // echo request ↔ reply
pair(ICMP6_COUNTERPART, 130, 131); // MLD listener query ↔ report
pair(ICMP6_COUNTERPART, 133, 134); // router solicitation ↔ advertisement
pair(ICMP6_COUNTERPART, 135, 136); // neighbour solicitation ↔ advertisement
pair(ICMP6_COUNTERPART, 139, 140); // who-are-you request ↔ reply
pair(ICMP6_COUNTERPART, 144, 145); // home agent address discovery request ↔ reply

// The message: seed 2 + 2×16 addresses + proto + pad + 2×2 ports = 40 bytes at most, in
// one 64-byte block that sha1Block pads in place.
const BLOCK = new Uint8Array(64);
const ADDR_A = new Uint8Array(16);
const ADDR_B = new Uint8Array(16);

// The bytes of recently seen address texts, direct-mapped by a hash of a few of their
// characters: the ECS packet path gets its addresses as text (the record keeps no packet
// bytes), and a scan or a flood repeats few of them, so each is parsed once, not per
// packet (an IPv6 address took ~0.1 µs to parse). Bounded: new texts replace old ones.
const TEXT_SLOTS = 1024;
const TEXTS: Array<string | undefined> = new Array<string | undefined>(TEXT_SLOTS).fill(undefined);
const TEXT_BYTES = new Uint8Array(TEXT_SLOTS * 16);
const TEXT_LENGTHS = new Uint8Array(TEXT_SLOTS);

/** parseIpInto through the cache above: 4, 16, or 0 when the text is not an address. */
function addressBytes(text: string, out: Uint8Array): number {
  const n = text.length;
  if (n < 2) return parseIpInto(text, out);
  const slot =
    Math.imul(((text.charCodeAt(n - 1) * 31 + text.charCodeAt(n - 2)) * 31 + text.charCodeAt(n >> 1)) * 64 + n, 0x9e3779b1) >>> 22;
  const at = slot * 16;
  if (TEXTS[slot] === text) {
    const length = TEXT_LENGTHS[slot];
    for (let i = 0; i < length; i++) out[i] = TEXT_BYTES[at + i];
    return length;
  }
  const length = parseIpInto(text, out);
  if (length === 0) return 0;
  TEXTS[slot] = text;
  TEXT_LENGTHS[slot] = length;
  for (let i = 0; i < length; i++) TEXT_BYTES[at + i] = out[i];
  return length;
}

function compareBytes(a: Uint8Array, b: Uint8Array, len: number): number {
  for (let i = 0; i < len; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The Community ID's SHA-1 digest (five big-endian 32-bit words) into `digest`.
 * Returns false, leaving `digest` as it was, when an address cannot be parsed
 * or the two are of different families. Never throws. The ID is '1:' and the
 * digest in base64 (communityIdText, writeCommunityId) or hex.
 */
export function communityIdDigest(input: CommunityIdInput, seed: number, digest: Int32Array): boolean {
  const lenA = addressBytes(input.srcIp, ADDR_A);
  const lenB = lenA === 0 ? 0 : addressBytes(input.dstIp, ADDR_B);
  if (lenB === 0 || lenA !== lenB) return false;
  const proto = input.protocol & 0xff;

  let hasPorts = false;
  let sport = 0;
  let dport = 0;
  let oneWay = false;
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    const type = input.icmpType ?? input.srcPort;
    const code = input.icmpCode ?? input.dstPort;
    if (type !== undefined) {
      hasPorts = true;
      sport = type & 0xff;
      const other = (proto === IPPROTO_ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART)[sport];
      if (other >= 0) {
        dport = other;
      } else {
        dport = (code ?? 0) & 0xffff;
        oneWay = true;
      }
    }
  } else if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
    if (input.srcPort !== undefined && input.dstPort !== undefined) {
      hasPorts = true;
      sport = input.srcPort & 0xffff;
      dport = input.dstPort & 0xffff;
    }
  }

  let first = ADDR_A;
  let second = ADDR_B;
  if (!oneWay) {
    const cmp = compareBytes(ADDR_A, ADDR_B, lenA);
    if (cmp > 0 || (cmp === 0 && hasPorts && sport > dport)) {
      first = ADDR_B;
      second = ADDR_A;
      const t = sport;
      sport = dport;
      dport = t;
    }
  }

  const buf = BLOCK;
  buf[0] = (seed >>> 8) & 0xff;
  buf[1] = seed & 0xff;
  let off = 2;
  for (let i = 0; i < lenA; i++) buf[off + i] = first[i];
  off += lenA;
  for (let i = 0; i < lenA; i++) buf[off + i] = second[i];
  off += lenA;
  buf[off++] = proto;
  buf[off++] = 0;
  if (hasPorts) {
    buf[off++] = sport >>> 8;
    buf[off++] = sport & 0xff;
    buf[off++] = dport >>> 8;
    buf[off++] = dport & 0xff;
  }
  sha1Block(buf, off, digest);
  return true;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// 12 bits → two base64 characters, as two byte codes (low byte first).
const B64_PAIRS = new Uint16Array(4096);
for (let i = 0; i < 4096; i++) B64_PAIRS[i] = B64.charCodeAt(i >>> 6) | (B64.charCodeAt(i & 63) << 8);

/** Byte k (0–19) of the digest. */
const digestByte = (d: Int32Array, k: number): number => (d[k >> 2] >>> (24 - 8 * (k & 3))) & 0xff;

/** Length of '1:' and the digest in base64: 2 + 28. */
export const COMMUNITY_ID_LENGTH = 30;

/** '1:' and the digest in base64 (with padding) as bytes at `at`; returns the end. */
export function writeCommunityId(d: Int32Array, out: Uint8Array, at: number): number {
  out[at++] = 0x31; // 1
  out[at++] = 0x3a; // :
  for (let k = 0; k < 18; k += 3) {
    const v = (digestByte(d, k) << 16) | (digestByte(d, k + 1) << 8) | digestByte(d, k + 2);
    const p = B64_PAIRS[v >>> 12];
    const q = B64_PAIRS[v & 0xfff];
    out[at] = p & 0xff;
    out[at + 1] = p >>> 8;
    out[at + 2] = q & 0xff;
    out[at + 3] = q >>> 8;
    at += 4;
  }
  // 2 bytes left: 16 bits → 3 characters and one '='.
  const v = (digestByte(d, 18) << 8) | digestByte(d, 19);
  const p = B64_PAIRS[v >>> 4];
  out[at] = p & 0xff;
  out[at + 1] = p >>> 8;
  out[at + 2] = B64.charCodeAt((v & 0xf) << 2);
  out[at + 3] = 0x3d; // =
  return at + 4;
}

const TEXT = new Uint8Array(COMMUNITY_ID_LENGTH);

/** '1:' and the digest in base64: the Community ID's text. */
export function communityIdText(d: Int32Array): string {
  writeCommunityId(d, TEXT, 0);
  return String.fromCharCode.apply(null, TEXT as unknown as number[]);
}

function communityIdHex(d: Int32Array): string {
  let s = '1:';
  for (let i = 0; i < 5; i++) s += (d[i] >>> 0).toString(16).padStart(8, '0');
  return s;
}

const DIGEST = new Int32Array(5);

/**
 * Community ID v1, or undefined when an address cannot be parsed or the two
 * addresses are of different families. Never throws: for the per-packet path.
 */
export function tryCommunityId(input: CommunityIdInput, options?: CommunityIdOptions): string | undefined {
  if (!communityIdDigest(input, (options?.seed ?? 0) & 0xffff, DIGEST)) return undefined;
  return options?.base64 === false ? communityIdHex(DIGEST) : communityIdText(DIGEST);
}

/**
 * Community ID v1 of a flow. Throws a TypeError when an address is not a valid
 * IPv4/IPv6 address or the two are of different families.
 */
export function communityId(input: CommunityIdInput, options?: CommunityIdOptions): string {
  const id = tryCommunityId(input, options);
  if (id === undefined) {
    throw new TypeError(`communityId: invalid or mixed-family addresses: ${input.srcIp}, ${input.dstIp}`);
  }
  return id;
}
