// The kernel's view of the collector's netlink sockets (/proc/net/netlink),
// read through the reader thread: /proc/self/task/TID/net shows the network
// namespace of that thread, which may differ from the process's.
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

/** Netlink sockets of the namespace of the first thread that is in another namespace than the process; [] if none. */
export function readerNetlinkSockets(): NetlinkSocket[] {
  const own = fs.readlinkSync('/proc/self/ns/net');
  for (const tid of fs.readdirSync('/proc/self/task')) {
    let text: string;
    try {
      if (fs.readlinkSync(`/proc/self/task/${tid}/ns/net`) === own) continue;
      text = fs.readFileSync(`/proc/self/task/${tid}/net/netlink`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    return text
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .map((f) => ({ protocol: Number(f[1]), portid: Number(f[2]), groups: parseInt(f[3], 16), rmem: Number(f[4]), drops: Number(f[8]) }));
  }
  return [];
}
