// Decodes one ctnetlink conntrack message (IPCTNL_MSG_CT_NEW / _DELETE, as
// events or as entries of a table dump) into a FlowRecord; and the same
// attributes when they travel nested in another message (NFLOG's NFULA_CT).
// Pure over bytes; never throws on malformed input: the first fault's code
// lands in decodeError and everything decoded before and after it is kept.
//
// Fault codes: 'conntrack.truncated' (the message is shorter than its header
// says, or has no room for nfgenmsg), 'conntrack.not-conntrack' (another
// message type), 'netlink.bad-attribute-length' (from the TLV walker),
// 'conntrack.short-attribute' (a payload too short for its type),
// 'conntrack.bad-tuple' (a tuple without addresses or protocol number; the
// tuple is left out).
import { AttributeTable, NLMSG_HDRLEN, nlAlign } from '../netlink/message';
import { ipv4ToString, ipv6ToString } from '../packet/address';
import { readU64BE, toHex } from '../bytes';
import type { FlowRecord, FlowTuple } from '../records';
import * as C from './constants';
import { natView } from './nat';

type SeqAdj = NonNullable<FlowRecord['seqAdjOriginal']>;

const TEXT = new TextDecoder('utf-8', { fatal: false });

/**
 * Nanoseconds (a be64 at `at`) → whole microseconds, exact while the result
 * is below 2^53 (reading the be64 as one number first would round it: epoch
 * nanoseconds are above 2^60).
 */
function nsToUs(view: DataView, at: number): number {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  // hi·2^32 + lo = hi·4294967·1000 + hi·296 + lo
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
}

/** A NUL-terminated (or not) string of at most `length` bytes. */
function readString(bytes: Uint8Array, at: number, length: number): string {
  let len = 0;
  while (len < length && bytes[at + len] !== 0) len++;
  let ascii = true;
  for (let i = 0; i < len; i++) {
    if (bytes[at + i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return TEXT.decode(bytes.subarray(at, at + len));
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(bytes[at + i]);
  return s;
}

function fault(record: FlowRecord, code: string): void {
  if (record.decodeError === undefined) record.decodeError = code;
}

function emptyRecord(event: FlowRecord['event'], family: number, receivedUs: number): FlowRecord {
  // Every field in the literal, in one order: all records share one hidden class.
  return {
    kind: 'flow',
    event,
    family,
    timestampUs: receivedUs,
    receivedUs,
    id: undefined,
    original: undefined,
    reply: undefined,
    master: undefined,
    status: undefined,
    state: undefined,
    stateName: undefined,
    tcpFlagsOriginal: undefined,
    tcpFlagsReply: undefined,
    tcpWscaleOriginal: undefined,
    tcpWscaleReply: undefined,
    timeout: undefined,
    mark: undefined,
    zone: undefined,
    use: undefined,
    helper: undefined,
    secctx: undefined,
    labels: undefined,
    originalPackets: undefined,
    originalBytes: undefined,
    replyPackets: undefined,
    replyBytes: undefined,
    startUs: undefined,
    stopUs: undefined,
    timesFromCollector: undefined,
    seqAdjOriginal: undefined,
    seqAdjReply: undefined,
    nat: undefined,
    decodeError: undefined,
  };
}

/** Is this nlmsghdr type a conntrack NEW or DELETE message? */
export function isConntrackMessage(type: number): boolean {
  return type === C.CT_NEW_TYPE || type === C.CT_DELETE_TYPE;
}

/** Reusable state for decoding many messages: one attribute table per nesting level. */
export class ConntrackDecoder {
  /** CTA_*. */
  private readonly top = new AttributeTable(C.CTA_MAX);
  /** Inside CTA_TUPLE_*, CTA_PROTOINFO, CTA_COUNTERS_*, CTA_TIMESTAMP, CTA_HELP, CTA_SECCTX, CTA_SEQ_ADJ_*. */
  private readonly level2 = new AttributeTable(
    Math.max(
      C.CTA_TUPLE_MAX,
      C.CTA_PROTOINFO_MAX,
      C.CTA_COUNTERS_MAX,
      C.CTA_TIMESTAMP_MAX,
      C.CTA_HELP_MAX,
      C.CTA_SECCTX_MAX,
      C.CTA_SEQADJ_MAX,
    ),
  );
  /** Inside CTA_TUPLE_IP, CTA_TUPLE_PROTO, CTA_PROTOINFO_TCP / _SCTP / _DCCP. */
  private readonly level3 = new AttributeTable(
    Math.max(C.CTA_IP_MAX, C.CTA_PROTO_MAX, C.CTA_PROTOINFO_TCP_MAX, C.CTA_PROTOINFO_SCTP_MAX, C.CTA_PROTOINFO_DCCP_MAX),
  );

  /**
   * Decodes the whole nlmsghdr at bytes[offset, offset + length) (type 0x0100
   * NEW or 0x0102 DELETE). `isDump`: the message answers a dump request (its
   * event is 'dump'); otherwise DELETE is 'destroy', NEW with NLM_F_CREATE
   * 'new' and NEW without it 'update'.
   */
  decode(bytes: Uint8Array, view: DataView, offset: number, length: number, receivedUs: number, isDump: boolean): FlowRecord {
    const limit = Math.min(offset + length, bytes.length, view.byteLength);
    const record = emptyRecord(isDump ? 'dump' : 'update', 0, receivedUs);
    if (offset < 0 || offset + NLMSG_HDRLEN > limit) {
      record.decodeError = 'conntrack.truncated';
      return record;
    }
    const declared = view.getUint32(offset, true);
    const type = view.getUint16(offset + 4, true);
    const flags = view.getUint16(offset + 6, true);
    if (!isDump) {
      if (type === C.CT_DELETE_TYPE) record.event = 'destroy';
      else if (flags & C.NLM_F_CREATE) record.event = 'new';
    }
    if (!isConntrackMessage(type)) {
      record.decodeError = 'conntrack.not-conntrack';
      return record;
    }
    let end = limit;
    if (declared < NLMSG_HDRLEN || offset + declared > limit) record.decodeError = 'conntrack.truncated';
    else end = offset + declared;
    const body = offset + NLMSG_HDRLEN;
    if (body + C.NFGENMSG_LEN > end) {
      fault(record, 'conntrack.truncated');
      return record;
    }
    record.family = bytes[body];
    this.fill(record, bytes, view, body + nlAlign(C.NFGENMSG_LEN), end);
    return record;
  }

  /**
   * Decodes conntrack attributes (CTA_*) in bytes[offset, end): the payload
   * of NFLOG's NFULA_CT, or a message body after nfgenmsg. `event` defaults
   * to 'dump': a snapshot of the flow's state, not a change.
   */
  decodeAttributes(
    bytes: Uint8Array,
    view: DataView,
    offset: number,
    end: number,
    family: number,
    receivedUs: number,
    event: FlowRecord['event'] = 'dump',
  ): FlowRecord {
    const record = emptyRecord(event, family, receivedUs);
    const limit = Math.min(end, bytes.length, view.byteLength);
    if (offset < 0 || limit < end) fault(record, 'conntrack.truncated');
    if (offset >= 0) this.fill(record, bytes, view, offset, limit);
    return record;
  }

  private fill(record: FlowRecord, bytes: Uint8Array, view: DataView, start: number, end: number): void {
    const t = this.top;
    const bad = t.parse(view, start, end);
    if (bad) fault(record, bad);
    const o = t.offsets;
    const n = t.lengths;

    // Tuples first: each parse below reuses the nested tables, never `top`.
    if (o[C.CTA_TUPLE_ORIG] >= 0) record.original = this.tuple(record, bytes, view, o[C.CTA_TUPLE_ORIG], n[C.CTA_TUPLE_ORIG]);
    if (o[C.CTA_TUPLE_REPLY] >= 0) record.reply = this.tuple(record, bytes, view, o[C.CTA_TUPLE_REPLY], n[C.CTA_TUPLE_REPLY]);
    if (o[C.CTA_TUPLE_MASTER] >= 0) record.master = this.tuple(record, bytes, view, o[C.CTA_TUPLE_MASTER], n[C.CTA_TUPLE_MASTER]);

    record.status = this.u32(record, view, C.CTA_STATUS);
    record.timeout = this.u32(record, view, C.CTA_TIMEOUT);
    record.mark = this.u32(record, view, C.CTA_MARK);
    record.use = this.u32(record, view, C.CTA_USE);
    record.id = this.u32(record, view, C.CTA_ID);
    if (o[C.CTA_ZONE] >= 0) {
      if (n[C.CTA_ZONE] >= 2) record.zone = view.getUint16(o[C.CTA_ZONE]);
      else fault(record, 'conntrack.short-attribute');
    }
    if (o[C.CTA_LABELS] >= 0) record.labels = toHex(bytes, o[C.CTA_LABELS], n[C.CTA_LABELS]);

    if (o[C.CTA_PROTOINFO] >= 0) this.protoinfo(record, bytes, view, o[C.CTA_PROTOINFO], n[C.CTA_PROTOINFO]);
    if (o[C.CTA_COUNTERS_ORIG] >= 0) this.counters(record, view, o[C.CTA_COUNTERS_ORIG], n[C.CTA_COUNTERS_ORIG], true);
    if (o[C.CTA_COUNTERS_REPLY] >= 0) this.counters(record, view, o[C.CTA_COUNTERS_REPLY], n[C.CTA_COUNTERS_REPLY], false);
    if (o[C.CTA_TIMESTAMP] >= 0) this.timestamps(record, view, o[C.CTA_TIMESTAMP], n[C.CTA_TIMESTAMP]);
    if (o[C.CTA_HELP] >= 0) record.helper = this.nestedString(record, bytes, view, o[C.CTA_HELP], n[C.CTA_HELP], C.CTA_HELP_NAME);
    if (o[C.CTA_SECCTX] >= 0) record.secctx = this.nestedString(record, bytes, view, o[C.CTA_SECCTX], n[C.CTA_SECCTX], C.CTA_SECCTX_NAME);
    if (o[C.CTA_SEQ_ADJ_ORIG] >= 0) record.seqAdjOriginal = this.seqAdj(record, view, o[C.CTA_SEQ_ADJ_ORIG], n[C.CTA_SEQ_ADJ_ORIG]);
    if (o[C.CTA_SEQ_ADJ_REPLY] >= 0) record.seqAdjReply = this.seqAdj(record, view, o[C.CTA_SEQ_ADJ_REPLY], n[C.CTA_SEQ_ADJ_REPLY]);

    record.nat = natView(record.original, record.reply, record.status);
    if (record.event === 'destroy' && record.stopUs !== undefined) record.timestampUs = record.stopUs;
    else if (record.event === 'new' && record.startUs !== undefined) record.timestampUs = record.startUs;
  }

  /** A be32 top-level attribute, undefined when absent (a fault when too short). */
  private u32(record: FlowRecord, view: DataView, type: number): number | undefined {
    const at = this.top.offsets[type];
    if (at < 0) return undefined;
    if (this.top.lengths[type] < 4) {
      fault(record, 'conntrack.short-attribute');
      return undefined;
    }
    return view.getUint32(at);
  }

  private tuple(record: FlowRecord, bytes: Uint8Array, view: DataView, at: number, length: number): FlowTuple | undefined {
    const t = this.level2;
    const bad = t.parse(view, at, at + length);
    if (bad) fault(record, bad);
    const ipAt = t.offsets[C.CTA_TUPLE_IP];
    const ipLen = t.lengths[C.CTA_TUPLE_IP];
    const protoAt = t.offsets[C.CTA_TUPLE_PROTO];
    const protoLen = t.lengths[C.CTA_TUPLE_PROTO];
    let zone: number | undefined;
    if (t.offsets[C.CTA_TUPLE_ZONE] >= 0) {
      if (t.lengths[C.CTA_TUPLE_ZONE] >= 2) zone = view.getUint16(t.offsets[C.CTA_TUPLE_ZONE]);
      else fault(record, 'conntrack.short-attribute');
    }
    if (ipAt < 0 || protoAt < 0) {
      fault(record, 'conntrack.bad-tuple');
      return undefined;
    }

    const a = this.level3;
    const badIp = a.parse(view, ipAt, ipAt + ipLen);
    if (badIp) fault(record, badIp);
    const ao = a.offsets;
    const an = a.lengths;
    let src: string | undefined;
    let dst: string | undefined;
    if (ao[C.CTA_IP_V4_SRC] >= 0 && an[C.CTA_IP_V4_SRC] >= 4) src = ipv4ToString(bytes, ao[C.CTA_IP_V4_SRC]);
    else if (ao[C.CTA_IP_V6_SRC] >= 0 && an[C.CTA_IP_V6_SRC] >= 16) src = ipv6ToString(bytes, ao[C.CTA_IP_V6_SRC]);
    if (ao[C.CTA_IP_V4_DST] >= 0 && an[C.CTA_IP_V4_DST] >= 4) dst = ipv4ToString(bytes, ao[C.CTA_IP_V4_DST]);
    else if (ao[C.CTA_IP_V6_DST] >= 0 && an[C.CTA_IP_V6_DST] >= 16) dst = ipv6ToString(bytes, ao[C.CTA_IP_V6_DST]);

    const badProto = a.parse(view, protoAt, protoAt + protoLen);
    if (badProto) fault(record, badProto);
    if (src === undefined || dst === undefined || ao[C.CTA_PROTO_NUM] < 0 || an[C.CTA_PROTO_NUM] < 1) {
      fault(record, 'conntrack.bad-tuple');
      return undefined;
    }
    const tuple: FlowTuple = {
      src,
      dst,
      protocol: bytes[ao[C.CTA_PROTO_NUM]],
      srcPort: this.u16(record, view, C.CTA_PROTO_SRC_PORT),
      dstPort: this.u16(record, view, C.CTA_PROTO_DST_PORT),
      icmpId: this.u16(record, view, C.CTA_PROTO_ICMP_ID) ?? this.u16(record, view, C.CTA_PROTO_ICMPV6_ID),
      icmpType: this.u8(record, bytes, C.CTA_PROTO_ICMP_TYPE) ?? this.u8(record, bytes, C.CTA_PROTO_ICMPV6_TYPE),
      icmpCode: this.u8(record, bytes, C.CTA_PROTO_ICMP_CODE) ?? this.u8(record, bytes, C.CTA_PROTO_ICMPV6_CODE),
      zone,
    };
    return tuple;
  }

  /** A be16 of the level-3 table. */
  private u16(record: FlowRecord, view: DataView, type: number): number | undefined {
    const at = this.level3.offsets[type];
    if (at < 0) return undefined;
    if (this.level3.lengths[type] < 2) {
      fault(record, 'conntrack.short-attribute');
      return undefined;
    }
    return view.getUint16(at);
  }

  /** A u8 of the level-3 table. */
  private u8(record: FlowRecord, bytes: Uint8Array, type: number): number | undefined {
    const at = this.level3.offsets[type];
    if (at < 0) return undefined;
    if (this.level3.lengths[type] < 1) {
      fault(record, 'conntrack.short-attribute');
      return undefined;
    }
    return bytes[at];
  }

  private protoinfo(record: FlowRecord, bytes: Uint8Array, view: DataView, at: number, length: number): void {
    const t = this.level2;
    const bad = t.parse(view, at, at + length);
    if (bad) fault(record, bad);
    let names: readonly string[];
    let innerType: number;
    if (t.offsets[C.CTA_PROTOINFO_TCP] >= 0) {
      innerType = C.CTA_PROTOINFO_TCP;
      names = C.TCP_CONNTRACK_NAMES;
    } else if (t.offsets[C.CTA_PROTOINFO_SCTP] >= 0) {
      innerType = C.CTA_PROTOINFO_SCTP;
      names = C.SCTP_CONNTRACK_NAMES;
    } else if (t.offsets[C.CTA_PROTOINFO_DCCP] >= 0) {
      innerType = C.CTA_PROTOINFO_DCCP;
      names = C.DCCP_CONNTRACK_NAMES;
    } else {
      return;
    }
    const inner = t.offsets[innerType];
    const a = this.level3;
    const badInner = a.parse(view, inner, inner + t.lengths[innerType]);
    if (badInner) fault(record, badInner);
    // STATE is attribute 1 in all three.
    const state = this.u8(record, bytes, C.CTA_PROTOINFO_TCP_STATE);
    if (state !== undefined) {
      record.state = state;
      record.stateName = names[state];
    }
    if (innerType === C.CTA_PROTOINFO_TCP) {
      record.tcpWscaleOriginal = this.u8(record, bytes, C.CTA_PROTOINFO_TCP_WSCALE_ORIGINAL);
      record.tcpWscaleReply = this.u8(record, bytes, C.CTA_PROTOINFO_TCP_WSCALE_REPLY);
      // struct nf_ct_tcp_flags: the flags byte, then the mask byte.
      record.tcpFlagsOriginal = this.u8(record, bytes, C.CTA_PROTOINFO_TCP_FLAGS_ORIGINAL);
      record.tcpFlagsReply = this.u8(record, bytes, C.CTA_PROTOINFO_TCP_FLAGS_REPLY);
    }
  }

  private counters(record: FlowRecord, view: DataView, at: number, length: number, original: boolean): void {
    const t = this.level2;
    const bad = t.parse(view, at, at + length);
    if (bad) fault(record, bad);
    const packets = this.counter(record, view, C.CTA_COUNTERS_PACKETS, C.CTA_COUNTERS32_PACKETS);
    const bytes = this.counter(record, view, C.CTA_COUNTERS_BYTES, C.CTA_COUNTERS32_BYTES);
    if (original) {
      record.originalPackets = packets;
      record.originalBytes = bytes;
    } else {
      record.replyPackets = packets;
      record.replyBytes = bytes;
    }
  }

  /** The be64 counter, else its old be32 variant. */
  private counter(record: FlowRecord, view: DataView, type64: number, type32: number): number | undefined {
    const t = this.level2;
    if (t.offsets[type64] >= 0) {
      if (t.lengths[type64] >= 8) return readU64BE(view, t.offsets[type64]);
      fault(record, 'conntrack.short-attribute');
    }
    if (t.offsets[type32] >= 0) {
      if (t.lengths[type32] >= 4) return view.getUint32(t.offsets[type32]);
      fault(record, 'conntrack.short-attribute');
    }
    return undefined;
  }

  private timestamps(record: FlowRecord, view: DataView, at: number, length: number): void {
    const t = this.level2;
    const bad = t.parse(view, at, at + length);
    if (bad) fault(record, bad);
    record.startUs = this.nanoseconds(record, view, C.CTA_TIMESTAMP_START);
    record.stopUs = this.nanoseconds(record, view, C.CTA_TIMESTAMP_STOP);
  }

  /** A be64 nanosecond time of the level-2 table, in µs. */
  private nanoseconds(record: FlowRecord, view: DataView, type: number): number | undefined {
    const t = this.level2;
    if (t.offsets[type] < 0) return undefined;
    if (t.lengths[type] < 8) {
      fault(record, 'conntrack.short-attribute');
      return undefined;
    }
    return nsToUs(view, t.offsets[type]);
  }

  private nestedString(
    record: FlowRecord,
    bytes: Uint8Array,
    view: DataView,
    at: number,
    length: number,
    type: number,
  ): string | undefined {
    const t = this.level2;
    const bad = t.parse(view, at, at + length);
    if (bad) fault(record, bad);
    if (t.offsets[type] < 0) return undefined;
    return readString(bytes, t.offsets[type], t.lengths[type]);
  }

  private seqAdj(record: FlowRecord, view: DataView, at: number, length: number): SeqAdj | undefined {
    const t = this.level2;
    const bad = t.parse(view, at, at + length);
    if (bad) fault(record, bad);
    const o = t.offsets;
    const n = t.lengths;
    if (o[C.CTA_SEQADJ_CORRECTION_POS] < 0 && o[C.CTA_SEQADJ_OFFSET_BEFORE] < 0 && o[C.CTA_SEQADJ_OFFSET_AFTER] < 0) return undefined;
    if (
      n[C.CTA_SEQADJ_CORRECTION_POS] < 4 ||
      n[C.CTA_SEQADJ_OFFSET_BEFORE] < 4 ||
      n[C.CTA_SEQADJ_OFFSET_AFTER] < 4 ||
      o[C.CTA_SEQADJ_CORRECTION_POS] < 0 ||
      o[C.CTA_SEQADJ_OFFSET_BEFORE] < 0 ||
      o[C.CTA_SEQADJ_OFFSET_AFTER] < 0
    ) {
      fault(record, 'conntrack.short-attribute');
      return undefined;
    }
    // struct nf_ct_seqadj: u32 correction_pos, s32 offset_before, s32 offset_after.
    return {
      position: view.getUint32(o[C.CTA_SEQADJ_CORRECTION_POS]),
      offsetBefore: view.getInt32(o[C.CTA_SEQADJ_OFFSET_BEFORE]),
      offsetAfter: view.getInt32(o[C.CTA_SEQADJ_OFFSET_AFTER]),
    };
  }
}

let shared: ConntrackDecoder | undefined;

/**
 * Conntrack attributes in bytes[offset, end) → FlowRecord, with a shared
 * decoder (decoding is synchronous, so sharing its tables is safe). For
 * NFLOG's NFULA_CT: `family` is the NFLOG message's nfgenmsg family; the
 * event is 'dump' (a snapshot of the flow's state) unless given.
 */
export function decodeConntrackAttributes(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  end: number,
  family: number,
  receivedUs: number,
  event: FlowRecord['event'] = 'dump',
): FlowRecord {
  shared ??= new ConntrackDecoder();
  return shared.decodeAttributes(bytes, view, offset, end, family, receivedUs, event);
}
