// close() gives back every file descriptor at once: the sockets and the
// reader's eventfd, without waiting for V8 to collect the collector (the
// eventfd used to stay open until then; found by scripts/asan/run.sh).
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { createCollector, type Collector } from '../../src/index';
import { NetnsLab } from '../../src/lab/netns';
import { describeKernel } from './kernel-env';

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describeKernel('close() releases file descriptors', () => {
  let lab: NetnsLab;
  let ns: string;

  beforeAll(() => {
    lab = new NetnsLab('nfc-closefd');
    ns = lab.addNamespace('a');
    // Conntrack on in the namespace, and accounting/timestamps set so the collector does not warn.
    lab.nft('a', 'table inet closefd {\n chain output {\n type filter hook output priority 0;\n ct state new counter\n }\n}\n');
    lab.exec('a', 'sysctl', ['-q', '-w', 'net.netfilter.nf_conntrack_acct=1', 'net.netfilter.nf_conntrack_timestamp=1']);
  });

  afterAll(() => lab?.destroy());

  it('50 collectors with NFLOG, conntrack and link sockets, opened and closed: fds back where they were', () => {
    const open = (): Collector =>
      createCollector({ nflog: [63], conntrack: { events: ['new', 'destroy'] }, netns: ns, ringSize: 1 << 20, socketBuffer: 1 << 20 });
    open().close(); // first use: lazy library state
    const before = openFds();
    // Keep them referenced, so nothing is left to garbage collection.
    const kept: Collector[] = [];
    for (let i = 0; i < 50; i++) {
      const c = open();
      expect(openFds()).toBeGreaterThan(before);
      c.close();
      kept.push(c);
    }
    expect(openFds()).toBe(before);
    expect(kept.length).toBe(50);
  });
});
