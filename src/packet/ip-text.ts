// Textual IP addresses and networks to bytes: the one parser for what
// options, filters and the Community ID take as text. The native reader gets
// networks as bytes from here, never as text.

/** An address or network: its address bytes (4 or 16) and prefix length in bits. */
export interface IpNetwork {
  bytes: Uint8Array;
  prefix: number;
}

/**
 * '10.0.0.0/8', '2001:db8::/32', or a bare address (a host: /32 or /128);
 * undefined when the text is none of these. Bits past the prefix are kept as
 * written (they are masked when compared).
 */
export function parseIpNetwork(text: string): IpNetwork | undefined {
  const slash = text.indexOf('/');
  const address = new Uint8Array(16);
  const length = parseIpInto(slash < 0 ? text : text.slice(0, slash), address);
  if (length === 0) return undefined;
  let prefix = length * 8;
  if (slash >= 0) {
    const digits = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(digits) || Number(digits) > prefix) return undefined;
    prefix = Number(digits);
  }
  return { bytes: address.slice(0, length), prefix };
}

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
