// The benchmarks' UDP flood (scripts/bench/udp-flood.c), built once per test
// file, run inside a lab namespace without blocking the event loop, so a
// collector in the same process keeps reading (or deliberately does not).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { NetnsLab } from '../../src/lab/netns';

const SOURCE = path.join(__dirname, '..', '..', 'scripts', 'bench', 'udp-flood.c');

export interface FloodReport {
  sent: number;
  errors: number;
  seconds: number;
  pps: number;
}

/** Compiles udp-flood into a temporary directory; returns its path. */
export function buildFlood(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-flood-'));
  const binary = path.join(dir, 'udp-flood');
  execFileSync('cc', ['-O2', '-o', binary, SOURCE], { stdio: 'pipe', timeout: 60_000 });
  return binary;
}

/** Removes what buildFlood() made. */
export function removeFlood(binary: string | undefined): void {
  if (binary) fs.rmSync(path.dirname(binary), { recursive: true, force: true });
}

/**
 * Sends `count` datagrams at `rate` per second (0: flat out), `batch` per
 * sendmmsg (1 for an even trickle), stopping after `maxSeconds` at most;
 * to `ports` ports from `port` up, in turn (one flow each).
 */
export function flood(
  lab: NetnsLab,
  ns: string,
  binary: string,
  port: number,
  count: number,
  rate: number,
  maxSeconds: number,
  batch = 128,
  ports = 1,
): Promise<FloodReport> {
  const args = [
    'netns',
    'exec',
    lab.name(ns),
    binary,
    '127.0.0.1',
    String(port),
    String(count),
    '64',
    String(maxSeconds),
    String(rate),
    String(batch),
    String(ports),
  ];
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close': exited and its pipes closed, so the caller's fds are back.
    child.once('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as FloodReport);
      } catch {
        reject(new Error(`udp-flood exited ${code}: ${stderr.trim()}`));
      }
    });
  });
}

export interface FloodLab {
  lab: NetnsLab;
  /** The flood binary, once beforeAll has built it. */
  binary(): string;
}

/**
 * A one-namespace lab ('a') for flood tests, built in beforeAll and removed in
 * afterAll: UDP to `port` is logged to `group` on the way out (and counted)
 * and dropped on the way in, so no listener is needed and the sender gets no
 * ICMP errors.
 */
export function useFloodLab(prefix: string, table: string, port: number, group: number): FloodLab {
  const lab = new NetnsLab(prefix);
  let binary = '';
  beforeAll(() => {
    binary = buildFlood();
    lab.addNamespace('a');
    lab.nft(
      'a',
      `table inet ${table} {
        chain out { type filter hook output priority 0; udp dport ${port} counter log group ${group}; }
        chain in { type filter hook input priority 0; udp dport ${port} drop; }
      }`,
    );
  });
  afterAll(() => {
    lab.destroy();
    removeFlood(binary);
  });
  return { lab, binary: () => binary };
}
