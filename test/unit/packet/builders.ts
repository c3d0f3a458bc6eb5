// Byte-by-byte packet assembly for the decoder tests. Not a test file itself.

export type Bytes = number[];

export function cat(...parts: Bytes[]): Bytes {
  const out: Bytes = [];
  for (const p of parts) for (const b of p) out.push(b);
  return out;
}

export function u8(n: number): Bytes {
  return [n & 0xff];
}

export function u16(n: number): Bytes {
  return [(n >>> 8) & 0xff, n & 0xff];
}

export function u32(n: number): Bytes {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function zeros(n: number): Bytes {
  return new Array<number>(n).fill(0);
}

export function mac(text: string): Bytes {
  return text.split(':').map((h) => parseInt(h, 16));
}

export function ip4(text: string): Bytes {
  return text.split('.').map((d) => Number(d));
}

/** Parses full or '::'-compressed IPv6 text (no embedded IPv4). */
export function ip6(text: string): Bytes {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`bad ipv6 ${text}`);
  return cat(...groups.map((g) => u16(parseInt(g, 16))));
}

export function toBytes(b: Bytes): Uint8Array {
  return Uint8Array.from(b);
}

// ---- link ----------------------------------------------------------------

export interface VlanSpec {
  tpid: number;
  id: number;
  priority?: number;
  dei?: boolean;
}

export function ethernet(o: { dst?: string; src?: string; vlans?: VlanSpec[]; etherType: number }, payload: Bytes): Bytes {
  const tags: Bytes[] = [];
  const vlans = o.vlans ?? [];
  // Each tag is TPID + TCI; the TPID of the first sits where the EtherType would.
  const types = [...vlans.map((v) => v.tpid), o.etherType];
  for (let i = 0; i < vlans.length; i++) {
    const v = vlans[i];
    const tci = ((v.priority ?? 0) << 13) | (v.dei ? 0x1000 : 0) | v.id;
    tags.push(cat(u16(tci), u16(types[i + 1])));
  }
  return cat(mac(o.dst ?? '02:00:00:00:00:02'), mac(o.src ?? '02:00:00:00:00:01'), u16(types[0]), ...tags, payload);
}

export function arp(o: {
  htype?: number;
  ptype?: number;
  hlen?: number;
  plen?: number;
  op?: number;
  sha?: Bytes;
  spa?: Bytes;
  tha?: Bytes;
  tpa?: Bytes;
}): Bytes {
  const hlen = o.hlen ?? 6;
  const plen = o.plen ?? 4;
  return cat(
    u16(o.htype ?? 1),
    u16(o.ptype ?? 0x0800),
    u8(hlen),
    u8(plen),
    u16(o.op ?? 1),
    o.sha ?? zeros(hlen),
    o.spa ?? zeros(plen),
    o.tha ?? zeros(hlen),
    o.tpa ?? zeros(plen),
  );
}

// ---- network -------------------------------------------------------------

export interface Ipv4Spec {
  src?: string;
  dst?: string;
  protocol: number;
  tos?: number;
  id?: number;
  reservedFlag?: boolean;
  df?: boolean;
  mf?: boolean;
  fragOffset?: number;
  ttl?: number;
  checksum?: number;
  options?: Bytes;
  /** Overrides the computed total length. */
  totalLength?: number;
  /** Overrides the computed IHL (in 32-bit words). */
  ihl?: number;
  version?: number;
}

export function ipv4(o: Ipv4Spec, payload: Bytes): Bytes {
  const options = o.options ?? [];
  if (options.length % 4 !== 0) throw new Error('ipv4 options must be padded');
  const ihl = o.ihl ?? 5 + options.length / 4;
  const flags = (o.reservedFlag ? 0x8000 : 0) | (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0);
  return cat(
    u8(((o.version ?? 4) << 4) | ihl),
    u8(o.tos ?? 0),
    u16(o.totalLength ?? 20 + options.length + payload.length),
    u16(o.id ?? 0),
    u16(flags | (o.fragOffset ?? 0)),
    u8(o.ttl ?? 64),
    u8(o.protocol),
    u16(o.checksum ?? 0),
    ip4(o.src ?? '192.0.2.1'),
    ip4(o.dst ?? '198.51.100.2'),
    options,
    payload,
  );
}

export interface Ipv6Spec {
  src?: string;
  dst?: string;
  nextHeader: number;
  trafficClass?: number;
  flowLabel?: number;
  hopLimit?: number;
  /** Overrides the computed payload length. */
  payloadLength?: number;
}

export function ipv6(o: Ipv6Spec, payload: Bytes): Bytes {
  const w0 = (6 << 28) | ((o.trafficClass ?? 0) << 20) | (o.flowLabel ?? 0);
  return cat(
    u32(w0),
    u16(o.payloadLength ?? payload.length),
    u8(o.nextHeader),
    u8(o.hopLimit ?? 64),
    ip6(o.src ?? '2001:db8::1'),
    ip6(o.dst ?? '2001:db8::2'),
    payload,
  );
}

/** Hop-by-hop / routing / destination options / mobility: (hdrExtLen + 1) * 8 bytes. */
export function extHeader(next: number, hdrExtLen = 0): Bytes {
  const body = zeros((hdrExtLen + 1) * 8 - 2);
  if (body.length >= 2) {
    body[0] = 1; // PadN option
    body[1] = body.length - 2;
  }
  return cat(u8(next), u8(hdrExtLen), body);
}

export function fragmentHeader(next: number, offset: number, more: boolean, id: number): Bytes {
  return cat(u8(next), u8(0), u16((offset << 3) | (more ? 1 : 0)), u32(id));
}

// ---- transport -----------------------------------------------------------

export interface TcpSpec {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  checksum?: number;
  urgent?: number;
  options?: Bytes;
  /** Overrides the computed data offset (in 32-bit words). */
  dataOffset?: number;
}

export function tcp(o: TcpSpec, payload: Bytes = []): Bytes {
  const options = o.options ?? [];
  if (options.length % 4 !== 0) throw new Error('tcp options must be padded');
  const doff = o.dataOffset ?? 5 + options.length / 4;
  return cat(
    u16(o.sport ?? 40000),
    u16(o.dport ?? 443),
    u32(o.seq ?? 0),
    u32(o.ack ?? 0),
    u16((doff << 12) | (o.flags ?? 0)),
    u16(o.window ?? 65535),
    u16(o.checksum ?? 0),
    u16(o.urgent ?? 0),
    options,
    payload,
  );
}

export function udp(o: { sport?: number; dport?: number; length?: number; checksum?: number }, payload: Bytes = []): Bytes {
  return cat(u16(o.sport ?? 50000), u16(o.dport ?? 53), u16(o.length ?? 8 + payload.length), u16(o.checksum ?? 0), payload);
}

/** ICMP or ICMPv6: type, code, checksum, 4 bytes of rest-of-header, body. */
export function icmp(type: number, code: number, rest: Bytes, body: Bytes = [], checksum = 0): Bytes {
  if (rest.length !== 4) throw new Error('rest of header is 4 bytes');
  return cat(u8(type), u8(code), u16(checksum), rest, body);
}

export function sctp(o: { sport: number; dport: number; tag: number; checksum: number }, chunks: Bytes = []): Bytes {
  return cat(u16(o.sport), u16(o.dport), u32(o.tag), u32(o.checksum), chunks);
}

export function esp(spi: number, seq: number, payload: Bytes = []): Bytes {
  return cat(u32(spi), u32(seq), payload);
}

export function ah(next: number, payloadLen: number, spi: number, seq: number): Bytes {
  const total = (payloadLen + 2) * 4;
  return cat(u8(next), u8(payloadLen), u16(0), u32(spi), u32(seq), zeros(total - 12));
}

// ---- both IP versions ----------------------------------------------------

/** The same transport bytes under IPv4 and under IPv6, decoded from the IP layer. */
export function overIp(protocol: number, transport: Bytes): Array<[string, Bytes]> {
  return [
    ['ipv4', ipv4({ protocol }, transport)],
    ['ipv6', ipv6({ nextHeader: protocol }, transport)],
  ];
}
