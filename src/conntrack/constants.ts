// Numbers from linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h,
// nf_conntrack_common.h, nf_conntrack_tcp.h, nf_conntrack_sctp.h and the
// kernel's DCCP tracker. ctnetlink payloads are big endian (network order).

export const NFNL_SUBSYS_CTNETLINK = 1;
export const IPCTNL_MSG_CT_NEW = 0;
export const IPCTNL_MSG_CT_GET = 1;
export const IPCTNL_MSG_CT_DELETE = 2;
/** nlmsg_type of a conntrack NEW (event or dump entry) and DELETE message. */
export const CT_NEW_TYPE = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
export const CT_DELETE_TYPE = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;

/** nlmsg_flags set on events: NEW with NLM_F_CREATE|NLM_F_EXCL is a new flow, without CREATE an update. */
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_MULTI = 0x2;

/** struct nfgenmsg: u8 family, u8 version, be16 res_id. */
export const NFGENMSG_LEN = 4;

// enum ctattr_type
export const CTA_TUPLE_ORIG = 1;
export const CTA_TUPLE_REPLY = 2;
export const CTA_STATUS = 3;
export const CTA_PROTOINFO = 4;
export const CTA_HELP = 5;
export const CTA_NAT_SRC = 6;
export const CTA_TIMEOUT = 7;
export const CTA_MARK = 8;
export const CTA_COUNTERS_ORIG = 9;
export const CTA_COUNTERS_REPLY = 10;
export const CTA_USE = 11;
export const CTA_ID = 12;
export const CTA_NAT_DST = 13;
export const CTA_TUPLE_MASTER = 14;
export const CTA_SEQ_ADJ_ORIG = 15;
export const CTA_SEQ_ADJ_REPLY = 16;
export const CTA_SECMARK = 17;
export const CTA_ZONE = 18;
export const CTA_SECCTX = 19;
export const CTA_TIMESTAMP = 20;
export const CTA_MARK_MASK = 21;
export const CTA_LABELS = 22;
export const CTA_LABELS_MASK = 23;
export const CTA_SYNPROXY = 24;
export const CTA_FILTER = 25;
export const CTA_STATUS_MASK = 26;
export const CTA_MAX = 26;

// enum ctattr_tuple
export const CTA_TUPLE_IP = 1;
export const CTA_TUPLE_PROTO = 2;
export const CTA_TUPLE_ZONE = 3;
export const CTA_TUPLE_MAX = 3;

// enum ctattr_ip
export const CTA_IP_V4_SRC = 1;
export const CTA_IP_V4_DST = 2;
export const CTA_IP_V6_SRC = 3;
export const CTA_IP_V6_DST = 4;
export const CTA_IP_MAX = 4;

// enum ctattr_l4proto
export const CTA_PROTO_NUM = 1;
export const CTA_PROTO_SRC_PORT = 2;
export const CTA_PROTO_DST_PORT = 3;
export const CTA_PROTO_ICMP_ID = 4;
export const CTA_PROTO_ICMP_TYPE = 5;
export const CTA_PROTO_ICMP_CODE = 6;
export const CTA_PROTO_ICMPV6_ID = 7;
export const CTA_PROTO_ICMPV6_TYPE = 8;
export const CTA_PROTO_ICMPV6_CODE = 9;
export const CTA_PROTO_MAX = 9;

// enum ctattr_protoinfo
export const CTA_PROTOINFO_TCP = 1;
export const CTA_PROTOINFO_DCCP = 2;
export const CTA_PROTOINFO_SCTP = 3;
export const CTA_PROTOINFO_MAX = 3;

// enum ctattr_protoinfo_tcp
export const CTA_PROTOINFO_TCP_STATE = 1;
export const CTA_PROTOINFO_TCP_WSCALE_ORIGINAL = 2;
export const CTA_PROTOINFO_TCP_WSCALE_REPLY = 3;
/** struct nf_ct_tcp_flags { u8 flags; u8 mask; }. */
export const CTA_PROTOINFO_TCP_FLAGS_ORIGINAL = 4;
export const CTA_PROTOINFO_TCP_FLAGS_REPLY = 5;
export const CTA_PROTOINFO_TCP_MAX = 5;

// enum ctattr_protoinfo_dccp
export const CTA_PROTOINFO_DCCP_STATE = 1;
export const CTA_PROTOINFO_DCCP_ROLE = 2;
export const CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ = 3;
export const CTA_PROTOINFO_DCCP_MAX = 4;

// enum ctattr_protoinfo_sctp
export const CTA_PROTOINFO_SCTP_STATE = 1;
export const CTA_PROTOINFO_SCTP_VTAG_ORIGINAL = 2;
export const CTA_PROTOINFO_SCTP_VTAG_REPLY = 3;
export const CTA_PROTOINFO_SCTP_MAX = 3;

// enum ctattr_counters
/** be64. */
export const CTA_COUNTERS_PACKETS = 1;
/** be64. */
export const CTA_COUNTERS_BYTES = 2;
/** be32 (old kernels). */
export const CTA_COUNTERS32_PACKETS = 3;
/** be32 (old kernels). */
export const CTA_COUNTERS32_BYTES = 4;
export const CTA_COUNTERS_MAX = 5;

// enum ctattr_tstamp: be64 nanoseconds since the epoch.
export const CTA_TIMESTAMP_START = 1;
export const CTA_TIMESTAMP_STOP = 2;
export const CTA_TIMESTAMP_MAX = 3;

// enum ctattr_help
export const CTA_HELP_NAME = 1;
export const CTA_HELP_INFO = 2;
export const CTA_HELP_MAX = 2;

// enum ctattr_secctx
export const CTA_SECCTX_NAME = 1;
export const CTA_SECCTX_MAX = 1;

// enum ctattr_seqadj: be32 correction position, s32 offsets.
export const CTA_SEQADJ_CORRECTION_POS = 1;
export const CTA_SEQADJ_OFFSET_BEFORE = 2;
export const CTA_SEQADJ_OFFSET_AFTER = 3;
export const CTA_SEQADJ_MAX = 3;

// enum ip_conntrack_status
export const IPS_EXPECTED = 1 << 0;
export const IPS_SEEN_REPLY = 1 << 1;
export const IPS_ASSURED = 1 << 2;
export const IPS_CONFIRMED = 1 << 3;
export const IPS_SRC_NAT = 1 << 4;
export const IPS_DST_NAT = 1 << 5;
export const IPS_SEQ_ADJUST = 1 << 6;
export const IPS_SRC_NAT_DONE = 1 << 7;
export const IPS_DST_NAT_DONE = 1 << 8;
export const IPS_DYING = 1 << 9;
export const IPS_FIXED_TIMEOUT = 1 << 10;
export const IPS_TEMPLATE = 1 << 11;
export const IPS_UNTRACKED = 1 << 12;
export const IPS_HELPER = 1 << 13;
export const IPS_OFFLOAD = 1 << 14;
export const IPS_HW_OFFLOAD = 1 << 15;

/** Status bit names, index = bit number (lower case, as in netfilter.ct.status_flags). */
export const IPS_NAMES: readonly string[] = [
  'expected',
  'seen_reply',
  'assured',
  'confirmed',
  'src_nat',
  'dst_nat',
  'seq_adjust',
  'src_nat_done',
  'dst_nat_done',
  'dying',
  'fixed_timeout',
  'template',
  'untracked',
  'helper',
  'offload',
  'hw_offload',
];

/** enum tcp_conntrack, named as the kernel's tcp_conntrack_names. */
export const TCP_CONNTRACK_NAMES: readonly string[] = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
];
export const TCP_CONNTRACK_ESTABLISHED = 3;
export const TCP_CONNTRACK_TIME_WAIT = 7;

/** IP_CT_TCP_FLAG_* bits of nf_ct_tcp_flags.flags, index = bit number. */
export const TCP_CT_FLAG_NAMES: readonly string[] = [
  'window_scale',
  'sack_perm',
  'close_init',
  'be_liberal',
  'data_unacknowledged',
  'maxack_set',
  'challenge_ack',
  'simultaneous_open',
];

/** enum sctp_conntrack. */
export const SCTP_CONNTRACK_NAMES: readonly string[] = [
  'NONE',
  'CLOSED',
  'COOKIE_WAIT',
  'COOKIE_ECHOED',
  'ESTABLISHED',
  'SHUTDOWN_SENT',
  'SHUTDOWN_RECD',
  'SHUTDOWN_ACK_SENT',
  'HEARTBEAT_SENT',
  'HEARTBEAT_ACKED',
];

/** enum ct_dccp_states (net/netfilter/nf_conntrack_proto_dccp.c dccp_state_names). */
export const DCCP_CONNTRACK_NAMES: readonly string[] = [
  'NONE',
  'REQUEST',
  'RESPOND',
  'PARTOPEN',
  'OPEN',
  'CLOSEREQ',
  'CLOSING',
  'TIMEWAIT',
  'IGNORE',
  'INVALID',
];

/** Names of the set status bits, lowest bit first (a new array). */
export function statusNames(status: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < IPS_NAMES.length; bit++) if (status & (1 << bit)) out.push(IPS_NAMES[bit]);
  return out;
}

/** Names of the set IP_CT_TCP_FLAG_* bits (a new array). */
export function tcpCtFlagNames(flags: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < TCP_CT_FLAG_NAMES.length; bit++) if (flags & (1 << bit)) out.push(TCP_CT_FLAG_NAMES[bit]);
  return out;
}
