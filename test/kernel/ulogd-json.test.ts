// The ulogd JSON formatters against the real ulogd2 on this machine: one nft
// rule logs every packet to two NFLOG groups, ulogd (stack NFLOG → BASE →
// IFINDEX → IP2STR → HWHDR → JSON) binds one, the collector the other, and
// each of the collector's lines must equal ulogd's. Then the flows: ulogd's
// NFCT (NFCT → IP2STR → JSON, hash_enable=0 with kernel conntrack timestamps)
// and the collector's conntrack events, NEW and DESTROY, line for line.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { flowToUlogdJson, packetToUlogdJson, type UlogdJsonOptions } from '../../src/format/ulogd-json';
import { NetnsLab } from '../../src/lab/netns';
import { connectTcp, ping, sendUdp, startServer } from '../../src/lab/traffic';
import type { FlowRecord, PacketRecord } from '../../src/records';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';

const PLUGINS = '/usr/lib/x86_64-linux-gnu/ulogd';
const ULOGD_GROUP = 41;
const COLLECTOR_GROUP = 42;
const CLIENT4 = '10.77.41.1';
const HOST4 = '10.77.41.2';
const CLIENT6 = 'fd77:41::1';
const HOST6 = 'fd77:41::2';
// ulogd prints local time: run it in a zone with an offset, and tell the formatter the same.
const ULOGD_TZ = 'Asia/Kolkata';
const OPTIONS: UlogdJsonOptions = { utcOffsetMinutes: 330 };

function ulogdConfig(dir: string): string {
  return [
    '[global]',
    `logfile="${path.join(dir, 'ulogd.log')}"`,
    'loglevel=3',
    ...['inppkt_NFLOG', 'raw2packet_BASE', 'filter_IFINDEX', 'filter_IP2STR', 'filter_HWHDR', 'output_JSON', 'inpflow_NFCT'].map(
      (p) => `plugin="${PLUGINS}/ulogd_${p}.so"`,
    ),
    'stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON',
    'stack=ct1:NFCT,ip2str2:IP2STR,json2:JSON',
    '',
    '[log1]',
    `group=${ULOGD_GROUP}`,
    // The collector numbers its group's entries too: both then carry oob.seq.local.
    'seq_local=1',
    '',
    // The ulogd docs' advice for flow logging on kernels with conntrack timestamps: no hash table.
    '[ct1]',
    'hash_enable=0',
    '',
    '[json1]',
    `file="${path.join(dir, 'packets.json')}"`,
    'sync=1',
    '',
    '[json2]',
    `file="${path.join(dir, 'flows.json')}"`,
    'sync=1',
    '',
  ].join('\n');
}

function readLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** Seconds since the epoch of a ulogd "timestamp" (local time with +hhmm). */
function ulogdSeconds(text: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{6})?([+-])(\d\d)(\d\d)$/.exec(text);
  if (!m) throw new Error(`not a ulogd timestamp with a zone: ${text}`);
  const local = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
  const offset = (m[7] === '-' ? -1 : 1) * (+m[8] * 3600 + +m[9] * 60);
  return local - offset;
}

describeKernel('ulogd JSON formatters beside the real ulogd2', () => {
  const lab = new NetnsLab('nfc-ulogd');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-ulogd-'));
  const servers: ChildProcess[] = [];
  let ulogd: ChildProcess | undefined;
  let ulogdExit: Promise<void> | undefined;
  let gatherer: Gatherer;

  beforeAll(async () => {
    lab.addNamespace('client');
    lab.addNamespace('host');
    lab.addLink({
      a: { ns: 'client', ifname: 'veth0', addresses: [`${CLIENT4}/24`, `${CLIENT6}/64`] },
      b: { ns: 'host', ifname: 'veth0', addresses: [`${HOST4}/24`, `${HOST6}/64`] },
    });
    lab.sysctl('host', 'net.netfilter.nf_conntrack_acct', 1);
    lab.sysctl('host', 'net.netfilter.nf_conntrack_timestamp', 1);
    // One rule, two log statements: the same packet to both groups. `ct state new counter` makes conntrack track.
    lab.nft(
      'host',
      `table inet nfculogd {
        chain input {
          type filter hook input priority 0;
          ct state new counter
          iifname "veth0" log prefix "ulogd-cmp in: " group ${ULOGD_GROUP} log prefix "ulogd-cmp in: " group ${COLLECTOR_GROUP}
        }
        chain output {
          type filter hook output priority 0;
          oifname "veth0" udp dport 7777 log prefix "ulogd-cmp out: " group ${ULOGD_GROUP} log prefix "ulogd-cmp out: " group ${COLLECTOR_GROUP}
        }
      }`,
    );
    servers.push(await startServer(lab, 'host', 'tcp-sink', 5000, HOST4));
    servers.push(await startServer(lab, 'host', 'tcp-sink', 5000, HOST6));

    const conf = path.join(dir, 'ulogd.conf');
    fs.writeFileSync(conf, ulogdConfig(dir));
    ulogd = spawn('ip', ['netns', 'exec', lab.name('host'), '/usr/sbin/ulogd', '-c', conf, '-p', path.join(dir, 'ulogd.pid')], {
      stdio: 'ignore',
      env: { ...process.env, TZ: ULOGD_TZ },
    });
    const child = ulogd;
    ulogdExit = new Promise((resolve) => child.once('exit', () => resolve()));
    const logFile = path.join(dir, 'ulogd.log');
    const started = await until(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('entering main loop'), 10_000);
    if (!started) throw new Error(`ulogd did not start: ${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : 'no log'}`);

    gatherer = new Gatherer(
      createCollector({ netns: lab.name('host'), nflog: [COLLECTOR_GROUP], conntrack: { events: ['new', 'destroy'] } }),
    );
    // Give the collector's sockets a moment before traffic (its groups are bound in the constructor).
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    if (ulogd && ulogd.exitCode === null) {
      ulogd.kill('SIGTERM');
      const exited = await Promise.race([ulogdExit, new Promise((r) => setTimeout(() => r('late'), 3000))]);
      if (exited === 'late') ulogd.kill('SIGKILL');
    }
    await gatherer?.close();
    lab.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes every NFLOG packet (TCP, UDP, ICMP, ICMPv6, IPv6 TCP, outbound UDP) as ulogd does', async () => {
    ping(lab, 'client', HOST4, 1);
    ping(lab, 'client', HOST6, 1);
    sendUdp(lab, 'client', HOST4, 5353, 2, 40);
    sendUdp(lab, 'client', HOST6, 5353, 1, 10);
    connectTcp(lab, 'client', HOST4, 5000);
    connectTcp(lab, 'client', HOST6, 5000);
    connectTcp(lab, 'client', HOST4, 5999); // refused: SYN, then the client sees RST
    sendUdp(lab, 'host', CLIENT4, 7777, 1, 20, { uid: 4321, gid: 4322 });

    const ulogdFile = path.join(dir, 'packets.json');
    // Both sides saw the same packets once their counts agree and stay so for a beat (ulogd may lag).
    const agree = (): boolean => {
      const n = readLines(ulogdFile).length;
      return n >= 12 && gatherer.packets().length === n;
    };
    let settled = false;
    for (let tries = 0; tries < 5 && !settled; tries++) {
      if (!(await until(agree, 10_000))) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
      settled = agree();
    }
    expect(settled).toBe(true);
    const theirs = readLines(ulogdFile);
    const ours = gatherer.packets();
    expect(ours).toHaveLength(theirs.length);

    const bySeq = new Map<number, PacketRecord>();
    for (const p of ours) bySeq.set(p.seq as number, p);
    const seen = { tcp: 0, udp: 0, icmp: 0, icmpv6: 0, ipv6: 0, outbound: 0 };
    for (const text of theirs) {
      const expected = JSON.parse(text) as Record<string, unknown>;
      const record = bySeq.get(expected['oob.seq.local'] as number);
      expect(record, text).toBeDefined();
      const rec = record as PacketRecord;
      // The time is each side's own: the kernel stamps each log statement when the packet has no
      // receive timestamp, and ulogd reads its clock when there is none. Close, not equal.
      const theirUs = (expected['oob.time.sec'] as number) * 1e6 + (expected['oob.time.usec'] as number);
      const mine = JSON.parse(packetToUlogdJson(rec, OPTIONS)) as Record<string, unknown>;
      const myUs = (mine['oob.time.sec'] as number) * 1e6 + (mine['oob.time.usec'] as number);
      // Kernel stamps of the two log statements are µs apart; two clocks read on arrival can be further.
      expect(Math.abs(myUs - theirUs)).toBeLessThan(rec.kernelTimestamp ? 100_000 : 2_000_000);
      // With ulogd's time, the very same bytes.
      const sameTime = rec.kernelTimestamp ? { ...rec, timestampUs: theirUs } : rec;
      expect(packetToUlogdJson(sameTime, { ...OPTIONS, nowUs: theirUs })).toBe(text);
      const proto = expected['ip.protocol'];
      if (proto === 6) seen.tcp++;
      if (proto === 17) seen.udp++;
      if (proto === 1) seen.icmp++;
      if (proto === 58) seen.icmpv6++;
      if (expected['oob.family'] === 10) seen.ipv6++;
      if (expected['oob.hook'] === 3) seen.outbound++;
    }
    expect(seen.tcp).toBeGreaterThanOrEqual(3);
    expect(seen.udp).toBeGreaterThanOrEqual(3);
    expect(seen.icmp).toBeGreaterThanOrEqual(1);
    expect(seen.icmpv6).toBeGreaterThanOrEqual(1);
    expect(seen.ipv6).toBeGreaterThanOrEqual(3);
    expect(seen.outbound).toBe(1);
  });

  it('writes conntrack NEW and DESTROY events as ulogd NFCT does', async () => {
    // End every flow the packets above opened: DESTROY events for all of them.
    lab.exec('host', 'conntrack', ['-F']);
    const ulogdFile = path.join(dir, 'flows.json');
    const flows = (): FlowRecord[] => gatherer.records.filter((r): r is FlowRecord => r.kind === 'flow');
    const agree = (): boolean => {
      const lines = readLines(ulogdFile);
      const destroys = lines.filter((l) => l.includes('"ct.event": 4')).length;
      return destroys >= 6 && flows().length === lines.length;
    };
    let settled = false;
    for (let tries = 0; tries < 5 && !settled; tries++) {
      if (!(await until(agree, 10_000))) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
      settled = agree();
    }
    expect(settled).toBe(true);
    const theirs = readLines(ulogdFile);
    const ours = flows();
    expect(ours).toHaveLength(theirs.length);

    const byKey = new Map<string, FlowRecord>();
    for (const f of ours) byKey.set(`${f.id}/${f.event}`, f);
    const seen = new Set<string>();
    for (const text of theirs) {
      const expected = JSON.parse(text) as Record<string, unknown>;
      const event = expected['ct.event'] === 1 ? 'new' : 'destroy';
      const record = byKey.get(`${String(expected['ct.id'])}/${event}`);
      expect(record, text).toBeDefined();
      const rec = record as FlowRecord;
      // The kernel sends conntrack timestamps with DESTROY only: for NEW, ulogd and the collector
      // each read their own clock (flow.start, and "timestamp" in whole seconds). Close, not equal.
      const actual = JSON.parse(flowToUlogdJson(rec, OPTIONS)) as Record<string, unknown>;
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
      expect(Math.abs(ulogdSeconds(actual.timestamp as string) - ulogdSeconds(expected.timestamp as string))).toBeLessThanOrEqual(2);
      const theirStartUs = (expected['flow.start.sec'] as number) * 1e6 + (expected['flow.start.usec'] as number);
      const myStartUs = (actual['flow.start.sec'] as number) * 1e6 + (actual['flow.start.usec'] as number);
      expect(Math.abs(myStartUs - theirStartUs)).toBeLessThan(2_000_000);
      if (event === 'destroy') expect(myStartUs).toBe(theirStartUs);
      // With ulogd's clock for the NEW event's start, everything but "timestamp" is equal.
      const same = JSON.parse(flowToUlogdJson(rec, { ...OPTIONS, nowUs: rec.startUs === undefined ? theirStartUs : undefined })) as Record<
        string,
        unknown
      >;
      delete same.timestamp;
      delete expected.timestamp;
      expect(same).toEqual(expected);
      seen.add(`${String(expected['orig.ip.protocol'])}/${String(expected['oob.family'])}/${event}`);
    }
    for (const kind of ['6/2', '6/10', '17/2', '17/10', '1/2', '58/10']) {
      expect(seen.has(`${kind}/new`), kind).toBe(true);
      expect(seen.has(`${kind}/destroy`), kind).toBe(true);
    }
  });
});
