// The decoded layers of one logged packet. Plain data: numbers and strings,
// never views into the ring (the ring's bytes are reused once a batch is read).

export interface EthernetHeader {
  kind: 'ethernet';
  /** aa:bb:cc:dd:ee:ff, lower case. */
  src: string;
  dst: string;
  /** EtherType after any VLAN tags (0x0800, 0x86dd, 0x0806 …). */
  etherType: number;
  /** 802.1Q / 802.1ad tags, outermost first. */
  vlans: VlanTag[];
}

export interface VlanTag {
  /** TPID: 0x8100 or 0x88a8. */
  tpid: number;
  id: number;
  priority: number;
  dei: boolean;
}

export interface Ipv4Header {
  kind: 'ipv4';
  src: string;
  dst: string;
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  /** Reserved ("evil") bit, shown by the kernel as CE. */
  flagReserved: boolean;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  /** Raw option bytes as upper-case hex, '' when there are none. */
  options: string;
}

export interface Ipv6Header {
  kind: 'ipv6';
  src: string;
  dst: string;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  hopLimit: number;
  /** Next header of the fixed header. */
  nextHeader: number;
  /** Protocol after the extension headers (the transport), or the last header seen when truncated. */
  protocol: number;
  /** Extension header types walked, in order (0 hop-by-hop, 43 routing, 44 fragment, 60 dest opts, 51 AH …). */
  extensionHeaders: number[];
  /** Present when a fragment header was seen. */
  fragment?: { offset: number; moreFragments: boolean; id: number };
  /** Bytes from the fixed header to where the walk stopped: the transport header, or AH for protocol 51. */
  headerLength?: number;
}

export interface ArpPacket {
  kind: 'arp';
  hardwareType: number;
  protocolType: number;
  hardwareLength: number;
  protocolLength: number;
  operation: number;
  /** Only set for Ethernet/IPv4 ARP (the common case). */
  senderMac?: string;
  senderIp?: string;
  targetMac?: string;
  targetIp?: string;
}

export type NetworkLayer = Ipv4Header | Ipv6Header | ArpPacket;

export interface TcpHeader {
  kind: 'tcp';
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  dataOffset: number;
  /** The 9 flag bits: CWR 0x80, ECE 0x40, URG 0x20, ACK 0x10, PSH 0x08, RST 0x04, SYN 0x02, FIN 0x01, NS/AE 0x100. */
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  /** Raw option bytes as upper-case hex, '' when there are none. */
  options: string;
  /** Maximum segment size option, when present. */
  mss?: number;
  /** The three reserved bits between the data offset and AE (byte 12, bits 3–1), 0–7. */
  reserved?: number;
}

export interface UdpHeader {
  /** 'udplite' for IP protocol 136: the same header, the length field is the checksum coverage. */
  kind: 'udp' | 'udplite';
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

export interface IcmpHeader {
  kind: 'icmp';
  type: number;
  code: number;
  checksum: number;
  /** Echo / echo reply / timestamp / info: identifier and sequence. */
  id?: number;
  sequence?: number;
  /** Redirect: gateway address. */
  gateway?: string;
  /** Destination unreachable, fragmentation needed: next-hop MTU. */
  mtu?: number;
  /** Parameter problem: pointer. */
  pointer?: number;
  /** Error messages carry the start of the offending packet. */
  embedded?: EmbeddedPacket;
}

export interface Icmpv6Header {
  kind: 'icmpv6';
  type: number;
  code: number;
  checksum: number;
  /** Echo request/reply. */
  id?: number;
  sequence?: number;
  /** Packet too big. */
  mtu?: number;
  /** Parameter problem. */
  pointer?: number;
  /** Neighbour solicitation / advertisement, redirect: target address. */
  target?: string;
  /** Error messages (type < 128) carry the start of the offending packet. */
  embedded?: EmbeddedPacket;
}

export interface SctpHeader {
  kind: 'sctp';
  srcPort: number;
  dstPort: number;
  verificationTag: number;
  checksum: number;
  /** Type of the first chunk, when present. */
  firstChunkType?: number;
}

export interface GreHeader {
  kind: 'gre';
  flags: number;
  version: number;
  protocol: number;
  key?: number;
  sequence?: number;
  /** PPTP (version 1): call id and payload length. */
  callId?: number;
  payloadLength?: number;
  /** PPTP (version 1): acknowledgment number, when the A flag is set. */
  acknowledgment?: number;
}

export interface EspHeader {
  kind: 'esp';
  spi: number;
  sequence: number;
}

export interface AhHeader {
  kind: 'ah';
  nextHeader: number;
  /** Length of the AH header in bytes. */
  length: number;
  spi: number;
  sequence: number;
  /** Under IPv6 only: the header after AH, decoded (AH is an extension header there). */
  next?: TransportLayer;
}

/** A transport this decoder does not know: just the protocol number. */
export interface OtherTransport {
  kind: 'other';
  protocol: number;
}

export type TransportLayer =
  | TcpHeader
  | UdpHeader
  | IcmpHeader
  | Icmpv6Header
  | SctpHeader
  | GreHeader
  | EspHeader
  | AhHeader
  | OtherTransport;

/** The offending packet quoted inside an ICMP/ICMPv6 error. Not recursive. */
export interface EmbeddedPacket {
  network?: Ipv4Header | Ipv6Header;
  /** Only ports / ids: ICMP errors quote 8 bytes of the transport header. */
  transport?: TransportLayer;
  /**
   * True when the quote ended inside a header: `network` or `transport` is
   * then missing or partial (fields past the quote are 0, options '').
   */
  truncated?: boolean;
}

export interface DecodedPacket {
  link?: EthernetHeader;
  network?: NetworkLayer;
  transport?: TransportLayer;
  /**
   * Why decoding stopped early, when it did: a short code such as
   * 'ipv4.truncated', 'tcp.bad-offset'. Undefined when all headers decoded.
   * Layers decoded before the fault are kept.
   */
  error?: string;
}
