// Thirty namespaces in one collector (allNetns, restricted to this test's own
// namespaces with a glob), traffic in each, counts exact per namespace against
// each namespace's nft counter; namespaces added and deleted during the run.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import type { NamespaceChange } from '../../src/options';
import type { FlowRecord, PacketRecord } from '../../src/records';
import { flood, useFloodLab } from './flood';
import { Gatherer } from './gather';
import { describeKernel } from './kernel-env';

const GROUP = 86;
const PORT = 8600;
const FLOWS = 3; // UDP to PORT .. PORT+2: three conntrack flows per namespace and round

/** The nft counter of the logging rule in a lab namespace. */
function nftPackets(lab: ReturnType<typeof useFloodLab>['lab'], ns: string): number {
  const text = lab.exec(ns, 'nft', ['list', 'chain', 'inet', 'mns', 'out']);
  const m = /udp dport \S+ counter packets (\d+)/.exec(text);
  if (!m) throw new Error(`no counter in ${text}`);
  return Number(m[1]);
}

describeKernel('many namespaces in one collector', () => {
  const { lab, binary } = useFloodLab('nfc-mns', 'mns-unused', PORT, GROUP);

  function addNamespace(ns: string): void {
    lab.addNamespace(ns);
    lab.nft(
      ns,
      `table inet mns {
        chain out { type filter hook output priority 0; ct state new counter; udp dport ${PORT}-${PORT + FLOWS - 1} counter log group ${GROUP}; }
        chain in { type filter hook input priority 0; udp dport ${PORT}-${PORT + FLOWS - 1} drop; }
      }`,
    );
  }

  it('collects from 30 namespaces, exact per namespace, as they come and go', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    for (const ns of names.slice(0, 25)) addNamespace(ns);
    const changes: NamespaceChange[] = [];
    const collector = createCollector({
      nflog: [GROUP],
      // enableSysctls: accounting and timestamps on in each namespace (ours only: the glob below).
      conntrack: { events: ['new'], enableSysctls: true },
      allNetns: { match: `${lab.name('n')}*`, pollMs: 100 },
      onNamespace: (change) => changes.push(change),
      ringSize: 1 << 22,
      socketBuffer: 1 << 22,
    });
    const gatherer = new Gatherer(collector);
    const sent = new Map<string, number>();
    const send = async (list: string[], round: number) => {
      await Promise.all(
        list.map(async (ns, i) => {
          // A different count in each namespace, so a record put under the wrong one shows.
          const count = 10 + i + round * 7;
          const report = await flood(lab, ns, binary(), PORT, count, 2000, 10, 8, FLOWS);
          expect(report.sent).toBe(count);
          sent.set(ns, (sent.get(ns) ?? 0) + count);
        }),
      );
    };
    const packetsIn = (ns: string) => gatherer.packets().filter((p) => p.netns?.name === lab.name(ns)).length;
    const delivered = (list: string[]) => list.every((ns) => packetsIn(ns) === sent.get(ns));
    try {
      const attachedNow = () => new Set(collector.namespaces().map((n) => n.name));
      expect(collector.namespaces().length).toBe(25);
      // None of the other namespaces on this machine (other tests create their own).
      for (const n of collector.namespaces()) expect(n.name.startsWith(lab.name('n'))).toBe(true);

      await send(names.slice(0, 25), 0);
      expect(await gatherer.until(() => delivered(names.slice(0, 25)), 20_000)).toBe(true);

      // Five more appear; three go away.
      for (const ns of names.slice(25)) addNamespace(ns);
      expect(await gatherer.until(() => names.slice(25).every((ns) => attachedNow().has(lab.name(ns))), 10_000)).toBe(true);
      const counters = new Map<string, number>();
      for (const ns of names.slice(0, 3)) {
        counters.set(ns, nftPackets(lab, ns));
        expect(spawnSync('ip', ['netns', 'del', lab.name(ns)]).status).toBe(0);
      }
      expect(await gatherer.until(() => names.slice(0, 3).every((ns) => !attachedNow().has(lab.name(ns))), 10_000)).toBe(true);
      expect(collector.namespaces().length).toBe(27);

      await send(names.slice(3), 1);
      expect(await gatherer.until(() => delivered(names.slice(3)), 20_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives than was sent

      for (const ns of names.slice(3)) counters.set(ns, nftPackets(lab, ns));
      const stats = collector.stats();
      for (const ns of names) {
        expect({ ns, records: packetsIn(ns) }).toEqual({ ns, records: counters.get(ns) });
        expect(counters.get(ns)).toBe(sent.get(ns));
      }
      // Flows: FLOWS new ones per namespace and round (the second round reuses the first's conntrack entries
      // when they are still there, so at least FLOWS each).
      const flows = gatherer.records.filter((r): r is FlowRecord => r.kind === 'flow');
      for (const ns of names) {
        expect(flows.filter((f) => f.netns?.name === lab.name(ns)).length).toBeGreaterThanOrEqual(FLOWS);
      }
      // Every record says its namespace's inode too.
      const inodes = new Map(changes.filter((c) => c.change === 'attached').map((c) => [c.name, c.inode]));
      for (const p of gatherer.packets() as PacketRecord[]) expect(p.netns?.inode).toBe(inodes.get(p.netns?.name ?? ''));
      expect(gatherer.gaps()).toEqual([]);
      // Per namespace counters in stats(), for the ones attached now.
      expect(stats.namespaces.length).toBe(27);
      for (const entry of stats.namespaces) {
        const ns = entry.name.slice(lab.name('').length);
        expect({ ns, packets: entry.packets }).toEqual({ ns, packets: sent.get(ns) });
      }
      expect(stats.namespacesDetached).toBe(3);
      expect(stats.packets).toBe([...sent.values()].reduce((a, b) => a + b, 0));
      expect(
        changes
          .filter((c) => c.change === 'detached')
          .map((c) => c.name)
          .sort(),
      ).toEqual(names.slice(0, 3).map((ns) => lab.name(ns)));
      expect(changes.filter((c) => c.change === 'failed')).toEqual([]);
    } finally {
      await gatherer.close();
    }
  }, 180_000);
});

describeKernel('attach and detach through the API', () => {
  const { lab, binary } = useFloodLab('nfc-mnd', 'mnd-unused', PORT + 10, GROUP + 1);

  // A detached namespace's ring index is free again once its last entries are read; the next attach may take it.
  it('attaches and detaches while running: every record under its own namespace, counts exact', async () => {
    const port = PORT + 10;
    const group = GROUP + 1;
    for (const ns of ['x', 'y', 'z']) {
      lab.addNamespace(ns);
      lab.nft(
        ns,
        `table inet mnd {
          chain out { type filter hook output priority 0; udp dport ${port} counter log group ${group}; }
          chain in { type filter hook input priority 0; udp dport ${port} drop; }
        }`,
      );
    }
    const collector = createCollector({ nflog: [group], netns: lab.name('x'), ringSize: 1 << 20, socketBuffer: 1 << 22 });
    const gatherer = new Gatherer(collector);
    const count = (ns: string) => gatherer.packets().filter((p) => p.netns?.name === lab.name(ns)).length;
    try {
      expect(collector.attach(lab.name('x'))).toEqual(collector.namespaces()[0]); // already attached: the same
      await flood(lab, 'x', binary(), port, 40, 2000, 10, 8);
      expect(await gatherer.until(() => count('x') === 40)).toBe(true);
      // Sent before detach, read after: still labelled x.
      expect(collector.detach(lab.name('x'))).toBe(true);
      expect(collector.detach(lab.name('x'))).toBe(false);
      const y = collector.attach(lab.name('y'));
      expect(y.name).toBe(lab.name('y'));
      await flood(lab, 'y', binary(), port, 30, 2000, 10, 8);
      expect(await gatherer.until(() => count('y') === 30)).toBe(true);
      collector.detach(lab.name('y'));
      const z = collector.attach(lab.name('z'));
      await flood(lab, 'z', binary(), port, 20, 2000, 10, 8);
      // x after its detach: nothing more arrives from it.
      await flood(lab, 'x', binary(), port, 10, 2000, 10, 8);
      expect(await gatherer.until(() => count('z') === 20)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect([count('x'), count('y'), count('z')]).toEqual([40, 30, 20]);
      expect(new Set([y.inode, z.inode]).size).toBe(2);
      for (const p of gatherer.packets()) {
        if (p.netns?.name === lab.name('y')) expect(p.netns.inode).toBe(y.inode);
        if (p.netns?.name === lab.name('z')) expect(p.netns.inode).toBe(z.inode);
      }
      const stats = collector.stats();
      expect(stats.packets).toBe(90);
      expect(stats.namespacesDetached).toBe(2);
      expect(stats.namespaces.map((n) => n.name)).toEqual([lab.name('z')]);
      expect(gatherer.gaps()).toEqual([]);
      expect(() => collector.attach(`nfc-mnd-missing-${process.pid}`)).toThrow(/does not exist/);
      expect(collector.namespaces().map((n) => n.name)).toEqual([lab.name('z')]);
    } finally {
      await gatherer.close();
    }
    expect(() => collector.attach(lab.name('y'))).toThrow(/closed/);
  }, 60_000);
});
