// Hand-built ctnetlink messages for the cases a gateway sees, shared by the
// decoder tests and the flow ECS tests.
import * as C from '../../../src/conntrack/constants';
import { attr, counters, ctMessage, nested, seqAdj, tcpInfo, timestamps, tuple, u16be, u32attr, u32be } from './builders';

export const RECEIVED_US = 1_700_000_100_000_000;

export interface Sample {
  name: string;
  msg: number[];
  isDump: boolean;
}

const NEW_EVENT = C.NLM_F_CREATE | C.NLM_F_EXCL;

/** Masquerade: client 10.0.1.2:40000 → server 10.0.2.2:80 leaves as router 10.0.2.1:40000. */
export const tcpSnatNew: Sample = {
  name: 'tcp new with snat',
  isDump: false,
  msg: ctMessage(
    C.IPCTNL_MSG_CT_NEW,
    NEW_EVENT,
    2,
    tuple(C.CTA_TUPLE_ORIG, { src: '10.0.1.2', dst: '10.0.2.2', proto: 6, sport: 40000, dport: 80 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '10.0.2.2', dst: '10.0.2.1', proto: 6, sport: 80, dport: 40000 }),
    u32attr(C.CTA_STATUS, C.IPS_SRC_NAT | C.IPS_SRC_NAT_DONE | C.IPS_CONFIRMED),
    u32attr(C.CTA_TIMEOUT, 120),
    tcpInfo(1 /* SYN_SENT */, [7, 0], [0x03, 0x00]),
    u32attr(C.CTA_ID, 0x11223344),
    timestamps(1_700_000_000_000_001_000n),
  ),
};

/** Port forward 203.0.113.1:8080 → 10.0.1.5:80, destroyed after 30.376544 s. */
export const udpDnatDestroy: Sample = {
  name: 'udp destroy with dnat',
  isDump: false,
  msg: ctMessage(
    C.IPCTNL_MSG_CT_DELETE,
    0,
    2,
    tuple(C.CTA_TUPLE_ORIG, { src: '198.51.100.7', dst: '203.0.113.1', proto: 17, sport: 5000, dport: 8080 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '10.0.1.5', dst: '198.51.100.7', proto: 17, sport: 80, dport: 5000 }),
    u32attr(C.CTA_STATUS, C.IPS_DST_NAT | C.IPS_DST_NAT_DONE | C.IPS_CONFIRMED | C.IPS_SEEN_REPLY | C.IPS_ASSURED),
    counters(C.CTA_COUNTERS_ORIG, 3, 300),
    counters(C.CTA_COUNTERS_REPLY, 2, 1200),
    u32attr(C.CTA_ID, 7),
    timestamps(1_700_000_000_123_456_789n, 1_700_000_030_500_000_123n),
  ),
};

/** ping 10.0.1.2 → 8.8.8.8, id 0x1234. */
export const icmpEcho: Sample = {
  name: 'icmp echo',
  isDump: false,
  msg: ctMessage(
    C.IPCTNL_MSG_CT_NEW,
    NEW_EVENT,
    2,
    tuple(C.CTA_TUPLE_ORIG, { src: '10.0.1.2', dst: '8.8.8.8', proto: 1, icmp: { id: 0x1234, type: 8, code: 0 } }),
    tuple(C.CTA_TUPLE_REPLY, { src: '8.8.8.8', dst: '10.0.1.2', proto: 1, icmp: { id: 0x1234, type: 0, code: 0 } }),
    u32attr(C.CTA_STATUS, C.IPS_CONFIRMED),
    u32attr(C.CTA_TIMEOUT, 30),
  ),
};

/** DNS over IPv6, no NAT, with counters and a start time (update: still open). */
export const ipv6Udp: Sample = {
  name: 'ipv6 udp',
  isDump: false,
  msg: ctMessage(
    C.IPCTNL_MSG_CT_NEW,
    0,
    10,
    tuple(C.CTA_TUPLE_ORIG, { src: '2001:db8::1', dst: '2001:db8:0:1::53', proto: 17, sport: 5353, dport: 53 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '2001:db8:0:1::53', dst: '2001:db8::1', proto: 17, sport: 53, dport: 5353 }),
    u32attr(C.CTA_STATUS, C.IPS_CONFIRMED | C.IPS_SEEN_REPLY),
    counters(C.CTA_COUNTERS_ORIG, 1, 80),
    counters(C.CTA_COUNTERS_REPLY, 1, 120),
    timestamps(1_700_000_050_000_000_000n),
  ),
};

/** A TCP flow becomes ESTABLISHED (update event, NEW without NLM_F_CREATE). */
export const tcpEstablishedUpdate: Sample = {
  name: 'tcp update established',
  isDump: false,
  msg: ctMessage(
    C.IPCTNL_MSG_CT_NEW,
    0,
    2,
    tuple(C.CTA_TUPLE_ORIG, { src: '192.0.2.10', dst: '192.0.2.20', proto: 6, sport: 51000, dport: 443 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '192.0.2.20', dst: '192.0.2.10', proto: 6, sport: 443, dport: 51000 }),
    u32attr(C.CTA_STATUS, C.IPS_CONFIRMED | C.IPS_SEEN_REPLY | C.IPS_ASSURED),
    u32attr(C.CTA_TIMEOUT, 432000),
    tcpInfo(C.TCP_CONNTRACK_ESTABLISHED, [7, 8], [0x23, 0x33]),
  ),
};

/** An FTP data flow: zone, mark, labels, helper, secctx, use, id, master tuple, seq adj, 32-bit counters. */
export const kitchenSink: Sample = {
  name: 'ftp data flow with every attribute',
  isDump: false,
  msg: ctMessage(
    C.IPCTNL_MSG_CT_NEW,
    0,
    2,
    tuple(C.CTA_TUPLE_ORIG, { src: '10.0.1.2', dst: '192.0.2.21', proto: 6, sport: 40001, dport: 20, zone: 5 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '192.0.2.21', dst: '10.0.1.2', proto: 6, sport: 20, dport: 40001, zone: 5 }),
    u32attr(C.CTA_STATUS, C.IPS_EXPECTED | C.IPS_CONFIRMED | C.IPS_SEEN_REPLY | C.IPS_SEQ_ADJUST | C.IPS_HELPER),
    u32attr(C.CTA_TIMEOUT, 300),
    u32attr(C.CTA_MARK, 0x1234),
    attr(C.CTA_ZONE, u16be(5)),
    attr(C.CTA_LABELS, [0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]),
    nested(C.CTA_HELP, attr(C.CTA_HELP_NAME, 'ftp')),
    nested(C.CTA_SECCTX, attr(C.CTA_SECCTX_NAME, 'system_u:object_r:unlabeled_t:s0')),
    u32attr(C.CTA_USE, 2),
    u32attr(C.CTA_ID, 0xdeadbeef),
    tuple(C.CTA_TUPLE_MASTER, { src: '10.0.1.2', dst: '192.0.2.21', proto: 6, sport: 40000, dport: 21 }),
    seqAdj(C.CTA_SEQ_ADJ_ORIG, 1000, 0, -3),
    seqAdj(C.CTA_SEQ_ADJ_REPLY, 2000, 5, 5),
    nested(C.CTA_COUNTERS_ORIG, attr(C.CTA_COUNTERS32_PACKETS, u32be(10)), attr(C.CTA_COUNTERS32_BYTES, u32be(5000))),
    nested(C.CTA_COUNTERS_REPLY, attr(C.CTA_COUNTERS32_PACKETS, u32be(8)), attr(C.CTA_COUNTERS32_BYTES, u32be(640))),
    tcpInfo(C.TCP_CONNTRACK_ESTABLISHED),
  ),
};

/** One entry of a table dump (NLM_F_MULTI), an assured SNAT+DNAT TCP flow. */
export const dumpEntry: Sample = {
  name: 'dump entry',
  isDump: true,
  msg: ctMessage(
    C.IPCTNL_MSG_CT_NEW,
    C.NLM_F_MULTI,
    2,
    tuple(C.CTA_TUPLE_ORIG, { src: '10.0.1.2', dst: '203.0.113.1', proto: 6, sport: 40002, dport: 443 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '10.0.1.5', dst: '10.0.1.1', proto: 6, sport: 8443, dport: 61000 }),
    u32attr(
      C.CTA_STATUS,
      C.IPS_SRC_NAT | C.IPS_DST_NAT | C.IPS_SRC_NAT_DONE | C.IPS_DST_NAT_DONE | C.IPS_CONFIRMED | C.IPS_SEEN_REPLY | C.IPS_ASSURED,
    ),
    u32attr(C.CTA_TIMEOUT, 431999),
    tcpInfo(C.TCP_CONNTRACK_ESTABLISHED),
    counters(C.CTA_COUNTERS_ORIG, 12, 1500),
    counters(C.CTA_COUNTERS_REPLY, 10, 9000),
    timestamps(1_699_999_000_000_000_000n),
    u32attr(C.CTA_USE, 1),
  ),
};

export const SAMPLES: Sample[] = [tcpSnatNew, udpDnatDestroy, icmpEcho, ipv6Udp, tcpEstablishedUpdate, kitchenSink, dumpEntry];
