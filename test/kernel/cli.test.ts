// The command line against the real kernel: exactly one ECS document per
// packet, --max-events, --idle-exit, --stats, and errors a person understands.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { communityId } from '../../src/ecs/community-id';
import { NetnsLab } from '../../src/lab/netns';
import { connectTcp, ping, sendUdp } from '../../src/lab/traffic';
import { boundTarget, nflogGroupBound } from '../helpers/nflog-bound';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `whenReady` runs once it has had time to bind; resolves at exit (bounded). */
function runCli(args: string[], whenReady: () => void, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Traffic once the group is bound (a fixed sleep is not enough on a loaded machine).
    const target = boundTarget(args);
    const ready = setTimeout(() => {
      if (target) void nflogGroupBound(target.netns, target.group).then(whenReady);
      else whenReady();
    }, 0);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(ready);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

describeKernel('the netfilter-collector command', () => {
  const lab = new NetnsLab('nfc-c');

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
    lab.addNamespace('a');
    lab.addNamespace('b');
    lab.addLink({
      a: { ns: 'a', ifname: 'cli-a', mac: '02:00:00:55:01:01', addresses: ['10.55.1.1/24', 'fd55:1::1/64'] },
      b: { ns: 'b', ifname: 'cli-b', mac: '02:00:00:55:01:02', addresses: ['10.55.1.2/24', 'fd55:1::2/64'] },
    });
    lab.nft(
      'b',
      `table inet cli {
        chain input {
          type filter hook input priority 0;
          udp dport 7001 log prefix "INPUT DFLT DROP " group 33
          tcp dport 7002 log prefix "[OY-A]: " group 33
          icmpv6 type echo-request log prefix "icmp.in.accepted" group 33
        }
      }`,
    );
    lab.nft(
      'a',
      'table inet cli { chain out { type filter hook output priority 0; udp dport 7000 log prefix "IPTABLES: ACCEPT " group 31; }; }',
    );
  });
  afterAll(() => lab.destroy());

  it('prints exactly one ECS document per packet and stops at --max-events', async () => {
    const run = await runCli(['--nflog', '31', '--netns', lab.name('a'), '--max-events', '3', '--stats', '--observer-name', 'edge-1'], () =>
      sendUdp(lab, 'a', '127.0.0.1', 7000, 3, 10, { srcPort: 45000 }),
    );
    expect(run.stderr).not.toMatch(/netfilter-collector:/);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const doc = JSON.parse(line);
      expect(doc.event).toMatchObject({ kind: 'event', action: 'accept' });
      expect(doc.source).toMatchObject({ ip: '127.0.0.1', port: 45000 });
      expect(doc.destination).toMatchObject({ ip: '127.0.0.1', port: 7000 });
      expect(doc.network).toMatchObject({ transport: 'udp', type: 'ipv4' });
      expect(doc.network.community_id).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
      expect(doc.observer.egress.interface.name).toBe('lo');
      // Which gateway and which collector wrote it.
      expect(doc.observer).toMatchObject({ hostname: os.hostname(), name: 'edge-1' });
      expect(doc.agent).toMatchObject({ type: 'netfilter-collector', name: 'edge-1' });
      expect(doc.netfilter.group).toBe(31);
    }
    const statsLine = run.stderr.trim().split('\n').pop() ?? '';
    const stats = JSON.parse(statsLine);
    expect(stats).toMatchObject({ delivered: 3, lost: 0 });
  });

  it('across a veth: addresses, ports, MACs, interface, transport, action and community ID of each packet', async () => {
    const run = await runCli(['--nflog', '33', '--netns', lab.name('b'), '--max-events', '3'], () => {
      sendUdp(lab, 'a', '10.55.1.2', 7001, 1, 10, { srcPort: 46001 });
      connectTcp(lab, 'a', 'fd55:1::2', 7002);
      ping(lab, 'a', 'fd55:1::2');
    });
    expect(run.code).toBe(0);
    const docs = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(docs).toHaveLength(3);
    const ifindex = String(lab.ifindex('b', 'cli-b'));
    for (const doc of docs) {
      expect(doc.source.mac).toBe('02-00-00-55-01-01');
      expect(doc.destination.mac).toBe('02-00-00-55-01-02');
      expect(doc.observer.ingress.interface).toEqual({ name: 'cli-b', id: ifindex });
      expect(doc.network.direction).toBe('ingress');
    }
    const [udp, tcp, icmp6] = docs;
    expect(udp.source).toMatchObject({ ip: '10.55.1.1', port: 46001, bytes: 38 });
    expect(udp.destination).toMatchObject({ ip: '10.55.1.2', port: 7001 });
    expect(udp.network).toMatchObject({ transport: 'udp', type: 'ipv4', iana_number: '17' });
    expect(udp.event).toMatchObject({ action: 'drop', type: ['connection', 'denied'] });
    expect(udp.network.community_id).toBe(
      communityId({ srcIp: '10.55.1.1', dstIp: '10.55.1.2', protocol: 17, srcPort: 46001, dstPort: 7001 }),
    );
    expect(tcp.source.ip).toBe('fd55:1::1');
    expect(tcp.destination).toMatchObject({ ip: 'fd55:1::2', port: 7002 });
    expect(tcp.network).toMatchObject({ transport: 'tcp', type: 'ipv6' });
    expect(tcp.event).toMatchObject({ action: 'accept', type: ['connection', 'allowed'] });
    expect(tcp.network.community_id).toBe(
      communityId({ srcIp: 'fd55:1::1', dstIp: 'fd55:1::2', protocol: 6, srcPort: tcp.source.port, dstPort: 7002 }),
    );
    expect(icmp6.network).toMatchObject({ transport: 'ipv6-icmp', type: 'ipv6' });
    expect(icmp6.event).toMatchObject({ action: 'accept' });
    expect(icmp6.network.community_id).toBe(
      communityId({ srcIp: 'fd55:1::1', dstIp: 'fd55:1::2', protocol: 58, icmpType: 128, icmpCode: 0 }),
    );
  });

  it('exits after --idle-exit without events once the first has arrived', async () => {
    const started = Date.now();
    const run = await runCli(['--nflog', '31', '--netns', lab.name('a'), '--idle-exit', '400', '--format', 'record'], () =>
      sendUdp(lab, 'a', '127.0.0.1', 7000, 2, 10),
    );
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ kind: 'packet', group: 31, prefix: 'IPTABLES: ACCEPT ' });
  });

  it('says clearly when the namespace does not exist', () => {
    const run = spawnSync(process.execPath, [CLI, '--nflog', '31', '--netns', 'nfc-no-such-ns'], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/nfc-no-such-ns.*does not exist/);
  });

  it('says clearly when the group is already bound by another process', async () => {
    const first = spawn(process.execPath, [CLI, '--nflog', '32', '--netns', lab.name('a')], { stdio: 'ignore' });
    try {
      expect(await nflogGroupBound(lab.name('a'), 32)).toBe(true);
      const run = spawnSync(process.execPath, [CLI, '--nflog', '32', '--netns', lab.name('a')], { encoding: 'utf8', timeout: 10_000 });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/group 32 is already bound/);
    } finally {
      first.kill('SIGTERM');
    }
  });
});

it('documents every option in --help and rejects bad arguments', () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  expect(help.status).toBe(0);
  for (const option of ['--nflog', '--netns', '--format', '--output', '--max-events', '--idle-exit', '--stats', '--label']) {
    expect(help.stdout).toContain(option);
  }
  const bad = spawnSync(process.execPath, [CLI, '--nflog', 'x'], { encoding: 'utf8' });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--nflog must be an integer/);
  const none = spawnSync(process.execPath, [CLI], { encoding: 'utf8' });
  expect(none.status).toBe(2);
  expect(none.stderr).toMatch(/nothing to collect/);
});
