// The command line against the real kernel: exactly one ECS document per
// packet, --max-events, --idle-exit, --stats, and errors a person understands.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
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
    const ready = setTimeout(whenReady, 700);
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
    lab.nft('a', 'table inet cli { chain out { type filter hook output priority 0; udp dport 7000 log prefix "IPTABLES: ACCEPT " group 31; }; }');
  });
  afterAll(() => lab.destroy());

  it('prints exactly one ECS document per packet and stops at --max-events', async () => {
    const run = await runCli(['--nflog', '31', '--netns', lab.name('a'), '--max-events', '3', '--stats'], () =>
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
      expect(doc.netfilter.group).toBe(31);
    }
    const statsLine = run.stderr.trim().split('\n').pop() ?? '';
    const stats = JSON.parse(statsLine);
    expect(stats).toMatchObject({ delivered: 3, lost: 0 });
  });

  it('exits after --idle-exit without events once the first has arrived', async () => {
    const started = Date.now();
    const run = await runCli(['--nflog', '31', '--netns', lab.name('a'), '--idle-exit', '400', '--format', 'record'], () =>
      sendUdp(lab, 'a', '127.0.0.1', 7000, 2, 10),
    );
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const records = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
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
      await new Promise((resolve) => setTimeout(resolve, 700));
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
