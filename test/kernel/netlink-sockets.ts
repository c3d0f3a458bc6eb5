// The kernel's view of the collector's netlink sockets (/proc/net/netlink of
// the namespace they were opened in).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';

export const NETLINK_NETFILTER = 12;

export interface NetlinkSocket {
  protocol: number;
  portid: number;
  /** Multicast groups joined, as a bit mask. */
  groups: number;
  /** Bytes queued for reading. */
  rmem: number;
  /** Messages the kernel dropped for want of room (sk_drops). */
  drops: number;
}

/** A `sleep` inside each namespace asked about, whose /proc/PID/net shows that namespace (read without a fork). */
const sleepers = new Map<string, ChildProcess>();

function sleeperIn(netns: string): number {
  let child = sleepers.get(netns);
  if (!child) {
    child = spawn('ip', ['netns', 'exec', netns, 'sleep', '600'], { stdio: 'ignore' });
    child.unref();
    sleepers.set(netns, child);
    const own = fs.readlinkSync('/proc/self/ns/net');
    const pid = child.pid as number;
    // `ip netns exec` enters the namespace, then execs sleep in the same process.
    const deadline = Date.now() + 10_000;
    while (safeReadlink(`/proc/${pid}/ns/net`) === own && Date.now() < deadline) execFileSync('sleep', ['0.01']);
  }
  return child.pid as number;
}

function safeReadlink(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '';
  }
}

/** Ends the sleepers (call in afterAll; a test worker may be ended without an 'exit' event). */
export function stopSleepers(): void {
  for (const child of sleepers.values()) child.kill();
  sleepers.clear();
}

process.on('exit', stopSleepers);

/**
 * Netlink sockets in a lab namespace (the collector's there: the reader thread opens them inside it,
 * then returns to its own namespace, so the kernel lists them under the lab namespace).
 */
export function namespaceNetlinkSockets(netns: string): NetlinkSocket[] {
  const text = fs.readFileSync(`/proc/${sleeperIn(netns)}/net/netlink`, 'utf8');
  // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .map((f) => ({ protocol: Number(f[1]), portid: Number(f[2]), groups: parseInt(f[3], 16), rmem: Number(f[4]), drops: Number(f[8]) }));
}
