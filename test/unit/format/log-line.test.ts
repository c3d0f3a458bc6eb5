// packetToLogLine over packets the kernel tests send: the expected lines are
// what the kernel's LOG printed for them (test/kernel/log-line.test.ts).
import { describe, expect, it } from 'vitest';
import { ipv6Full } from '../../../src/format/ipv6-full';
import { logLineOptionsFromFlags, packetToLogLine, type LogLineOptions } from '../../../src/format/log-line';
import { linkHeaderToString } from '../../../src/packet/address';
import { decodePacket } from '../../../src/packet/decode';
import { ipv4, tcp, toBytes, udp } from '../packet/builders';
import { OUTPUT, packets, record } from './records';

const ALL: LogLineOptions = logLineOptionsFromFlags(0x2f);
const IN4 = 'P IN=veth-lb OUT= MAC=02:00:00:78:01:02:02:00:00:78:01:01:08:00 ';
const IN4_DECODED = 'P IN=veth-lb OUT= MACSRC=02:00:00:78:01:01 MACDST=02:00:00:78:01:02 MACPROTO=0800 ';
const IN6_DECODED = 'P IN=veth-lb OUT= MACSRC=02:00:00:78:01:01 MACDST=02:00:00:78:01:02 MACPROTO=86dd ';
const ADDR6 = 'SRC=fd78:0001:0000:0000:0000:0000:0000:0001 DST=fd78:0001:0000:0000:0000:0000:0000:0002 ';

describe('packetToLogLine', () => {
  it('prints every TCP flag, the reserved bits, TOS/PREC, CE and DF, with and without the flags', () => {
    const r = record(2, packets.tcp4Flags());
    const ip = 'SRC=10.78.1.1 DST=10.78.1.2 LEN=60 TOS=0x10 PREC=0x20 TTL=64 ID=16641 CE DF PROTO=TCP SPT=40100 DPT=7010 ';
    expect(packetToLogLine(r, ALL)).toBe(
      IN4_DECODED +
        ip +
        'SEQ=123456789 ACK=987654321 WINDOW=512 RES=0x38 AE CWR ECE URG ACK PSH RST SYN FIN URGP=77 OPT (020405B40402080A0001E2400000000001030307) ',
    );
    expect(packetToLogLine(r)).toBe(IN4 + ip + 'WINDOW=512 RES=0x38 AE CWR ECE URG ACK PSH RST SYN FIN URGP=77 ');
  });

  it('says INCOMPLETE for an ICMP error too short to quote, and goes on', () => {
    const r = record(2, packets.icmp4Truncated(), { mark: 7 });
    expect(packetToLogLine(r)).toBe(
      IN4 +
        'SRC=10.78.1.1 DST=10.78.1.2 LEN=34 TOS=0x00 PREC=0x00 TTL=64 ID=16648 PROTO=ICMP TYPE=11 CODE=0 INCOMPLETE [14 bytes] MARK=0x7 ',
    );
  });

  it('quotes the packet of an ICMP error in brackets, then the MTU', () => {
    expect(packetToLogLine(record(2, packets.icmp4FragNeeded()), ALL)).toBe(
      IN4_DECODED +
        'SRC=10.78.1.1 DST=10.78.1.2 LEN=88 TOS=0x00 PREC=0x00 TTL=64 ID=16647 PROTO=ICMP TYPE=3 CODE=4 ' +
        '[SRC=10.78.1.1 DST=10.78.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=1911 PROTO=TCP SPT=7013 DPT=40103 SEQ=5555 ACK=6666 WINDOW=2048 RES=0x00 ACK PSH URGP=0 OPT (020405B40402080A0001E2400000000001030307) ] MTU=1400 ',
    );
  });

  it('prints IPv6 addresses in full and extension headers as OPT ( … )', () => {
    expect(packetToLogLine(record(10, packets.ext6()), ALL)).toBe(
      IN6_DECODED + ADDR6 + 'LEN=72 TC=40 HOPLIMIT=64 FLOWLBL=397313 OPT ( ) OPT ( ) PROTO=UDP SPT=40104 DPT=7016 LEN=16 ',
    );
    expect(packetToLogLine(record(10, packets.frag6Later()), ALL)).toBe(
      IN6_DECODED + ADDR6 + 'LEN=64 TC=0 HOPLIMIT=64 FLOWLBL=397315 OPT ( FRAG:40 ID:a1b2c3d5 ) PROTO=TCP ',
    );
    expect(packetToLogLine(record(10, packets.ah6()), ALL)).toBe(
      IN6_DECODED + ADDR6 + 'LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=397316 OPT ( AH SPI=0xabc123 ) PROTO=ICMPv6 TYPE=128 CODE=0 ID=119 SEQ=5 ',
    );
  });

  it('ends the line at IPv6 ESP', () => {
    const r = record(10, packets.esp6(), { mark: 1 });
    expect(packetToLogLine(r, ALL)).toBe(IN6_DECODED + ADDR6 + 'LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=397317 OPT ( ESP SPI=0x5eed )');
    expect(packetToLogLine(r, { macDecode: true })).toBe(IN6_DECODED + ADDR6 + 'LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=397317 ');
  });

  it('prints UID/GID only with the uid flag, and no MAC without an input device', () => {
    const r = record(2, packets.uid4(), { ...OUTPUT, uid: 4243, gid: 4244 });
    const line =
      'P IN= OUT=veth-la SRC=10.78.1.1 DST=10.78.1.2 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=60125 DF PROTO=UDP SPT=51909 DPT=7004 LEN=20 ';
    expect(packetToLogLine(r, ALL)).toBe(line + 'UID=4243 GID=4244 ');
    expect(packetToLogLine(r)).toBe(line);
  });

  it('stops after INCOMPLETE TCP: no MARK follows', () => {
    const bytes = ipv4({ src: '10.78.1.1', dst: '10.78.1.2', protocol: 6, id: 1 }, tcp({}).slice(0, 12));
    const r = record(2, bytes, { mark: 5 });
    expect(packetToLogLine(r)).toBe(
      IN4 + 'SRC=10.78.1.1 DST=10.78.1.2 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=TCP INCOMPLETE [12 bytes] ',
    );
  });

  it('stops at cut TCP options with OPT (TRUNCATED)', () => {
    const bytes = ipv4({ src: '10.78.1.1', dst: '10.78.1.2', protocol: 6, id: 1 }, tcp({ flags: 2, options: [2, 4, 5, 0xb4] }));
    const r = record(2, bytes.slice(0, bytes.length - 2), { mark: 5 });
    expect(packetToLogLine(r, { tcpOptions: true })).toMatch(/ SYN URGP=0 OPT \(TRUNCATED\)$/);
  });

  it('prints MAC decode with the VLAN tag (whole TCI as VID), and MAC= with no header', () => {
    const r = record(2, ipv4({ protocol: 17 }, udp({})), { vlan: { proto: 0x8100, tci: 0x2005, id: 5 } });
    expect(packetToLogLine(r, { macDecode: true })).toContain(
      'MACSRC=02:00:00:78:01:01 MACDST=02:00:00:78:01:02 VPROTO=8100 VID=8197 MACPROTO=0800 SRC=',
    );
    const tun = record(2, ipv4({ protocol: 17 }, udp({})), { hwHeader: undefined, hwType: undefined, hwLen: undefined });
    expect(packetToLogLine(tun)).toContain('OUT= MAC= SRC=');
    expect(packetToLogLine(tun, { macDecode: true })).toContain('OUT= MAC= SRC=');
  });

  it('prints an interface index without a name as #INDEX (IN=, OUT=, PHYSIN=, PHYSOUT=); no device stays empty', () => {
    const bytes = packets.tcp4Flags();
    const unnamed = packetToLogLine(record(2, bytes, { inInterface: undefined, physInIfindex: 7, physOutIfindex: 9, outIfindex: 8 }));
    expect(unnamed.startsWith('P IN=#2 OUT=#8 PHYSIN=#7 PHYSOUT=#9 MAC=')).toBe(true);
    const named = packetToLogLine(record(2, bytes, { physInIfindex: 7, physInInterface: 'eth1' }));
    expect(named.startsWith('P IN=veth-lb OUT= PHYSIN=eth1 MAC=')).toBe(true);
    expect(packetToLogLine(record(2, bytes, { ...OUTPUT, outInterface: undefined })).startsWith('P IN= OUT=#2 SRC=')).toBe(true);
  });

  it('never throws on cut or random packets', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const bases = [packets.tcp4Flags(), packets.icmp4FragNeeded(), packets.ext6(), packets.ah6(), packets.esp6()];
    for (let i = 0; i < 2000; i++) {
      const base = bases[i % bases.length].slice();
      const cut = Math.floor(rand() * base.length);
      for (let k = 0; k < 3; k++) base[Math.floor(rand() * base.length)] = Math.floor(rand() * 256);
      const data = toBytes(base.slice(0, cut));
      const family = (data[0] ?? 0) >> 4 === 6 ? 10 : 2;
      const r = record(family, [], {
        payloadLength: data.length,
        packet: decodePacket(data, 0, data.length, family === 2 ? 'ipv4' : 'ipv6'),
      });
      expect(typeof packetToLogLine(r, ALL)).toBe('string');
    }
  });
});

describe('ipv6Full', () => {
  it('writes eight groups of four digits', () => {
    expect(ipv6Full('fd78:1::2')).toBe('fd78:0001:0000:0000:0000:0000:0000:0002');
    expect(ipv6Full('::')).toBe('0000:0000:0000:0000:0000:0000:0000:0000');
    expect(ipv6Full('::1')).toBe('0000:0000:0000:0000:0000:0000:0000:0001');
    expect(ipv6Full('fe80::')).toBe('fe80:0000:0000:0000:0000:0000:0000:0000');
    expect(ipv6Full('::ffff:192.0.2.1')).toBe('0000:0000:0000:0000:0000:ffff:c000:0201');
    expect(ipv6Full('2001:db8:0:1:2:3:4:5')).toBe('2001:0db8:0000:0001:0002:0003:0004:0005');
    expect(ipv6Full('not an address')).toBe('not an address');
  });
});

describe('linkHeaderToString', () => {
  it('joins every byte of the header with colons', () => {
    const eth = toBytes([2, 0, 0, 0x78, 1, 2, 2, 0, 0, 0x78, 1, 1, 0x86, 0xdd]);
    expect(linkHeaderToString(eth, 0, 14)).toBe('02:00:00:78:01:02:02:00:00:78:01:01:86:dd');
    expect(linkHeaderToString(toBytes([0xab, 0xcd, 0xef]), 1, 2)).toBe('cd:ef');
    expect(linkHeaderToString(eth, 0, 0)).toBe('');
  });
});
