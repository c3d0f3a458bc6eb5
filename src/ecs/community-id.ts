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
// types without one, the code is the destination "port". SHA-1 is sha1.ts (one
// block in plain JS, checked against node:crypto in the tests).
import { digestBase64, digestHex, sha1Short } from './sha1';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../packet/protocols';

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

// Scratch buffers: seed 2 + 2×16 addresses + proto + pad + 2×2 ports = 40 bytes max,
// in a 64-byte block that sha1Short pads in place.
const SCRATCH = new Uint8Array(64);
const DIGEST = new Uint8Array(20);
const ADDR_A = new Uint8Array(16);
const ADDR_B = new Uint8Array(16);

/**
 * Parses an IPv4 (dotted quad) or IPv6 address (with `::`, an embedded dotted
 * IPv4 tail such as `::ffff:192.0.2.1`, and an ignored `%zone`) into `out`.
 * Returns 4 or 16, or 0 when the string is not an address.
 */
export function parseIpInto(s: string, out: Uint8Array): number {
  let colon = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 58 /* : */) {
      colon = true;
      break;
    }
  }
  return colon ? parseIpv6(s, out) : parseIpv4(s, 0, s.length, out, 0) ? 4 : 0;
}

function parseIpv4(s: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // No leading zeros beyond a single 0 (avoids octal ambiguity), max 255.
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (value > 255) return false;
      digits++;
    } else if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      out[off + part++] = value;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[off + 3] = value;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseIpv6(s: string, out: Uint8Array): number {
  let end = s.length;
  const pct = s.indexOf('%');
  if (pct >= 0) end = pct;
  // Groups before and after '::', written left to right; the tail is moved at the end.
  let n = 0; // bytes written
  let gap = -1; // byte index of '::'
  let i = 0;
  if (end >= 2 && s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return 0;
    gap = 0;
    i = 2;
    if (i === end) {
      out.fill(0, 0, 16);
      return 16;
    }
  }
  while (i < end) {
    // One group: up to 4 hex digits, or a dotted IPv4 tail.
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < end; j++) {
      const c = s.charCodeAt(j);
      const h = hexValue(c);
      if (h < 0) break;
      value = (value << 4) | h;
      if (++digits > 4) return 0;
    }
    if (j < end && s.charCodeAt(j) === 46 /* . */) {
      // Embedded IPv4: must be the last 4 bytes.
      if (n + 4 > 16 || !parseIpv4(s, i, end, out, n)) return 0;
      n += 4;
      i = end;
      break;
    }
    if (digits === 0 || n + 2 > 16) return 0;
    out[n++] = value >>> 8;
    out[n++] = value & 0xff;
    if (j === end) {
      i = end;
      break;
    }
    if (s.charCodeAt(j) !== 58) return 0;
    j++;
    if (j < end && s.charCodeAt(j) === 58) {
      if (gap >= 0) return 0;
      gap = n;
      j++;
      if (j === end) {
        i = end;
        break;
      }
    } else if (j === end) {
      return 0; // trailing single ':'
    }
    i = j;
  }
  if (gap >= 0) {
    if (n === 16) return 0; // '::' must stand for at least one group
    const tail = n - gap;
    for (let k = 0; k < tail; k++) out[15 - k] = out[n - 1 - k];
    out.fill(0, gap, 16 - tail);
  } else if (n !== 16) {
    return 0;
  }
  return 16;
}

function compareBytes(a: Uint8Array, b: Uint8Array, len: number): number {
  for (let i = 0; i < len; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Community ID v1, or undefined when an address cannot be parsed or the two
 * addresses are of different families. Never throws: for the per-packet path.
 */
export function tryCommunityId(input: CommunityIdInput, options?: CommunityIdOptions): string | undefined {
  const lenA = parseIpInto(input.srcIp, ADDR_A);
  const lenB = lenA === 0 ? 0 : parseIpInto(input.dstIp, ADDR_B);
  if (lenB === 0 || lenA !== lenB) return undefined;
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

  const buf = SCRATCH;
  const seed = (options?.seed ?? 0) & 0xffff;
  buf[0] = seed >>> 8;
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
  sha1Short(buf, off, DIGEST);
  return '1:' + (options?.base64 === false ? digestHex(DIGEST) : digestBase64(DIGEST));
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
