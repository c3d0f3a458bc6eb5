// The records a collector delivers: a discriminated union on `kind`.
import type { DecodedPacket } from './packet/types';

/** The network namespace a record came from: its name (or path) and inode (its identity). */
export interface NetnsLabel {
  name: string;
  inode: number;
}

/** One NFLOG entry: a packet the kernel logged to a group. */
export interface PacketRecord {
  kind: 'packet';
  /** NFLOG group (nfgenmsg res_id). */
  group: number;
  /** Optional operator label for the group (collector option `labels`). */
  groupLabel?: string;
  /** Address family of the log entry: 2 IPv4, 10 IPv6, 7 bridge, 0 unspec (netdev, arp …). */
  family: number;
  /** Netfilter hook number (0 prerouting/ingress, 1 input, 2 forward, 3 output, 4 postrouting). */
  hook: number;
  /** hw_protocol of NFULA_PACKET_HDR: EtherType of the payload (0x0800, 0x86dd …). */
  hwProtocol: number;
  /** Log prefix, without the kernel's trailing NUL. '' when none. */
  prefix: string;
  /** Microseconds since the epoch: the kernel timestamp when present, else the receive time. */
  timestampUs: number;
  /** True when timestampUs came from the kernel (NFULA_TIMESTAMP). */
  kernelTimestamp: boolean;
  /** Microseconds since the epoch when the reader thread received the datagram. */
  receivedUs: number;
  mark?: number;
  inIfindex?: number;
  outIfindex?: number;
  physInIfindex?: number;
  physOutIfindex?: number;
  /** Interface names resolved through rtnetlink in the collector's namespace. */
  inInterface?: string;
  outInterface?: string;
  physInInterface?: string;
  physOutInterface?: string;
  /** NFULA_HWADDR: the source hardware address, aa:bb:… */
  hwAddr?: string;
  hwType?: number;
  /** Length of NFULA_HWHEADER (the MAC header, decoded into packet.link when it is Ethernet). */
  hwLen?: number;
  /** NFULA_HWHEADER itself, every byte as lower-case hex joined by ':' (what the kernel's LOG prints after MAC=). */
  hwHeader?: string;
  uid?: number;
  gid?: number;
  /** Instance-local sequence number (NFULA_SEQ). */
  seq?: number;
  /** Global sequence number (NFULA_SEQ_GLOBAL). */
  seqGlobal?: number;
  vlan?: { proto: number; tci: number; id: number };
  /** NFULA_L2HDR as lower-case hex (bridge family). */
  l2Header?: string;
  /** NFULA_CT_INFO (enum ip_conntrack_info). */
  ctInfo?: number;
  /** NFULA_CT: the packet's conntrack entry, when the group asked for it (option attachConntrack). */
  ct?: FlowRecord;
  /** Length of NFULA_PAYLOAD in bytes (the copied part of the packet). */
  payloadLength: number;
  /** Decoded headers of the payload. */
  packet: DecodedPacket;
  /** A copy of the payload, only with the collector option `includePayload`. */
  payload?: Uint8Array;
  /** Set when part of the entry could not be decoded: the first fault's code. */
  decodeError?: string;
  /** The namespace, when the collector collects in another one than its own. */
  netns?: NetnsLabel;
}

/**
 * A packet record from a collector with sequence numbers on (`sequence`, the default): the kernel puts
 * NFULA_SEQ in every entry, so seq is always there. (With `sequence: false` it is absent.)
 */
export type SequencedPacketRecord = PacketRecord & { seq: number };

export type GapReason =
  /** NFLOG sequence numbers jumped: `count` events are missing. */
  | 'sequence'
  /**
   * The kernel could not queue to our socket (ENOBUFS). NFLOG: how many shows as a 'sequence' gap
   * (sequence numbers are on by default). Conntrack: `count` is how many events the kernel dropped,
   * from the socket's drop counter (events that passed the kernel-side filter; with a zone filter or
   * a filter the kernel can only approximate, some of them would not have been delivered anyway).
   */
  | 'enobufs'
  /** A datagram was larger than the reader's slot and was cut. */
  | 'truncated'
  /** A datagram or message could not be decoded at all. */
  | 'decode'
  /** The kernel ended a table dump with an error: the dump is incomplete (detail has the errno). */
  | 'dump-failed';

/** What was lost, where and how much. */
export interface GapRecord {
  kind: 'gap';
  source: 'nflog' | 'rtnl' | 'conntrack';
  /** For conntrack 'enobufs' with resynchronisation on: the flows the table dump found afterwards. */
  resynced?: number;
  reason: GapReason;
  /** Events known lost; null when the kernel does not say how many (e.g. ENOBUFS without sequence numbers). */
  count: number | null;
  group?: number;
  /** For 'sequence': the first and last missing sequence numbers. */
  fromSeq?: number;
  toSeq?: number;
  /** Microseconds since the epoch when the loss was noticed. */
  timestampUs: number;
  detail?: string;
  /** The namespace, when the collector collects in another one than its own. */
  netns?: NetnsLabel;
}

/** One side of a connection as conntrack sees it (CTA_TUPLE_ORIG / _REPLY / _MASTER). */
export interface FlowTuple {
  src: string;
  dst: string;
  /** IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, 132 sctp …). */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  /** ICMP / ICMPv6 echo identifier, type and code. */
  icmpId?: number;
  icmpType?: number;
  icmpCode?: number;
  /** CTA_TUPLE_ZONE. */
  zone?: number;
}

/** The NAT a flow went through, derived from its tuples and status bits. */
export interface FlowNat {
  /** Source NAT (masquerade, SNAT): the inside host and what it became on the outside. */
  source?: { ip: string; port?: number; translatedIp: string; translatedPort?: number };
  /** Destination NAT (DNAT, port forward): the public address and where it went. */
  destination?: { ip: string; port?: number; translatedIp: string; translatedPort?: number };
}

/** One conntrack event (ctnetlink), or one flow of a table dump. */
export interface FlowRecord {
  kind: 'flow';
  /** 'new', 'update', 'destroy' events; 'dump' for flows that were already open (dump at start or resync). */
  event: 'new' | 'update' | 'destroy' | 'dump';
  /** 2 IPv4, 10 IPv6. */
  family: number;
  /** The event's time, µs since the epoch: stopUs for a destroy, startUs for a new flow, when the kernel gives them; else receivedUs. */
  timestampUs: number;
  /** Microseconds since the epoch when the reader thread received the event. */
  receivedUs: number;
  id?: number;
  original?: FlowTuple;
  reply?: FlowTuple;
  master?: FlowTuple;
  /** CTA_STATUS bits (IPS_*). */
  status?: number;
  /** TCP / SCTP / DCCP state number and its name ('ESTABLISHED', 'TIME_WAIT' …). */
  state?: number;
  stateName?: string;
  tcpFlagsOriginal?: number;
  tcpFlagsReply?: number;
  tcpWscaleOriginal?: number;
  tcpWscaleReply?: number;
  timeout?: number;
  mark?: number;
  zone?: number;
  use?: number;
  helper?: string;
  secctx?: string;
  /** CTA_LABELS as lower-case hex. */
  labels?: string;
  /** Per direction; present with net.netfilter.nf_conntrack_acct=1. */
  originalPackets?: number;
  originalBytes?: number;
  replyPackets?: number;
  replyBytes?: number;
  /** Flow start / stop, µs since the epoch; present with net.netfilter.nf_conntrack_timestamp=1. */
  startUs?: number;
  stopUs?: number;
  /**
   * Completed-flow mode without kernel timestamps: startUs is when the collector received the NEW
   * event and stopUs when it received the DESTROY, not the kernel's times.
   */
  timesFromCollector?: boolean;
  /** NAT sequence adjustment (CTA_SEQ_ADJ_*): correction position, before, after. */
  seqAdjOriginal?: { position: number; offsetBefore: number; offsetAfter: number };
  seqAdjReply?: { position: number; offsetBefore: number; offsetAfter: number };
  nat?: FlowNat;
  decodeError?: string;
  /** The namespace, when the collector collects in another one than its own. */
  netns?: NetnsLabel;
}

export type CollectorRecord = PacketRecord | GapRecord | FlowRecord;

/** The records of a collector with sequence numbers on (the default): packet records carry `seq`. */
export type SequencedCollectorRecord = SequencedPacketRecord | GapRecord | FlowRecord;

/**
 * The records a collector created with options O yields: seq is typed present unless O may turn
 * sequence numbers off (`sequence: false`, or a `boolean` the compiler cannot see through).
 */
export type RecordsFor<O> = 'sequence' extends keyof O
  ? O extends { sequence?: true }
    ? SequencedCollectorRecord
    : CollectorRecord
  : SequencedCollectorRecord;
