// `netfilter-collector demo` on the real kernel, run as a child process (as
// a user runs it): every ruleset's events arrive, the NAT flows are there,
// nothing is lost, and the lab is gone afterwards — after a normal end, after
// Ctrl-C in the middle, and (at the next start) after a run that was killed.
// Needs dist/: run `npm run build:ts` first.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEMO_LAB_PREFIX, DEMO_RULESETS } from '../../src/lab/demo-lab';
import { GATEWAY } from '../../src/lab/gateway';
import type { CollectorRecord, FlowRecord, PacketRecord } from '../../src/records';
import { publicPackage } from '../helpers/public-copy';
import { describeKernel } from './kernel-env';

const ROOT = path.resolve(__dirname, '../..');
const DEMO_JS = path.join(ROOT, 'dist/cli/demo.js');

interface Demo {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `runDemo(argv)` in a child node; `formatters` is source text of the options' formatters object. */
function startDemo(argv: string[], formatters = 'undefined', wrap: string[] = []): Demo {
  // Unprivileged runs (wrap) use a copy nobody can read: the clone may be in a 0700 directory.
  const root = wrap.length > 0 ? publicPackage() : ROOT;
  const script =
    `require(${JSON.stringify(path.join(root, 'dist/cli/demo.js'))}).runDemo(${JSON.stringify(argv)}, { formatters: ${formatters} })` +
    '.then((code) => { process.exitCode = code; })';
  const [command, ...args] = [...wrap, process.execPath, '-e', script];
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Bounded: no run of the demo may hang the suite.
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(kill));
  started.push(child);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const started: ChildProcess[] = [];

/** The lab namespaces of a demo process that exist now. */
function labNamespaces(pid: number): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith(`${DEMO_LAB_PREFIX}${pid}-`));
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeKernel('netfilter-collector demo on the real kernel', () => {
  afterAll(() => {
    // Whatever a failed test left: the demo processes, their servers and namespaces.
    for (const child of started) {
      if (child.pid === undefined) continue;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const name of labNamespaces(child.pid)) {
        const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout.split('\n').map(Number);
        for (const pid of pids) if (pid > 0) process.kill(pid, 'SIGKILL');
        spawnSync('ip', ['netns', 'del', name]);
      }
    }
  });

  it('is built (npm run build:ts)', () => {
    expect(fs.existsSync(DEMO_JS), `${DEMO_JS} is missing: run npm run build:ts`).toBe(true);
  });

  it('a whole run: events from every ruleset and the NAT flows, nothing lost, the lab removed', async () => {
    const demo = startDemo(['--format', 'record']);
    const code = await demo.exited;
    expect(demo.stderr()).not.toMatch(/netfilter-collector demo: (?!a throwaway)/);
    expect(code, demo.stderr()).toBe(0);
    expect(labNamespaces(demo.child.pid!)).toEqual([]);

    const records = demo
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as CollectorRecord);
    const packets = records.filter((r): r is PacketRecord => r.kind === 'packet');
    const flows = records.filter((r): r is FlowRecord => r.kind === 'flow');
    expect(records.filter((r) => r.kind === 'gap')).toEqual([]);

    for (const ruleset of DEMO_RULESETS) {
      for (const prefix of ruleset.prefixes) {
        const logged = packets.filter((p) => p.group === ruleset.group && p.prefix === prefix);
        expect(logged.length, `group ${ruleset.group} prefix "${prefix}"`).toBeGreaterThan(0);
        expect(logged[0].groupLabel).toBe(ruleset.label);
      }
    }
    const { client4, server4, routerIn4, routerOut4, server6, forwardedPort } = GATEWAY;
    const tcpTo = (p: PacketRecord, dst: string, port: number): boolean =>
      p.packet.network?.kind !== 'arp' &&
      p.packet.network?.dst === dst &&
      p.packet.transport?.kind === 'tcp' &&
      p.packet.transport.dstPort === port;
    const one = (prefix: string, pred: (p: PacketRecord) => boolean): PacketRecord[] =>
      packets.filter((p) => p.prefix === prefix && pred(p));

    // A dropped SYN: the client gives up after 900 ms, but on a slow machine the kernel may have sent
    // it again at 1 s first. One attempt is one source port, however many times its SYN was logged.
    const oneAttempt = (list: PacketRecord[]): PacketRecord[] => {
      const ports = new Set(list.map((p) => (p.packet.transport?.kind === 'tcp' ? p.packet.transport.srcPort : -1)));
      expect(ports.size, JSON.stringify(list.map((p) => p.timestampUs))).toBe(1);
      return list.slice(0, 1);
    };

    // Each rule logged the traffic meant for it, on the router's interfaces.
    expect(oneAttempt(one('[DM-D] ', (p) => tcpTo(p, server4, 81)))).toHaveLength(1);
    expect(one('[DM-R] ', (p) => tcpTo(p, server4, 82))).toHaveLength(1);
    expect(oneAttempt(one('DROP_LOGGING: ', (p) => tcpTo(p, server4, 23)))).toHaveLength(1);
    const denied = oneAttempt(one('tcp.in.dropped', (p) => tcpTo(p, routerIn4, 22)));
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ inInterface: 'r0', hook: 1 });
    const accepted = one('[DM-A] ', (p) => tcpTo(p, server4, 80));
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ inInterface: 'r0', outInterface: 'r1', hook: 2 });
    expect(one('IPTABLES: ACCEPT ', (p) => tcpTo(p, server4, 80))).toHaveLength(1);
    expect(one('IPTABLES: ACCEPT ', (p) => tcpTo(p, server6, 80))).toHaveLength(1);
    // The port forward is logged after DNAT: towards the client's port 80.
    expect(one('[DM-A] ', (p) => tcpTo(p, client4, 80))).toHaveLength(1);
    // The ICMP error the server sent back for udp/7, with the datagram it quotes.
    const icmpError = one('[DM-A] ', (p) => p.packet.transport?.kind === 'icmp' && p.packet.transport.type === 3);
    expect(icmpError).toHaveLength(1);
    expect(icmpError[0].packet.transport).toMatchObject({ code: 3, embedded: { transport: { kind: 'udp', dstPort: 7 } } });

    // Conntrack in the router: masqueraded flows (IPv4 and IPv6), the port forward, and their ends with counters.
    const news = flows.filter((f) => f.event === 'new');
    const masqueraded = news.filter((f) => f.original?.src === client4 && f.original.dst === server4 && f.original.dstPort === 80);
    expect(masqueraded).toHaveLength(1);
    expect(masqueraded[0].nat?.source).toMatchObject({ ip: client4, translatedIp: routerOut4 });
    expect(news.some((f) => f.family === 10 && f.nat?.source?.translatedIp === GATEWAY.routerOut6)).toBe(true);
    const forwarded = news.filter((f) => f.nat?.destination !== undefined);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0].nat?.destination).toEqual({ ip: routerOut4, port: forwardedPort, translatedIp: client4, translatedPort: 80 });
    const ends = flows.filter((f) => f.event === 'destroy');
    expect(ends.length).toBe(news.length);
    const end = ends.find((f) => f.id === masqueraded[0].id);
    expect(end?.originalBytes).toBeGreaterThan(0);
    expect(end?.replyPackets).toBeGreaterThan(0);

    // The summary on stderr (stdout carries only the records).
    expect(demo.stderr()).toMatch(/Summary: \d+ packets and \d+ flow records in [\d.]+ s; lost 0, gap records 0/);
    expect(demo.stderr()).toContain('The lab is removed');
    expect(demo.stderr()).not.toContain('Expected events did not arrive');
  }, 60_000);

  it('Ctrl-C in the middle ends it at once and removes the lab', async () => {
    const demo = startDemo(['--utc']);
    // The drop steps are under way: the lab is up, the collector prints.
    expect(await until(() => demo.stdout().includes('tcp/23'), 20_000), demo.stdout() + demo.stderr()).toBe(true);
    const pid = demo.child.pid!;
    expect(labNamespaces(pid)).toHaveLength(3);
    const interruptedAt = Date.now();
    demo.child.kill('SIGINT');
    const code = await demo.exited;
    expect(Date.now() - interruptedAt).toBeLessThan(5000);
    expect(code, demo.stderr()).toBe(130);
    expect(labNamespaces(pid)).toEqual([]);
    expect(demo.stdout()).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} {2}accept {2}\[DM-A\] +in=r0 out=r1 +tcp +10\.60\.1\.2:\d+ → 10\.60\.2\.2:80 SYN {2}\(group 2 LOG_AND_\*\)$/m,
    );
    expect(demo.stdout()).toContain('Summary:');
    expect(demo.stdout()).toContain('The lab is removed');
    expect(demo.stdout()).not.toContain('Expected events did not arrive');
  }, 60_000);

  it("a killed run's lab (and servers) are removed by the next run; a caller's formatter is used", async () => {
    const killed = startDemo(['--format', 'kinds'], "{ kinds: (r) => 'KIND ' + r.kind }");
    expect(await until(() => killed.stdout().includes('KIND packet'), 20_000), killed.stdout() + killed.stderr()).toBe(true);
    expect(killed.stdout()).toMatch(/^KIND packet$/m);
    // Notes go to stderr when stdout carries another format.
    expect(killed.stderr()).toContain('a throwaway lab');
    const killedPid = killed.child.pid!;
    const left = labNamespaces(killedPid);
    expect(left).toHaveLength(3);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(labNamespaces(killedPid)).toHaveLength(3);
    const servers = left
      .flatMap((name) => spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout.split('\n').map(Number))
      .filter((p) => p > 0);
    expect(servers.length).toBeGreaterThanOrEqual(3);

    const next = startDemo([]);
    expect(await until(() => next.stdout().includes('removed a lab left by an earlier run'), 20_000), next.stdout() + next.stderr()).toBe(
      true,
    );
    for (const name of left) expect(next.stdout()).toContain(name);
    expect(labNamespaces(killedPid)).toEqual([]);
    expect(await until(() => servers.every((p) => !alive(p)), 2000)).toBe(true);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(143);
    expect(labNamespaces(next.child.pid!)).toEqual([]);
  }, 60_000);

  it('says it needs root, rather than crashing, when it is not root', async () => {
    const demo = startDemo([], 'undefined', ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(await demo.exited).toBe(1);
    expect(demo.stderr()).toMatch(/^netfilter-collector demo: needs root.*not running as root\n$/);
    expect(demo.stdout()).toBe('');
  });

  it('rejects unknown options and formats with usage errors', async () => {
    const option = startDemo(['--bogus']);
    expect(await option.exited).toBe(2);
    expect(option.stderr()).toContain("unknown option '--bogus'");
    const format = startDemo(['--format', 'nope']);
    expect(await format.exited).toBe(2);
    expect(format.stderr()).toContain("unknown format 'nope' (one of: ecs, record, log, logemu, ulogd, readable)");
  });
});
