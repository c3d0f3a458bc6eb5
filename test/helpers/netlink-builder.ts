// Builds netlink messages byte by byte for unit tests.

export function u16be(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

export function u32be(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function u64be(n: number): number[] {
  return [...u32be(Math.floor(n / 0x1_0000_0000)), ...u32be(n >>> 0)];
}

function u16le(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff];
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

function pad4(bytes: number[]): number[] {
  const out = bytes.slice();
  while (out.length % 4) out.push(0);
  return out;
}

/** One attribute: header in host (little endian) order, payload as given, padded. */
export function attr(type: number, payload: number[] | string): number[] {
  const body = typeof payload === 'string' ? [...Buffer.from(payload + '\0', 'latin1')] : payload;
  return pad4([...u16le(body.length + 4), ...u16le(type), ...body]);
}

export function nested(type: number, ...attrs: number[][]): number[] {
  return attr(type | 0x8000, attrs.flat());
}

/** A netlink message: nlmsghdr + body. */
export function message(type: number, body: number[], flags = 0, seq = 0, pid = 0): number[] {
  const payload = pad4(body);
  return [...u32le(payload.length + 16), ...u16le(type), ...u16le(flags), ...u32le(seq), ...u32le(pid), ...payload];
}

/** An NFLOG packet message for `group` with the given attributes. */
export function nflogMessage(group: number, family: number, ...attrs: number[][]): number[] {
  return message(0x0400, [family, 0, ...u16be(group), ...attrs.flat()]);
}

/** An rtnetlink link message (RTM_NEWLINK 16 / RTM_DELLINK 17). */
export function linkMessage(type: number, index: number, name?: string): number[] {
  const ifinfo = [0, 0, ...u16le(1), ...u32le(index), ...u32le(0), ...u32le(0)];
  return message(type, [...ifinfo, ...(name === undefined ? [] : attr(3, name))]);
}

export function datagram(...messages: number[][]): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(messages.flat());
  return { bytes, view: new DataView(bytes.buffer) };
}
