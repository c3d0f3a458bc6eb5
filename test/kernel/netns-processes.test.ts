// allNetns with processes: a namespace that has no name (a process made it
// with unshare) is found through /proc/PID/ns/net, attached, its flows carry
// net:[INODE], and it is detached when its last process exits.
//
// The collector here attaches to every process's namespace on the machine,
// other tests' included, so it opens conntrack event sockets only (multicast
// listeners: they take nothing from anyone) and no NFLOG group, and it reads
// only the records of the namespace this test made.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import type { NamespaceChange } from '../../src/options';
import type { FlowRecord } from '../../src/records';
import { Gatherer } from './gather';
import { describeKernel } from './kernel-env';

const FIRST_PORT = 8700;
const FLOWS = 5;

describeKernel('namespaces of running processes (allNetns processes)', () => {
  it('attaches a namespace without a name, labels its flows, detaches it when its process exits', async () => {
    // No named namespaces: an empty directory in place of /run/netns.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-nsproc-'));
    const changes: NamespaceChange[] = [];
    const collector = createCollector({
      conntrack: { events: ['new'] },
      allNetns: { dir, processes: true, pollMs: 100 },
      onNamespace: (change) => changes.push(change),
      emitWarnings: false,
      ringSize: 1 << 22,
      socketBuffer: 1 << 22,
    });
    const gatherer = new Gatherer(collector);
    // Waits for a line on stdin before sending, so the collector has attached first; bounded: it exits within 20 s.
    const script =
      // A rule that uses conntrack: in a new namespace conntrack tracks nothing until a rule needs it.
      "set -e; ip link set lo up; nft -f - <<< 'table inet t { chain out { type filter hook output priority 0; ct state new counter; }; }'; " +
      'read -t 20 go; ' +
      `for p in $(seq ${FIRST_PORT} ${FIRST_PORT + FLOWS - 1}); do echo x > /dev/udp/127.0.0.1/$p; done; ` +
      'read -t 20 done';
    const child = spawn('unshare', ['--net', 'bash', '-c', script], { stdio: ['pipe', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      // The child's namespace: another inode than ours once unshare has run.
      const own = fs.readlinkSync('/proc/self/ns/net');
      let inode = 0;
      const until = Date.now() + 5000;
      while (inode === 0 && Date.now() < until) {
        try {
          const link = fs.readlinkSync(`/proc/${child.pid}/ns/net`);
          if (link !== own) inode = Number(/\[(\d+)\]/.exec(link)?.[1]);
        } catch {
          // not started yet
        }
        if (inode === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(inode).toBeGreaterThan(0);
      const attached = () => changes.some((c) => c.change === 'attached' && c.inode === inode);
      expect(await gatherer.until(attached, 5000)).toBe(true);
      expect(changes.find((c) => c.inode === inode)?.name).toBe(`net:[${inode}]`);

      child.stdin.write('go\n');
      const ours = () =>
        gatherer.records.filter((r): r is FlowRecord => r.kind === 'flow' && r.netns?.inode === inode && r.original?.protocol === 17);
      expect(await gatherer.until(() => ours().length >= FLOWS, 5000)).toBe(true);
      expect(
        ours()
          .map((r) => r.original?.dstPort)
          .sort(),
      ).toEqual(Array.from({ length: FLOWS }, (_, i) => FIRST_PORT + i));
      for (const r of ours()) expect(r.netns).toEqual({ name: `net:[${inode}]`, inode });

      // The last process in the namespace exits: the namespace is gone, and so detached.
      child.stdin.end('done\n');
      expect(await exited).toBe(0);
      const detached = () => changes.some((c) => c.change === 'detached' && c.inode === inode);
      expect(await gatherer.until(detached, 5000)).toBe(true);
      expect(collector.stats().lost).toBe(0);
    } finally {
      child.kill();
      await gatherer.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
