import { describe, expect, it } from 'vitest';
import { ConntrackDecoder, decodeConntrackAttributes, isConntrackMessage } from '../../../src/conntrack/decode';
import * as C from '../../../src/conntrack/constants';
import { AttributeTable } from '../../../src/netlink/message';
import { NflogDecoder } from '../../../src/nflog/decode';
import { NFULA_CT, NFULA_CT_INFO, NFULA_MAX } from '../../../src/nflog/constants';
import { nflogMessage } from '../../helpers/netlink-builder';
import { attr, bytesOf, counters, ctMessage, nested, tcpInfo, timestamps, tuple, u16be, u32attr, u32be } from './builders';
import {
  RECEIVED_US,
  dumpEntry,
  icmpEcho,
  ipv6Udp,
  kitchenSink,
  tcpEstablishedUpdate,
  tcpSnatNew,
  udpDnatDestroy,
  type Sample,
} from './samples';

const decoder = new ConntrackDecoder();

function decode(sample: Sample | number[], isDump = false) {
  const msg = Array.isArray(sample) ? sample : sample.msg;
  const { bytes, view } = bytesOf(msg);
  return decoder.decode(bytes, view, 0, bytes.length, RECEIVED_US, Array.isArray(sample) ? isDump : sample.isDump);
}

describe('isConntrackMessage', () => {
  it('accepts NEW and DELETE, nothing else', () => {
    expect(isConntrackMessage(0x0100)).toBe(true);
    expect(isConntrackMessage(0x0102)).toBe(true);
    expect(isConntrackMessage(0x0101)).toBe(false);
    expect(isConntrackMessage(0x0400)).toBe(false);
    expect(isConntrackMessage(0x0200)).toBe(false);
  });
});

describe('ConntrackDecoder', () => {
  it('a TCP NEW event with SNAT (masquerade)', () => {
    const r = decode(tcpSnatNew);
    expect(r).toEqual({
      kind: 'flow',
      event: 'new',
      family: 2,
      timestampUs: 1_700_000_000_000_001,
      receivedUs: RECEIVED_US,
      id: 0x11223344,
      original: { src: '10.0.1.2', dst: '10.0.2.2', protocol: 6, srcPort: 40000, dstPort: 80 },
      reply: { src: '10.0.2.2', dst: '10.0.2.1', protocol: 6, srcPort: 80, dstPort: 40000 },
      status: C.IPS_SRC_NAT | C.IPS_SRC_NAT_DONE | C.IPS_CONFIRMED,
      state: 1,
      stateName: 'SYN_SENT',
      tcpWscaleOriginal: 7,
      tcpWscaleReply: 0,
      tcpFlagsOriginal: 3,
      tcpFlagsReply: 0,
      timeout: 120,
      startUs: 1_700_000_000_000_001,
      nat: { source: { ip: '10.0.1.2', port: 40000, translatedIp: '10.0.2.1', translatedPort: 40000 } },
    });
    expect(r.decodeError).toBeUndefined();
  });

  it('a UDP DESTROY with DNAT, counters and start/stop timestamps', () => {
    const r = decode(udpDnatDestroy);
    expect(r.event).toBe('destroy');
    expect(r.original).toEqual({ src: '198.51.100.7', dst: '203.0.113.1', protocol: 17, srcPort: 5000, dstPort: 8080 });
    expect(r.reply).toEqual({ src: '10.0.1.5', dst: '198.51.100.7', protocol: 17, srcPort: 80, dstPort: 5000 });
    expect(r.nat).toEqual({ destination: { ip: '203.0.113.1', port: 8080, translatedIp: '10.0.1.5', translatedPort: 80 } });
    expect([r.originalPackets, r.originalBytes, r.replyPackets, r.replyBytes]).toEqual([3, 300, 2, 1200]);
    // ns → µs exactly (not through a rounded 64-bit float).
    expect(r.startUs).toBe(1_700_000_000_123_456);
    expect(r.stopUs).toBe(1_700_000_030_500_000);
    expect(r.timestampUs).toBe(r.stopUs);
    expect(r.id).toBe(7);
    expect(r.decodeError).toBeUndefined();
  });

  it('an ICMP echo flow: id, type, code per tuple', () => {
    const r = decode(icmpEcho);
    expect(r.original).toEqual({ src: '10.0.1.2', dst: '8.8.8.8', protocol: 1, icmpId: 0x1234, icmpType: 8, icmpCode: 0 });
    expect(r.reply).toEqual({ src: '8.8.8.8', dst: '10.0.1.2', protocol: 1, icmpId: 0x1234, icmpType: 0, icmpCode: 0 });
    expect(r.nat).toBeUndefined();
    expect(r.timestampUs).toBe(RECEIVED_US);
    expect(r.decodeError).toBeUndefined();
  });

  it('an ICMPv6 echo flow reads the ICMPV6 attributes', () => {
    const r = decode(
      ctMessage(
        C.IPCTNL_MSG_CT_NEW,
        C.NLM_F_CREATE,
        10,
        tuple(C.CTA_TUPLE_ORIG, { src: 'fe80::1', dst: 'ff02::1', proto: 58, icmp: { id: 7, type: 128, code: 0 } }),
      ),
    );
    expect(r.family).toBe(10);
    expect(r.original).toEqual({ src: 'fe80::1', dst: 'ff02::1', protocol: 58, icmpId: 7, icmpType: 128, icmpCode: 0 });
    expect(r.decodeError).toBeUndefined();
  });

  it('an IPv6 UDP flow (update: NEW without NLM_F_CREATE)', () => {
    const r = decode(ipv6Udp);
    expect(r.event).toBe('update');
    expect(r.family).toBe(10);
    expect(r.original).toEqual({ src: '2001:db8::1', dst: '2001:db8:0:1::53', protocol: 17, srcPort: 5353, dstPort: 53 });
    expect(r.reply?.src).toBe('2001:db8:0:1::53');
    expect(r.nat).toBeUndefined();
    expect(r.startUs).toBe(1_700_000_050_000_000);
    // An update is stamped with its receive time, not the flow start.
    expect(r.timestampUs).toBe(RECEIVED_US);
  });

  it('an update with TCP state ESTABLISHED, window scales and flags', () => {
    const r = decode(tcpEstablishedUpdate);
    expect(r.event).toBe('update');
    expect(r.state).toBe(3);
    expect(r.stateName).toBe('ESTABLISHED');
    expect([r.tcpWscaleOriginal, r.tcpWscaleReply, r.tcpFlagsOriginal, r.tcpFlagsReply]).toEqual([7, 8, 0x23, 0x33]);
    expect(r.timeout).toBe(432000);
  });

  it('zone, mark, labels, helper, secctx, use, id, master tuple, seq adj, 32-bit counters', () => {
    const r = decode(kitchenSink);
    expect(r.decodeError).toBeUndefined();
    expect(r.original).toEqual({ src: '10.0.1.2', dst: '192.0.2.21', protocol: 6, srcPort: 40001, dstPort: 20, zone: 5 });
    expect(r.master).toEqual({ src: '10.0.1.2', dst: '192.0.2.21', protocol: 6, srcPort: 40000, dstPort: 21 });
    expect(r.zone).toBe(5);
    expect(r.mark).toBe(0x1234);
    expect(r.labels).toBe('01000000000000000000000000000080');
    expect(r.helper).toBe('ftp');
    expect(r.secctx).toBe('system_u:object_r:unlabeled_t:s0');
    expect(r.use).toBe(2);
    expect(r.id).toBe(0xdeadbeef);
    expect(r.seqAdjOriginal).toEqual({ position: 1000, offsetBefore: 0, offsetAfter: -3 });
    expect(r.seqAdjReply).toEqual({ position: 2000, offsetBefore: 5, offsetAfter: 5 });
    expect([r.originalPackets, r.originalBytes, r.replyPackets, r.replyBytes]).toEqual([10, 5000, 8, 640]);
    expect(r.stateName).toBe('ESTABLISHED');
    expect(r.nat).toBeUndefined();
  });

  it('a dump entry is a dump, whatever its flags', () => {
    const r = decode(dumpEntry);
    expect(r.event).toBe('dump');
    expect(r.timestampUs).toBe(RECEIVED_US);
    expect(r.startUs).toBe(1_699_999_000_000_000);
    expect(r.nat).toEqual({
      source: { ip: '10.0.1.2', port: 40002, translatedIp: '10.0.1.1', translatedPort: 61000 },
      destination: { ip: '203.0.113.1', port: 443, translatedIp: '10.0.1.5', translatedPort: 8443 },
    });
    // The same bytes as an event are a NEW without NLM_F_CREATE: an update.
    expect(decode(dumpEntry.msg, false).event).toBe('update');
    // A DELETE in a dump answer is still a dump entry.
    expect(decode(ctMessage(C.IPCTNL_MSG_CT_DELETE, 0, 2), true).event).toBe('dump');
  });

  it('a DELETE without timestamps is stamped with the receive time', () => {
    const r = decode(
      ctMessage(C.IPCTNL_MSG_CT_DELETE, 0, 2, tuple(C.CTA_TUPLE_ORIG, { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, sport: 1, dport: 2 })),
    );
    expect(r.event).toBe('destroy');
    expect(r.timestampUs).toBe(RECEIVED_US);
  });

  it('SCTP and DCCP states are named', () => {
    const sctp = decode(
      ctMessage(
        C.IPCTNL_MSG_CT_NEW,
        0,
        2,
        nested(
          C.CTA_PROTOINFO,
          nested(C.CTA_PROTOINFO_SCTP, attr(C.CTA_PROTOINFO_SCTP_STATE, [4]), attr(C.CTA_PROTOINFO_SCTP_VTAG_ORIGINAL, u32be(1))),
        ),
      ),
    );
    expect([sctp.state, sctp.stateName]).toEqual([4, 'ESTABLISHED']);
    expect(sctp.tcpFlagsOriginal).toBeUndefined();
    const dccp = decode(
      ctMessage(
        C.IPCTNL_MSG_CT_NEW,
        0,
        2,
        nested(C.CTA_PROTOINFO, nested(C.CTA_PROTOINFO_DCCP, attr(C.CTA_PROTOINFO_DCCP_STATE, [7]), attr(C.CTA_PROTOINFO_DCCP_ROLE, [0]))),
      ),
    );
    expect([dccp.state, dccp.stateName]).toEqual([7, 'TIMEWAIT']);
    const unknown = decode(ctMessage(C.IPCTNL_MSG_CT_NEW, 0, 2, tcpInfo(200)));
    expect([unknown.state, unknown.stateName]).toEqual([200, undefined]);
  });

  it('infers NAT from the tuples when the status is absent', () => {
    const r = decode(
      ctMessage(
        C.IPCTNL_MSG_CT_NEW,
        0,
        2,
        tuple(C.CTA_TUPLE_ORIG, { src: '10.0.1.2', dst: '10.0.2.2', proto: 6, sport: 40000, dport: 80 }),
        tuple(C.CTA_TUPLE_REPLY, { src: '10.0.2.2', dst: '10.0.2.1', proto: 6, sport: 80, dport: 40000 }),
      ),
    );
    expect(r.status).toBeUndefined();
    expect(r.nat).toEqual({ source: { ip: '10.0.1.2', port: 40000, translatedIp: '10.0.2.1', translatedPort: 40000 } });
  });

  it('reads the message at an offset inside a larger datagram', () => {
    const first = tcpSnatNew.msg;
    const all = [...first, ...udpDnatDestroy.msg];
    const { bytes, view } = bytesOf(all);
    const r = decoder.decode(bytes, view, first.length, udpDnatDestroy.msg.length, RECEIVED_US, false);
    expect(r.event).toBe('destroy');
    expect(r.decodeError).toBeUndefined();
    expect(r.original?.dstPort).toBe(8080);
  });

  it('reports faults and keeps what decoded', () => {
    // Not a conntrack message.
    expect(decode(ctMessage(C.IPCTNL_MSG_CT_GET, 0, 2)).decodeError).toBe('conntrack.not-conntrack');
    // A tuple without addresses is left out.
    const noIp = decode(
      ctMessage(
        C.IPCTNL_MSG_CT_NEW,
        0,
        2,
        nested(C.CTA_TUPLE_ORIG, nested(C.CTA_TUPLE_PROTO, attr(C.CTA_PROTO_NUM, [6]))),
        u32attr(C.CTA_MARK, 9),
      ),
    );
    expect(noIp.decodeError).toBe('conntrack.bad-tuple');
    expect(noIp.original).toBeUndefined();
    expect(noIp.mark).toBe(9);
    // A short status.
    const short = decode(ctMessage(C.IPCTNL_MSG_CT_NEW, 0, 2, attr(C.CTA_STATUS, [0, 1]), attr(C.CTA_ZONE, u16be(3))));
    expect(short.decodeError).toBe('conntrack.short-attribute');
    expect(short.status).toBeUndefined();
    expect(short.zone).toBe(3);
    // An attribute whose length runs past the message.
    const msg = ctMessage(C.IPCTNL_MSG_CT_NEW, 0, 2, u32attr(C.CTA_MARK, 1), u32attr(C.CTA_USE, 4));
    msg[msg.length - 8] = 0x40;
    const bad = decode(msg);
    expect(bad.decodeError).toBe('netlink.bad-attribute-length');
    expect(bad.mark).toBe(1);
    // A header that claims more bytes than there are.
    const cut = tcpSnatNew.msg.slice(0, 60);
    const { bytes, view } = bytesOf(cut);
    const partial = decoder.decode(bytes, view, 0, bytes.length, RECEIVED_US, false);
    expect(partial.decodeError).toBe('conntrack.truncated');
    expect(partial.event).toBe('new');
    expect(partial.family).toBe(2);
  });

  it('reuses its attribute tables: decoding one message does not leak into the next', () => {
    const a = decode(kitchenSink);
    const b = decode(icmpEcho);
    expect(b.helper).toBeUndefined();
    expect(b.master).toBeUndefined();
    expect(b.original?.zone).toBeUndefined();
    expect(a.helper).toBe('ftp');
  });
});

describe('decodeConntrackAttributes: NFLOG NFULA_CT', () => {
  // What nfnetlink_log puts in NFULA_CT (ctnetlink_glue_build): tuples, zone,
  // status, timeout, protoinfo, helper, secctx, master, labels, seq adj, mark, id
  // — no counters, no timestamps. This kernel cannot log one (no ct glue in
  // the test namespace), so it is built from the header layout.
  const ctBlob = [
    tuple(C.CTA_TUPLE_ORIG, { src: '10.0.1.2', dst: '10.0.2.2', proto: 6, sport: 40000, dport: 80 }),
    tuple(C.CTA_TUPLE_REPLY, { src: '10.0.2.2', dst: '10.0.2.1', proto: 6, sport: 80, dport: 40000 }),
    u32attr(C.CTA_STATUS, C.IPS_SRC_NAT | C.IPS_SRC_NAT_DONE | C.IPS_CONFIRMED | C.IPS_SEEN_REPLY),
    u32attr(C.CTA_TIMEOUT, 60),
    tcpInfo(C.TCP_CONNTRACK_ESTABLISHED, [7, 7], [0x23, 0x23]),
    u32attr(C.CTA_MARK, 42),
    u32attr(C.CTA_ID, 99),
  ];
  const nflog = nflogMessage(
    3,
    2,
    attr(1 /* NFULA_PACKET_HDR */, [...u16be(0x0800), 2, 0]),
    attr(10 /* NFULA_PREFIX */, 'FWD'),
    nested(NFULA_CT, ...ctBlob),
    attr(NFULA_CT_INFO, u32be(0 /* IP_CT_ESTABLISHED */)),
  );

  it('decodes the conntrack attributes nested in an NFLOG message', () => {
    const { bytes, view } = bytesOf(nflog);
    const table = new AttributeTable(NFULA_MAX);
    expect(table.parse(view, 16 + 4, bytes.length)).toBeNull();
    const at = table.offsets[NFULA_CT];
    const r = decodeConntrackAttributes(bytes, view, at, at + table.lengths[NFULA_CT], bytes[16], RECEIVED_US);
    expect(r.decodeError).toBeUndefined();
    expect(r.event).toBe('dump');
    expect(r.family).toBe(2);
    expect(r.timestampUs).toBe(RECEIVED_US);
    expect(r.original).toEqual({ src: '10.0.1.2', dst: '10.0.2.2', protocol: 6, srcPort: 40000, dstPort: 80 });
    expect(r.nat?.source).toEqual({ ip: '10.0.1.2', port: 40000, translatedIp: '10.0.2.1', translatedPort: 40000 });
    expect([r.stateName, r.mark, r.id, r.timeout]).toEqual(['ESTABLISHED', 42, 99, 60]);
    expect(decodeConntrackAttributes(bytes, view, at, at + table.lengths[NFULA_CT], 2, RECEIVED_US, 'update').event).toBe('update');
    // The NFLOG decoder reads the same message and carries the flow on the packet record.
    const pkt = new NflogDecoder().decode(bytes, view, 0, bytes.length, RECEIVED_US);
    expect(pkt.prefix).toBe('FWD');
    expect(pkt.ctInfo).toBe(0);
    expect(pkt.ct).toEqual(r);
  });

  it('equals the decoding of the same attributes as a ctnetlink message', () => {
    const { bytes, view } = bytesOf(nflog);
    const table = new AttributeTable(NFULA_MAX);
    table.parse(view, 20, bytes.length);
    const at = table.offsets[NFULA_CT];
    const attached = decodeConntrackAttributes(bytes, view, at, at + table.lengths[NFULA_CT], 2, RECEIVED_US);
    const standalone = decode(ctMessage(C.IPCTNL_MSG_CT_NEW, C.NLM_F_MULTI, 2, ...ctBlob), true);
    expect(attached).toEqual(standalone);
  });

  it('an end past the buffer is a truncation, not a throw', () => {
    const blob = ctBlob.flat();
    const { bytes, view } = bytesOf(blob);
    const r = decodeConntrackAttributes(bytes, view, 0, bytes.length + 100, 2, RECEIVED_US);
    expect(r.decodeError).toBe('conntrack.truncated');
    expect(r.mark).toBe(42);
  });
});

describe('counters', () => {
  it('64-bit counters above 2^32', () => {
    const r = decode(
      ctMessage(
        C.IPCTNL_MSG_CT_DELETE,
        0,
        2,
        counters(C.CTA_COUNTERS_ORIG, 5_000_000_000, 2 ** 40 + 7),
        timestamps(undefined, 1_000_000_000_000n),
      ),
    );
    expect(r.originalPackets).toBe(5_000_000_000);
    expect(r.originalBytes).toBe(2 ** 40 + 7);
    expect(r.stopUs).toBe(1_000_000_000);
    expect(r.timestampUs).toBe(1_000_000_000);
  });
});
