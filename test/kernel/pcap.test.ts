// NFLOG pcap against tcpdump on the real kernel. One nft rule logs each
// packet to two groups; tcpdump captures one group into a.pcap, the
// collector the other, and the writer makes b.pcap of the collector's
// records. tcpdump must print the same packets from both files, and the
// reader must make of a.pcap the records the collector made live.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { NetnsLab } from '../../src/lab/netns';
import { connectTcp, ping, sendUdp } from '../../src/lab/traffic';
import { readNflogPcap } from '../../src/pcap/reader';
import { NflogPcapWriter } from '../../src/pcap/writer';
import type { PacketRecord } from '../../src/records';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';

const TCPDUMP_GROUP = 31;
const COLLECTOR_GROUP = 32;
/** Packets the test sends that the rules log: 6 inbound, 2 outbound. */
const EXPECTED = 8;

/** Starts tcpdump on an NFLOG group inside a lab namespace; resolves once it listens. */
function startTcpdump(lab: NetnsLab, ns: string, group: number, file: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', lab.name(ns), 'tcpdump', '-i', `nflog:${group}`, '-U', '-n', '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump did not start listening: ${stderr}`));
    }, 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}): ${stderr}`));
    });
  });
}

/** Stops tcpdump with SIGINT (it then flushes the file); SIGKILL if it lingers. */
function stopTcpdump(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** tcpdump's reading of a file, one string per packet, without the timestamp. */
function tcpdumpRead(file: string): string[] {
  const result = spawnSync('tcpdump', ['-nn', '-v', '-r', file], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`tcpdump -r ${file} failed: ${result.stderr}`);
  // -v continues a packet on indented lines: join them to the line they belong to.
  const packets: string[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line === '') continue;
    if (/^\s/.test(line) && packets.length > 0) packets[packets.length - 1] += `\n${line}`;
    else packets.push(line.replace(/^\d\d:\d\d:\d\d\.\d+ /, ''));
  }
  return packets;
}

/** The NFLOG entries of a little-endian pcap file, group and NFULA_TIMESTAMP value zeroed. */
function entriesWithoutGroupAndTime(file: Buffer): string[] {
  const out: string[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const length = file.readUInt32LE(at + 8);
    const body = Buffer.from(file.subarray(at + 16, at + 16 + length));
    body.writeUInt16BE(0, 2);
    for (let tlv = 4; tlv + 4 <= body.length; tlv += (body.readUInt16LE(tlv) + 3) & ~3) {
      if (body.readUInt16LE(tlv) < 4) break;
      if ((body.readUInt16LE(tlv + 2) & 0x3fff) === 3) body.fill(0, tlv + 4, tlv + body.readUInt16LE(tlv));
    }
    out.push(body.toString('hex'));
    at += 16 + length;
  }
  return out;
}

function withoutReceiveTime(record: PacketRecord): Partial<PacketRecord> {
  const { receivedUs: _received, timestampUs, ...rest } = record;
  return record.kernelTimestamp ? { ...rest, timestampUs } : rest;
}

describeKernel('NFLOG pcap against tcpdump', () => {
  const lab = new NetnsLab('h3pcap');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-pcap-'));
  const aFile = path.join(dir, 'a.pcap');
  const bFile = path.join(dir, 'b.pcap');
  let tcpdump: ChildProcess | undefined;
  let gatherer: Gatherer | undefined;

  beforeAll(async () => {
    lab.addNamespace('a');
    lab.addNamespace('b');
    lab.addLink({
      a: { ns: 'a', ifname: 'veth-a', mac: '02:00:00:31:01:01', addresses: ['10.31.1.1/24', 'fd31:1::1/64'] },
      b: { ns: 'b', ifname: 'veth-b', mac: '02:00:00:31:01:02', addresses: ['10.31.1.2/24', 'fd31:1::2/64'] },
    });
    const both = (prefix: string) => `log prefix "${prefix}" group ${TCPDUMP_GROUP} log prefix "${prefix}" group ${COLLECTOR_GROUP}`;
    lab.nft(
      'b',
      `table inet h3pcap {
        chain input {
          type filter hook input priority 0;
          udp dport 5101 meta mark set 0x2a ${both('PCAP UDP ')}
          tcp dport 5102 tcp flags & (syn | ack) == syn ${both('PCAP TCP ')}
          icmp type echo-request ${both('PCAP ICMP ')}
          icmpv6 type echo-request ${both('PCAP ICMP6 ')}
        }
        chain output {
          type filter hook output priority 0;
          meta skuid 4343 udp dport 5103 ${both('PCAP OUT ')}
        }
      }`,
    );
    gatherer = new Gatherer(createCollector({ nflog: [COLLECTOR_GROUP], netns: lab.name('b'), includePayload: true, sequence: false }));
    tcpdump = await startTcpdump(lab, 'b', TCPDUMP_GROUP, aFile);
  });

  afterAll(async () => {
    if (tcpdump) await stopTcpdump(tcpdump);
    await gatherer?.close();
    lab.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('captures the same packets as tcpdump, writes them as tcpdump does, and reads tcpdump files into live records', async () => {
    sendUdp(lab, 'a', '10.31.1.2', 5101, 1, 32, { srcPort: 41001 });
    sendUdp(lab, 'a', 'fd31:1::2', 5101, 1, 48, { srcPort: 41002 });
    connectTcp(lab, 'a', '10.31.1.2', 5102);
    connectTcp(lab, 'a', 'fd31:1::2', 5102);
    ping(lab, 'a', '10.31.1.2');
    ping(lab, 'a', 'fd31:1::2');
    sendUdp(lab, 'b', '10.31.1.1', 5103, 1, 8, { uid: 4343, gid: 4444, srcPort: 41003 });
    sendUdp(lab, 'b', 'fd31:1::1', 5103, 1, 8, { uid: 4343, gid: 4444, srcPort: 41004 });

    const g = gatherer!;
    expect(await g.until(() => g.packets().length >= EXPECTED)).toBe(true);
    // tcpdump -U writes each packet as it comes: wait (bounded) until its file holds them all.
    const captured = () => (fs.existsSync(aFile) ? readNflogPcap(fs.readFileSync(aFile)).records.length : 0);
    expect(await g.until(() => captured() >= EXPECTED)).toBe(true);
    // Make sure nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stopTcpdump(tcpdump!);
    const live = g.packets();
    expect(live).toHaveLength(EXPECTED);
    expect(g.gaps()).toEqual([]);

    // The live records cover what the brief asks: v4/v6, TCP/UDP/ICMP, prefix, mark, uid, interfaces.
    const kinds = live.map((p) => `${p.family}/${p.packet.transport?.kind}/${p.hook}`);
    expect(kinds).toEqual(['2/udp/1', '10/udp/1', '2/tcp/1', '10/tcp/1', '2/icmp/1', '10/icmpv6/1', '2/udp/3', '10/udp/3']);
    expect(live[0]).toMatchObject({ mark: 0x2a, prefix: 'PCAP UDP ', inInterface: 'veth-b', hwAddr: '02:00:00:31:01:01' });
    expect(live[6]).toMatchObject({ uid: 4343, gid: 4444, prefix: 'PCAP OUT ', outInterface: 'veth-b' });
    for (const p of live) expect(p.payload?.length).toBe(p.payloadLength);

    // 1. b.pcap, written from the live records, reads in tcpdump as a.pcap does.
    const writer = new NflogPcapWriter();
    fs.writeFileSync(bFile, Buffer.concat([writer.fileHeader(), writer.encodeBatch(live)]));
    expect(writer.counters).toMatchObject({ records: EXPECTED, withoutPayload: 0, snapped: 0 });
    const fromA = tcpdumpRead(aFile);
    const fromB = tcpdumpRead(bFile);
    expect(fromA).toHaveLength(EXPECTED);
    expect(fromB).toEqual(fromA);
    expect(fromA[0]).toMatch(/10\.31\.1\.1\.41001 > 10\.31\.1\.2\.5101: UDP, length 32/);
    // libpcap reads the other byte order and the nanosecond magic of the writer the same way.
    for (const options of [{ byteOrder: 'big' as const }, { byteOrder: 'little' as const, nanoseconds: true }]) {
      const other = new NflogPcapWriter(options);
      const name = path.join(dir, `b-${options.byteOrder}-${options.nanoseconds ? 'ns' : 'us'}.pcap`);
      fs.writeFileSync(name, Buffer.concat([other.fileHeader(), other.encodeBatch(live)]));
      expect(tcpdumpRead(name)).toEqual(fromA);
    }
    // Byte for byte, b.pcap's entries are the kernel's as tcpdump saved them (on a little-endian host).
    if (os.endianness() === 'LE')
      expect(entriesWithoutGroupAndTime(fs.readFileSync(bFile))).toEqual(entriesWithoutGroupAndTime(fs.readFileSync(aFile)));
    if (process.env.PCAP_TEST_PRINT) console.log(fromA.join('\n'));
    expect(fromA[7]).toMatch(/fd31:1::2\.41004 > fd31:1::1\.5103: .*UDP, length 8/);

    // 2. a.pcap, read by the reader, gives the live records (apart from the group and the receive time).
    const fromFile = readNflogPcap(fs.readFileSync(aFile), { includePayload: true, interfaces: g.interfaces() });
    expect(fromFile.fatal).toBeNull();
    expect(fromFile.errors).toBe(0);
    expect(fromFile.header).toMatchObject({ linkType: 239, byteOrder: os.endianness() === 'LE' ? 'little' : 'big' });
    expect(fromFile.records.map((r) => r.group)).toEqual(Array(EXPECTED).fill(TCPDUMP_GROUP));
    // Each log statement stamps the entry with the time it ran (skb->tstamp is unset on this path): the
    // first group's stamp comes a few microseconds before the second's. Compared apart, within a bound.
    live.forEach((p, i) => {
      expect(p.kernelTimestamp).toBe(fromFile.records[i].kernelTimestamp);
      // Without a kernel stamp the time is the receive time, of each reader its own.
      if (!p.kernelTimestamp) return;
      const later = p.timestampUs - fromFile.records[i].timestampUs;
      expect(later).toBeGreaterThanOrEqual(0);
      expect(later).toBeLessThan(10_000);
    });
    // A capture knows no namespace.
    const normalise = (r: PacketRecord) => withoutReceiveTime({ ...r, group: 0, timestampUs: 0, netns: undefined });
    expect(fromFile.records.map(normalise)).toEqual(live.map(normalise));
    expect(live.filter((p) => p.kernelTimestamp)).toHaveLength(6);
  });
});
