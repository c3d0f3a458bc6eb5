// tcpdump's own NFLOG test captures (test/fixtures/peers/tcpdump/, BSD,
// see the README there) against the reader and the writer:
//  - every fact tcpdump's expected printouts show is what the reader makes
//    of the capture (nflog-e.out; nflog_print-vvv.out, which also names the
//    NFLOG attributes), and so is every fact today's tcpdump prints with -v;
//  - `--read FILE --write-pcap OUT` keeps each packet's bytes: tcpdump prints
//    the same for the original and the rewritten file.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseArgs } from '../../../src/cli/args';
import { runCollection } from '../../../src/cli/run';
import { readNflogPcap } from '../../../src/pcap/reader';
import { NflogPcapWriter } from '../../../src/pcap/writer';
import { PCAP_RECORD_HEADER_LEN } from '../../../src/pcap/format';
import type { PacketRecord } from '../../../src/records';

const DIR = path.resolve(__dirname, '../../fixtures/peers/tcpdump');
const CAPTURES = ['nflog.pcap', 'nflog_print.pcap'];

function records(file: string): PacketRecord[] {
  const contents = readNflogPcap(new Uint8Array(fs.readFileSync(path.join(DIR, file))), { includePayload: true });
  expect(contents.fatal).toBeNull();
  expect(contents.errors).toBe(0);
  return contents.records;
}

/** tcpdump -tttt's time (TZ=UTC): 2013-09-06 18:31:59.615994. */
function tcpdumpTime(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return d.toISOString().replace('T', ' ').slice(0, 19) + '.' + String(us % 1_000_000).padStart(6, '0');
}

const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };

function ipv4(r: PacketRecord) {
  const net = r.packet.network;
  if (net?.kind !== 'ipv4') throw new Error(`not IPv4: ${JSON.stringify(net)}`);
  return net;
}

/** The DNS header's id and an/ns/ar counts, from the kept payload (tcpdump decodes DNS; the collector does not). */
function dnsHeader(r: PacketRecord): { id: number; an: number; ns: number; ar: number } {
  const p = r.payload!;
  const at = ipv4(r).headerLength + 8;
  const u16 = (o: number): number => (p[at + o] << 8) | p[at + o + 1];
  return { id: u16(0), an: u16(6), ns: u16(8), ar: u16(10) };
}

/** Checks tcpdump's "(tos 0x0, ttl 64, id 24087, offset 0, flags [DF], proto ICMP (1), length 84)". */
function checkIpFacts(r: PacketRecord, text: string): number {
  const m = /\(tos (0x[0-9a-f]+), ttl (\d+), id (\d+), offset (\d+), flags \[([^\]]*)\], proto (\w+) \((\d+)\), length (\d+)\)/.exec(text);
  expect(m, text).not.toBeNull();
  const ip = ipv4(r);
  const flags = [ip.dontFragment ? 'DF' : '', ip.moreFragments ? '+' : ''].filter(Boolean).join('') || 'none';
  expect([
    `0x${ip.tos.toString(16)}`,
    ip.ttl,
    ip.id,
    ip.fragmentOffset * 8,
    flags,
    PROTO_NAMES[ip.protocol],
    ip.protocol,
    ip.totalLength,
  ]).toEqual([m![1], Number(m![2]), Number(m![3]), Number(m![4]), m![5], m![6], Number(m![7]), Number(m![8])]);
  return 8;
}

/**
 * Checks the packet line: "74.82.42.42.53 > 10.0.0.20.42585: 17265 1/0/0 … (45)" (UDP/DNS) or
 * "10.52.210.96 > 10.52.210.1: ICMP echo request, id 2995, seq 1, length 64". Returns the facts checked.
 */
function checkPacketLine(r: PacketRecord, text: string): number {
  const ip = ipv4(r);
  const tr = r.packet.transport;
  const icmp = /(\S+) > (\S+): ICMP echo (request|reply), id (\d+), seq (\d+), length (\d+)/.exec(text);
  if (icmp !== null) {
    if (tr?.kind !== 'icmp') throw new Error(`not ICMP: ${text}`);
    expect([ip.src, ip.dst, tr.type, tr.id, tr.sequence, ip.totalLength - ip.headerLength]).toEqual([
      icmp[1],
      icmp[2],
      icmp[3] === 'request' ? 8 : 0,
      Number(icmp[4]),
      Number(icmp[5]),
      Number(icmp[6]),
    ]);
    return 6;
  }
  // "a.b.c.d.PORT > e.f.g.h.PORT: [udp sum ok] ID[+] [q: …] AN/NS/AR … (LEN)" or a query "ID+ A? name. (LEN)".
  const udp =
    /(\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): (?:\[udp sum ok\] )?(\d+)\+? (?:q: \S+ \S+ )?(?:(\d+)\/(\d+)\/(\d+) )?.*\((\d+)\)$/.exec(
      text,
    );
  expect(udp, text).not.toBeNull();
  if (tr?.kind !== 'udp') throw new Error(`not UDP: ${text}`);
  const dns = dnsHeader(r);
  expect([ip.src, tr.srcPort, ip.dst, tr.dstPort, dns.id, tr.length - 8]).toEqual([
    udp![1],
    Number(udp![2]),
    udp![3],
    Number(udp![4]),
    Number(udp![5]),
    Number(udp![9]),
  ]);
  if (udp![6] === undefined) return 6;
  expect([dns.an, dns.ns, dns.ar]).toEqual([Number(udp![6]), Number(udp![7]), Number(udp![8])]);
  return 9;
}

/** The NFLOG entry's length as tcpdump prints it ("length 180"): the pcap record's, as the writer makes it again. */
function entryLength(r: PacketRecord): number {
  return new NflogPcapWriter().encode(r).length - PCAP_RECORD_HEADER_LEN;
}

describe("tcpdump's expected printouts", () => {
  it('nflog-e.out: time, group, family, entry length, addresses, ports, DNS id and counts, UDP length', () => {
    const rs = records('nflog.pcap');
    const lines = fs.readFileSync(path.join(DIR, 'nflog-e.out'), 'utf8').trimEnd().split('\n');
    expect(rs.length).toBe(lines.length);
    let facts = 0;
    lines.forEach((line, i) => {
      const m = /^\s*(\d+)\s+(\S+ \S+) version (\d+), resource ID (\d+), family IPv4 \((\d+)\), length (\d+): (.*)$/.exec(line);
      expect(m, line).not.toBeNull();
      const r = rs[i];
      expect(Number(m![1])).toBe(i + 1);
      // version 0 is checked by the reader itself: it skips other versions (none skipped above).
      expect([tcpdumpTime(r.receivedUs), r.group, r.family, entryLength(r)]).toEqual([m![2], Number(m![4]), Number(m![5]), Number(m![6])]);
      facts += 5 + checkPacketLine(r, m![7]);
    });
    expect(facts).toBe(4 * 14);
  });

  it('nflog_print-vvv.out: hook, prefix, interfaces, mark, uid/gid, MAC header, every IP, ICMP and UDP fact', () => {
    const rs = records('nflog_print.pcap');
    const lines = fs.readFileSync(path.join(DIR, 'nflog_print-vvv.out'), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBe(2 * rs.length);
    let facts = 0;
    rs.forEach((r, i) => {
      const head = lines[2 * i];
      const m =
        /^HOOK:(IN|OUT) Prefix:(\S+) (iif|oif):(\d+) MARK:(0x[0-9a-f]+) (?:UID:(\d+) GID:(\d+) )?(?:HWHDR=([0-9a-f]+):([0-9a-f]+):([0-9a-f]+) )?IP (.*)$/.exec(
          head,
        );
      expect(m, head).not.toBeNull();
      // NF_INET_LOCAL_IN 1, NF_INET_LOCAL_OUT 3.
      expect(r.hook).toBe(m![1] === 'IN' ? 1 : 3);
      expect(r.prefix).toBe(m![2]);
      expect(m![3] === 'iif' ? r.inIfindex : r.outIfindex).toBe(Number(m![4]));
      expect(m![3] === 'iif' ? r.outIfindex : r.inIfindex).toBeUndefined();
      expect(`0x${r.mark!.toString(16)}`).toBe(m![5]);
      facts += 5;
      if (m![6] !== undefined) {
        expect([r.uid, r.gid]).toEqual([Number(m![6]), Number(m![7])]);
        facts += 2;
      } else {
        expect([r.uid, r.gid]).toEqual([undefined, undefined]);
      }
      if (m![8] !== undefined) {
        expect(r.hwHeader!.replaceAll(':', '')).toBe(m![8] + m![9] + m![10]);
        const link = r.packet.link;
        expect([link?.dst.replaceAll(':', ''), link?.src.replaceAll(':', ''), link?.etherType]).toEqual([
          m![8],
          m![9],
          parseInt(m![10], 16),
        ]);
        facts += 4;
      } else {
        expect(r.hwHeader).toBeUndefined();
      }
      facts += checkIpFacts(r, m![11]);
      facts += checkPacketLine(r, lines[2 * i + 1].trim());
    });
    expect(facts).toBeGreaterThanOrEqual(4 * 19);
  });
});

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = TCPDUMP.status === 0;
if (!haveTcpdump && process.env.CI === 'true') throw new Error('tcpdump is missing (scripts/setup-system.sh installs it)');

/** `TZ=UTC tcpdump -n -e -tttt -v -r FILE`: its stdout (the file header goes to stderr). */
function tcpdump(file: string, extra: string[] = []): string {
  const run = spawnSync('tcpdump', ['-n', '-e', '-tttt', '-v', ...extra, '-r', file], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

describe.skipIf(!haveTcpdump)('against tcpdump itself', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc17-tcpdump-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const capture of CAPTURES) {
    it(`${capture}: every fact 'tcpdump -n -e -tttt -v' prints is the reader's`, () => {
      const rs = records(capture);
      const lines = tcpdump(path.join(DIR, capture)).trimEnd().split('\n');
      expect(lines.length).toBe(2 * rs.length);
      rs.forEach((r, i) => {
        const m = /^(\S+ \S+) version 0, resource ID (\d+), family IPv4 \((\d+)\), length (\d+): (.*)$/.exec(lines[2 * i]);
        expect(m, lines[2 * i]).not.toBeNull();
        expect([tcpdumpTime(r.receivedUs), r.group, r.family, entryLength(r)]).toEqual([
          m![1],
          Number(m![2]),
          Number(m![3]),
          Number(m![4]),
        ]);
        checkIpFacts(r, m![5]);
        checkPacketLine(r, lines[2 * i + 1].trim());
      });
    });

    it(`${capture}: --read … --write-pcap keeps every packet: tcpdump prints the same for both files`, async () => {
      const original = path.join(DIR, capture);
      const rewritten = path.join(work, capture);
      const stderr: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr.push(String(chunk));
        return true;
      });
      let code: number;
      try {
        code = await runCollection(parseArgs(['--read', original, '--write-pcap', rewritten, '--stats']));
      } finally {
        spy.mockRestore();
      }
      expect(code, stderr.join('')).toBe(0);
      const stats = JSON.parse(stderr[stderr.length - 1]) as { pcap: { records: number; withoutPayload: number } };
      expect(stats.pcap).toMatchObject({ records: 4, withoutPayload: 0 });

      const before = tcpdump(original);
      const after = tcpdump(rewritten);
      // A packet written without its bytes prints as "[|ip]" and without its addresses.
      expect(before).not.toContain('[|');
      expect(before.split('\n').length).toBe(9);
      expect(after).toBe(before);
      // And at the highest verbosity, with the IP packets in hex.
      expect(tcpdump(rewritten, ['-vvv', '-x']).replace(/\n\t0x[0-9a-f]+: [^\n]*/g, '')).toBe(
        tcpdump(original, ['-vvv', '-x']).replace(/\n\t0x[0-9a-f]+: [^\n]*/g, ''),
      );

      // The packets themselves, byte for byte.
      const again = readNflogPcap(new Uint8Array(fs.readFileSync(rewritten)), { includePayload: true });
      expect(again.records.map((r) => Buffer.from(r.payload!).toString('hex'))).toEqual(
        records(capture).map((r) => Buffer.from(r.payload!).toString('hex')),
      );
    });
  }
});
