// --format ipfix against the real thing: the gateway lab (masquerade for IPv4
// and IPv6, a DNAT port forward; TCP, UDP, ICMP), exported to nfcapd on
// loopback and captured by tshark. Every flow the kernel's own `conntrack -E`
// showed must come back from nfdump (and, for the IPv6 addresses after
// translation, which nfdump 1.7.1 does not decode, from tshark) with the same
// addresses, ports, event and counters.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildGateway, GATEWAY } from '../../src/lab/gateway';
import { NetnsLab } from '../../src/lab/netns';
import { ping, sendTcp, startServer, udpExchange } from '../../src/lab/traffic';
import { freeUdpPort, Nfcapd, type NfdumpRecord, parseTsharkFlows, TsharkCapture, type TsharkFlow } from '../helpers/ipfix-peers';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');

interface CtSide {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  id?: number;
  packets?: number;
  bytes?: number;
}
interface CtEvent {
  event: string;
  proto: number;
  o: CtSide;
  r: CtSide;
}

/** One line of `conntrack -E`: the original tuple's keys come first, the reply's second. */
function parseConntrackLine(line: string): CtEvent | null {
  const head = /^\s*\[(\w+)\]\s+\S+\s+(\d+)/.exec(line);
  if (!head) return null;
  const o: Record<string, string> = {};
  const r: Record<string, string> = {};
  for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g)) {
    const side = key in o && ['src', 'dst', 'sport', 'dport', 'type', 'code', 'id', 'packets', 'bytes'].includes(key) ? r : o;
    if (!(key in side)) side[key] = value;
  }
  const side = (s: Record<string, string>): CtSide => ({
    src: s.src,
    dst: s.dst,
    sport: s.sport === undefined ? undefined : Number(s.sport),
    dport: s.dport === undefined ? undefined : Number(s.dport),
    id: s.id === undefined ? undefined : Number(s.id),
    packets: s.packets === undefined ? undefined : Number(s.packets),
    bytes: s.bytes === undefined ? undefined : Number(s.bytes),
  });
  return { event: head[1], proto: Number(head[2]), o: side(o), r: side(r) };
}

/** Netfilter netlink sockets with multicast groups in a namespace: the collector and conntrack -E once subscribed. */
function conntrackListeners(lab: NetnsLab): number {
  return lab
    .exec('router', 'cat', ['/proc/net/netlink'])
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === '12' && f[3] !== undefined && f[3] !== '00000000').length;
}

async function until(what: string, check: () => boolean, detail: () => string = () => '', timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const isIcmp = (proto: number): boolean => proto === 1 || proto === 58;

describeKernel('--format ipfix to nfcapd and tshark on the real kernel', () => {
  const lab = new NetnsLab('nfc-ipx');
  const children: ChildProcess[] = [];
  const cleanups: Array<() => void> = [];

  beforeAll(async () => {
    buildGateway(lab);
    lab.sysctl('router', 'net.netfilter.nf_conntrack_acct', 1);
    lab.sysctl('router', 'net.netfilter.nf_conntrack_timestamp', 1);
    children.push(await startServer(lab, 'server', 'tcp-sink', 5000, GATEWAY.server4));
    children.push(await startServer(lab, 'server', 'udp-echo', 5001, GATEWAY.server4));
    children.push(await startServer(lab, 'server', 'tcp-sink', 5000, GATEWAY.server6));
    children.push(await startServer(lab, 'server', 'udp-echo', 5001, GATEWAY.server6));
    children.push(await startServer(lab, 'client', 'tcp-sink', 80, GATEWAY.client4));
  });
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const c of cleanups) c();
    lab.destroy();
  });

  it("every translated flow arrives with the addresses and ports before and after NAT, the event and the kernel's counters", async () => {
    const port = await freeUdpPort();
    const nfcapd = new Nfcapd(port);
    const tshark = new TsharkCapture(port);
    cleanups.push(
      () => nfcapd.remove(),
      () => tshark.remove(),
    );
    await nfcapd.start();
    await tshark.start();

    const events = spawn('ip', ['netns', 'exec', lab.name('router'), 'conntrack', '-E'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(events);
    let ctText = '';
    events.stdout?.on('data', (d: Buffer) => (ctText += d.toString()));
    await until('conntrack -E to subscribe', () => conntrackListeners(lab) >= 1);

    const cli = spawn(
      process.execPath,
      [
        CLI,
        '--conntrack',
        'new,destroy',
        '--netns',
        lab.name('router'),
        '--format',
        'ipfix',
        '--output',
        `udp:127.0.0.1:${port}`,
        '--ipfix-domain',
        '42',
        '--stats',
        '--stats-interval',
        '1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(cli);
    let stderr = '';
    cli.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    await until('the collector to subscribe', () => conntrackListeners(lab) >= 2);

    const t0 = Date.now();
    sendTcp(lab, 'client', GATEWAY.server4, 5000, 2000);
    udpExchange(lab, 'client', GATEWAY.server4, 5001, 4, 72, 43001);
    ping(lab, 'client', GATEWAY.server4, 2);
    sendTcp(lab, 'client', GATEWAY.server6, 5000, 1500);
    udpExchange(lab, 'client', GATEWAY.server6, 5001, 3, 50, 43002);
    ping(lab, 'client', GATEWAY.server6, 1);
    sendTcp(lab, 'server', GATEWAY.routerOut4, GATEWAY.forwardedPort, 1000); // the port forward to client:80
    lab.exec('router', 'conntrack', ['-F']);
    lab.exec('router', 'conntrack', ['-F', '-f', 'ipv6']);

    const ct = (): CtEvent[] =>
      ctText
        .split('\n')
        .map(parseConntrackLine)
        .filter((e): e is CtEvent => e !== null);
    await until(
      'every flow to end',
      () => {
        const all = ct();
        const news = all.filter((e) => e.event === 'NEW').length;
        return news >= 7 && all.filter((e) => e.event === 'DESTROY').length === news;
      },
      () => ctText,
    );
    // conntrack -E shows UPDATE events too; the collector subscribed to NEW and DESTROY.
    const all = ct().filter((e) => e.event === 'NEW' || e.event === 'DESTROY');
    const written = (): number => Number([...stderr.matchAll(/(\d+) total/g)].pop()?.[1] ?? 0);
    await until(
      'the collector to export every event',
      () => written() >= all.length,
      () => `${all.length} conntrack events, collector's stderr: ${stderr.slice(-2000)}`,
    );
    const t1 = Date.now();
    cli.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    events.kill('SIGTERM');
    const statsLine = stderr.trim().split('\n').pop() ?? '{}';
    await nfcapd.stop();
    await tshark.stop(JSON.parse(statsLine).ipfix?.sentMessages ?? 0);

    expect(stderr.replace(statsLine, '')).not.toMatch(/netfilter-collector: (?!\d+s )/); // progress lines only: no loss, no error
    const stats = JSON.parse(statsLine);
    const news = all.filter((e) => e.event === 'NEW');
    const ends = all.filter((e) => e.event === 'DESTROY');
    expect(stats.ipfix).toMatchObject({ natEvents: news.length + ends.length, flows: ends.length, unencodable: 0, droppedRecords: 0 });
    expect(stats.ipfix.sentRecords).toBe(news.length + 2 * ends.length);

    // nfcapd counted every record, with no sequence error.
    expect(nfcapd.log).toMatch(new RegExp(`Flows: ${stats.ipfix.sentRecords}, .*Sequence Errors: 0, Bad Packets: 0`));
    const nf = nfcapd.records();
    expect(nf).toHaveLength(stats.ipfix.sentRecords);

    const verbose = tshark.verbose();
    expect(verbose).not.toMatch(/Malformed|Expert Info \((Warning|Error)/);
    expect(verbose).toMatch(/Observation Domain Id: 42/);
    const ts = parseTsharkFlows(verbose);
    expect(ts).toHaveLength(stats.ipfix.sentRecords);

    const protoName = (p: number): string => ({ 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMP6' })[p] ?? String(p);
    for (const e of all) {
      const v6 = e.o.src.includes(':');
      const create = e.event === 'NEW';
      const natEvent = v6 ? (create ? 6 : 7) : create ? 4 : 5;
      const icmp = isIcmp(e.proto);
      const what = `${e.event} ${protoName(e.proto)} ${e.o.src}:${e.o.sport ?? e.o.id} → ${e.o.dst}:${e.o.dport ?? ''}`;
      const translatedSport = icmp ? e.r.id : e.r.dport;
      // nfdump: the NAT event. It prints an ICMP record's ports as type.code, so those are left to tshark.
      const event = nf.filter(
        (r: NfdumpRecord) =>
          r['nat event']?.startsWith(`${natEvent}:`) &&
          r.proto.startsWith(`${e.proto} `) &&
          r['src addr'] === e.o.src &&
          r['dst addr'] === e.o.dst &&
          (icmp || (r['src port'] === String(e.o.sport) && r['dst port'] === String(e.o.dport))) &&
          r['src xlt port'] === String(translatedSport),
      );
      expect(event, what).toHaveLength(1);
      if (!v6) {
        expect(event[0], what).toMatchObject({
          'src xlt ip': e.r.dst,
          'dst xlt ip': e.r.src,
          'dst xlt port': String(icmp ? 0 : e.r.sport),
        });
      }
      const time = Number(event[0]['Event time'].split(' ')[0]);
      expect(time, what).toBeGreaterThanOrEqual(t0 - 1000);
      expect(time, what).toBeLessThanOrEqual(t1);
      // tshark: every element, the IPv6 ones after translation included.
      const x = v6 ? 'IPv6' : 'IPv4';
      const tsEvent = ts.filter(
        (f: TsharkFlow) =>
          f['Nat Event']?.endsWith(`(${natEvent})`) &&
          f.SrcAddr === e.o.src &&
          f.SrcPort?.split(' ')[0] === String(icmp ? e.o.id : e.o.sport) &&
          f.DstAddr === e.o.dst,
      );
      expect(tsEvent, what).toHaveLength(1);
      expect(tsEvent[0], what).toMatchObject({
        [`Post NAT Source ${x} Address`]: e.r.dst,
        'Post NAPT Source Transport Port': String(translatedSport),
        [`Post NAT Destination ${x} Address`]: e.r.src,
        'Post NAPT Destination Transport Port': String(icmp ? 0 : e.r.sport),
      });
      if (create) continue;
      // The flow record: the kernel's counters, both ways.
      const flow = nf.filter(
        (r) =>
          r['nat event'] === undefined &&
          r.proto.startsWith(`${e.proto} `) &&
          r['src addr'] === e.o.src &&
          r['dst addr'] === e.o.dst &&
          r['src xlt port'] === String(translatedSport) &&
          (icmp || r['src port'] === String(e.o.sport)),
      );
      expect(flow, what).toHaveLength(1);
      expect(flow[0], what).toMatchObject({
        'in packets': String(e.o.packets),
        'in bytes': String(e.o.bytes),
        'out packets': String(e.r.packets),
        'out bytes': String(e.r.bytes),
      });
      const first = Number(flow[0].first.split(' ')[0]);
      const last = Number(flow[0].last.split(' ')[0]);
      expect(first, what).toBeGreaterThanOrEqual(t0 - 1000);
      expect(last, what).toBeGreaterThanOrEqual(first);
      expect(last, what).toBeLessThanOrEqual(t1);
    }
    // The lab's flows are all there: masquerade (v4, v6), the port forward, ICMP both families.
    const kinds = new Set(ends.map((e) => `${e.proto}/${e.o.src.includes(':') ? 6 : 4}`));
    expect([...kinds].sort()).toEqual(['1/4', '17/4', '17/6', '58/6', '6/4', '6/6']);
    expect(ends.some((e) => e.o.dport === GATEWAY.forwardedPort && e.r.src === GATEWAY.client4 && e.r.sport === 80)).toBe(true);
    fs.rmSync(tshark.file, { force: true });
  }, 120_000);

  it('is one output of several (ECS to a file and IPFIX to nfcapd at once), with a flow start record per NEW', async () => {
    const port = await freeUdpPort();
    const nfcapd = new Nfcapd(port);
    const tshark = new TsharkCapture(port);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-ipx-outputs-'));
    cleanups.push(
      () => nfcapd.remove(),
      () => tshark.remove(),
      () => fs.rmSync(dir, { recursive: true, force: true }),
    );
    await nfcapd.start();
    await tshark.start();
    const ecsFile = path.join(dir, 'flows.ndjson');
    const config = path.join(dir, 'collector.yaml');
    fs.writeFileSync(
      config,
      [
        'conntrack: [new, destroy]',
        `netns: [${lab.name('router')}]`,
        'outputs:',
        `  - output: ${ecsFile}`,
        '    format: ecs',
        `  - output: udp:127.0.0.1:${port}`,
        '    format: ipfix',
        '    ipfix-records: [nat-events, flows, flow-starts]',
        '',
      ].join('\n'),
    );

    const events = spawn('ip', ['netns', 'exec', lab.name('router'), 'conntrack', '-E'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(events);
    let ctText = '';
    events.stdout?.on('data', (d: Buffer) => (ctText += d.toString()));
    await until('conntrack -E to subscribe', () => conntrackListeners(lab) >= 1);
    const cli = spawn(process.execPath, [CLI, '--config', config, '--stats', '--stats-interval', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(cli);
    let stderr = '';
    cli.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    await until('the collector to subscribe', () => conntrackListeners(lab) >= 2);

    udpExchange(lab, 'client', GATEWAY.server4, 5001, 2, 40, 43011);
    sendTcp(lab, 'client', GATEWAY.server4, 5000, 500);
    ping(lab, 'client', GATEWAY.server6, 1);
    lab.exec('router', 'conntrack', ['-F']);
    lab.exec('router', 'conntrack', ['-F', '-f', 'ipv6']);
    const ct = (): CtEvent[] =>
      ctText
        .split('\n')
        .map(parseConntrackLine)
        .filter((e): e is CtEvent => e !== null && (e.event === 'NEW' || e.event === 'DESTROY'));
    await until(
      'every flow to end',
      () =>
        ct().filter((e) => e.event === 'NEW').length >= 3 &&
        ct().filter((e) => e.event === 'DESTROY').length === ct().filter((e) => e.event === 'NEW').length,
      () => ctText,
    );
    const all = ct();
    const written = (): number => Number([...stderr.matchAll(/(\d+) total/g)].pop()?.[1] ?? 0);
    await until(
      'the collector to write every event',
      () => written() >= all.length,
      () => stderr.slice(-2000),
    );
    cli.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    events.kill('SIGTERM');
    await nfcapd.stop();
    const statsLine = stderr.trim().split('\n').pop() ?? '{}';
    const stats = JSON.parse(statsLine);
    await tshark.stop(stats.ipfix?.sentMessages ?? 0);
    expect(stderr.replace(statsLine, '')).not.toMatch(/netfilter-collector: (?!\d+s )/);
    const news = all.filter((e) => e.event === 'NEW');
    const ends = all.filter((e) => e.event === 'DESTROY');
    expect(stats.ipfix).toMatchObject({ flowStarts: news.length, flows: ends.length, droppedRecords: 0, unencodable: 0 });
    expect(stats.ipfix.sentRecords).toBe(news.length + stats.ipfix.natEvents + ends.length);

    // The ECS file: a document per event, the same flows.
    const docs = fs
      .readFileSync(ecsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(docs.map((d) => d.event.action).sort()).toEqual(all.map((e) => (e.event === 'NEW' ? 'flow-new' : 'flow-destroy')).sort());

    // nfdump: a start record per NEW (no end time, no counters, no NAT event), with the translation.
    const nf = nfcapd.records();
    expect(nf).toHaveLength(stats.ipfix.sentRecords);
    const starts = nf.filter((r) => r['nat event'] === undefined && r.last.startsWith('0 '));
    expect(starts).toHaveLength(news.length);
    for (const e of news) {
      const icmp = isIcmp(e.proto);
      const what = `NEW ${e.proto} ${e.o.src} → ${e.o.dst}`;
      const start = starts.filter(
        (r) =>
          r.proto.startsWith(`${e.proto} `) &&
          r['src addr'] === e.o.src &&
          r['dst addr'] === e.o.dst &&
          r['src xlt port'] === String(icmp ? e.r.id : e.r.dport) &&
          (icmp || r['src port'] === String(e.o.sport)),
      );
      expect(start, what).toHaveLength(1);
      expect(start[0], what).toMatchObject({ 'in packets': '0', 'in bytes': '0' });
      if (!e.o.src.includes(':')) expect(start[0]['src xlt ip'], what).toBe(e.r.dst);
      const doc = docs.find(
        (d) =>
          d.event.action === 'flow-new' &&
          d.network.iana_number === String(e.proto) &&
          d.source.ip === e.o.src &&
          d.source.port === e.o.sport &&
          d.destination.ip === e.o.dst,
      );
      expect(doc, what).toBeDefined();
      expect(Number(start[0].first.split(' ')[0]), what).toBe(Math.floor(Date.parse(doc.event.start ?? doc['@timestamp'])));
    }
    // tshark: the start templates and records dissect cleanly, firewallEvent by name.
    const verbose = tshark.verbose();
    expect(verbose).not.toMatch(/Malformed|Expert Info \((Warning|Error)/);
    const tsStarts = parseTsharkFlows(verbose).filter((f: TsharkFlow) => f['Firewall Event'] !== undefined);
    expect(tsStarts).toHaveLength(news.length);
    for (const f of tsStarts) expect(f['Firewall Event']).toMatch(/Flow Created|\b1\b/);
    fs.rmSync(tshark.file, { force: true });
  }, 120_000);
});
