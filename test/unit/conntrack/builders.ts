// Builds ctnetlink messages byte by byte (on test/helpers/netlink-builder.ts).
import { attr, message, nested, u16be, u32be } from '../../helpers/netlink-builder';
import { parseIpInto } from '../../../src/packet/ip-text';
import * as C from '../../../src/conntrack/constants';

export { attr, nested, u16be, u32be };

/** be64 of an exact integer (BigInt for nanosecond times above 2^53). */
export function u64beBig(n: bigint): number[] {
  const out: number[] = [];
  for (let i = 7; i >= 0; i--) out.push(Number((n >> BigInt(i * 8)) & 0xffn));
  return out;
}

function addressBytes(ip: string): number[] {
  const buf = new Uint8Array(16);
  const len = parseIpInto(ip, buf);
  if (len === 0) throw new Error(`bad address ${ip}`);
  return [...buf.subarray(0, len)];
}

export interface TupleSpec {
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
  icmp?: { id: number; type: number; code: number };
  zone?: number;
}

/** CTA_TUPLE_ORIG / _REPLY / _MASTER with CTA_TUPLE_IP, CTA_TUPLE_PROTO and CTA_TUPLE_ZONE. */
export function tuple(type: number, t: TupleSpec): number[] {
  const v6 = t.src.includes(':');
  const ip = nested(
    C.CTA_TUPLE_IP,
    attr(v6 ? C.CTA_IP_V6_SRC : C.CTA_IP_V4_SRC, addressBytes(t.src)),
    attr(v6 ? C.CTA_IP_V6_DST : C.CTA_IP_V4_DST, addressBytes(t.dst)),
  );
  const proto: number[][] = [attr(C.CTA_PROTO_NUM, [t.proto])];
  if (t.sport !== undefined) proto.push(attr(C.CTA_PROTO_SRC_PORT, u16be(t.sport)));
  if (t.dport !== undefined) proto.push(attr(C.CTA_PROTO_DST_PORT, u16be(t.dport)));
  if (t.icmp !== undefined) {
    const v6icmp = t.proto === 58;
    proto.push(
      attr(v6icmp ? C.CTA_PROTO_ICMPV6_ID : C.CTA_PROTO_ICMP_ID, u16be(t.icmp.id)),
      attr(v6icmp ? C.CTA_PROTO_ICMPV6_TYPE : C.CTA_PROTO_ICMP_TYPE, [t.icmp.type]),
      attr(v6icmp ? C.CTA_PROTO_ICMPV6_CODE : C.CTA_PROTO_ICMP_CODE, [t.icmp.code]),
    );
  }
  const parts = [ip, nested(C.CTA_TUPLE_PROTO, ...proto)];
  if (t.zone !== undefined) parts.push(attr(C.CTA_TUPLE_ZONE, u16be(t.zone)));
  return nested(type, ...parts);
}

export const u32attr = (type: number, v: number): number[] => attr(type, u32be(v));

export function counters(type: number, packets: number, bytes: number): number[] {
  return nested(type, attr(C.CTA_COUNTERS_PACKETS, u64beBig(BigInt(packets))), attr(C.CTA_COUNTERS_BYTES, u64beBig(BigInt(bytes))));
}

export function timestamps(startNs?: bigint, stopNs?: bigint): number[] {
  const parts: number[][] = [];
  if (startNs !== undefined) parts.push(attr(C.CTA_TIMESTAMP_START, u64beBig(startNs)));
  if (stopNs !== undefined) parts.push(attr(C.CTA_TIMESTAMP_STOP, u64beBig(stopNs)));
  return nested(C.CTA_TIMESTAMP, ...parts);
}

export function tcpInfo(state: number, wscale?: [number, number], flags?: [number, number]): number[] {
  const parts = [attr(C.CTA_PROTOINFO_TCP_STATE, [state])];
  if (wscale) parts.push(attr(C.CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, [wscale[0]]), attr(C.CTA_PROTOINFO_TCP_WSCALE_REPLY, [wscale[1]]));
  // struct nf_ct_tcp_flags { flags, mask }
  if (flags)
    parts.push(attr(C.CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, [flags[0], 0xff]), attr(C.CTA_PROTOINFO_TCP_FLAGS_REPLY, [flags[1], 0xff]));
  return nested(C.CTA_PROTOINFO, nested(C.CTA_PROTOINFO_TCP, ...parts));
}

export function seqAdj(type: number, position: number, before: number, after: number): number[] {
  return nested(
    type,
    attr(C.CTA_SEQADJ_CORRECTION_POS, u32be(position)),
    attr(C.CTA_SEQADJ_OFFSET_BEFORE, u32be(before >>> 0)),
    attr(C.CTA_SEQADJ_OFFSET_AFTER, u32be(after >>> 0)),
  );
}

/** The body after nfgenmsg: the CTA_* attributes. */
export function ctAttributes(...attrs: number[][]): number[] {
  return attrs.flat();
}

/** A ctnetlink message: nlmsghdr (type 0x01xx) + nfgenmsg + attributes. */
export function ctMessage(msg: number, flags: number, family: number, ...attrs: number[][]): number[] {
  return message((C.NFNL_SUBSYS_CTNETLINK << 8) | msg, [family, 0, 0, 0, ...attrs.flat()], flags);
}

export function bytesOf(msg: number[]): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(msg);
  return { bytes, view: new DataView(bytes.buffer) };
}
