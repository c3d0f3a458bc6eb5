// packetToLogemuLine over packets the kernel tests send: the expected lines
// are what ulogd 2.0.8's LOGEMU wrote for them (test/kernel/logemu.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { logemuHeader, packetToLogemuLine } from '../../../src/format/logemu';
import { OUTPUT, packets, record } from './records';

const IN4 = 'P IN=veth-lb OUT= MAC=02:00:00:78:01:02:02:00:00:78:01:01:08:00 ';
const IN6 = 'P IN=veth-lb OUT= MAC=02:00:00:78:01:02:02:00:00:78:01:01:86:dd SRC=fd78:1::1 DST=fd78:1::2 ';

describe('packetToLogemuLine', () => {
  const tz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = tz;
  });

  it('prints TOS without 0x, SEQ/ACK always, six TCP flags and MARK=0x0', () => {
    expect(packetToLogemuLine(record(2, packets.tcp4Flags(), { prefix: 'P' }))).toBe(
      IN4 +
        'SRC=10.78.1.1 DST=10.78.1.2 LEN=60 TOS=10 PREC=0x20 TTL=64 ID=16641 CE DF PROTO=TCP SPT=40100 DPT=7010 SEQ=123456789 ACK=987654321 WINDOW=512 URG ACK PSH RST SYN FIN URGP=77 MARK=0x0 ',
    );
  });

  it('picks ICMP fields by code, as ulogd does', () => {
    expect(packetToLogemuLine(record(2, packets.icmp4Truncated(), { prefix: 'P' }))).toBe(
      IN4 + 'SRC=10.78.1.1 DST=10.78.1.2 LEN=34 TOS=00 PREC=0x00 TTL=64 ID=16648 PROTO=ICMP TYPE=11 CODE=0 ID=0 SEQ=0 MARK=0x0 ',
    );
    expect(packetToLogemuLine(record(2, packets.icmp4FragNeeded(), { prefix: 'P' }))).toBe(
      IN4 + 'SRC=10.78.1.1 DST=10.78.1.2 LEN=88 TOS=00 PREC=0x00 TTL=64 ID=16647 PROTO=ICMP TYPE=3 CODE=4 MARK=0x0 ',
    );
  });

  it('prints IPv6 fragments, walks past AH and names IPv6 ESP "AH"', () => {
    expect(packetToLogemuLine(record(10, packets.frag6Later(), { prefix: 'P' }))).toBe(
      IN6 + 'LEN=64 TC=0 HOPLIMIT=64 FLOWLBL=397315 FRAG: 40 ID: a1b2c3d5 PROTO=TCP INCOMPLETEMARK=0x0 ',
    );
    expect(packetToLogemuLine(record(10, packets.ah6(), { prefix: 'P' }))).toBe(
      IN6 + 'LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=397316 PROTO=ICMPv6 TYPE=128 CODE=0 ID=119 SEQ=5 MARK=0x0 ',
    );
    expect(packetToLogemuLine(record(10, packets.esp6(), { prefix: 'P', mark: 0x2a }))).toBe(
      IN6 + 'LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=397317 PROTO=AH INCOMPLETEMARK=0x2a ',
    );
  });

  it('prints UID and GID when the record has them, and MAC= without a MAC header', () => {
    expect(packetToLogemuLine(record(2, packets.uid4(), { ...OUTPUT, prefix: 'P', uid: 4243, gid: 4244 }))).toBe(
      'P IN= OUT=veth-la MAC= SRC=10.78.1.1 DST=10.78.1.2 LEN=40 TOS=00 PREC=0x00 TTL=64 ID=60125 DF PROTO=UDP SPT=51909 DPT=7004 LEN=20 UID=4243 GID=4244 MARK=0x0 ',
    );
  });

  it('adds the LOGEMU header: ctime without the weekday, short host name', () => {
    process.env.TZ = 'UTC';
    const us = Date.UTC(2026, 10, 5, 3, 4, 9) * 1000 + 999_999;
    expect(logemuHeader(us, 'gw1.example.net')).toBe('Nov  5 03:04:09 gw1 ');
    const line = packetToLogemuLine(record(2, packets.uid4(), { ...OUTPUT, prefix: 'P', timestampUs: us }), { hostname: 'gw1' });
    expect(line.startsWith('Nov  5 03:04:09 gw1 P IN= OUT=veth-la MAC= SRC=')).toBe(true);
  });
});
