// The soak's short version (scripts/bench/soak.js runs it for 30 minutes and
// more): a minute of steady mixed load over two namespaces, and the heap after
// a forced GC does not grow from the end of warm-up to the end. Tolerant: a
// leak of one object per event would add tens of MiB in that minute.
import { runInNewContext } from 'node:vm';
import * as v8 from 'node:v8';
import { expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';

const GROUP = 88;
const PORT = 8800;
const SECONDS = 60;
const PPS = 2000; // per namespace
const TOLERANCE_MIB = 8;

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

describeKernel('a minute of steady load', () => {
  const { lab, binary } = useFloodLab('nfc-soak1', 'soak1', PORT, GROUP);

  it('delivers everything and the heap does not grow after warm-up', async () => {
    lab.addNamespace('b');
    lab.nft(
      'b',
      `table inet soak1 {
        chain out { type filter hook output priority 0; udp dport ${PORT}-${PORT + 63} counter log group ${GROUP}; }
        chain in { type filter hook input priority 0; udp dport ${PORT}-${PORT + 63} drop; }
      }`,
    );
    const collector = createCollector({ nflog: [GROUP], netns: [lab.name('a'), lab.name('b')], ringSize: 1 << 22, socketBuffer: 1 << 24 });
    let packets = 0;
    let gaps = 0;
    const consumer = (async () => {
      for await (const batch of collector.batches()) {
        for (const r of batch) {
          if (r.kind === 'packet') packets++;
          else if (r.kind === 'gap') gaps++;
        }
      }
    })();
    try {
      const sending = Promise.all(
        ['a', 'b'].map((ns) => flood(lab, ns, binary(), PORT, PPS * SECONDS, PPS, SECONDS + 30, 16, ns === 'b' ? 64 : 1)),
      );
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      const warm = heapAfterGc();
      const reports = await sending;
      const sent = reports.reduce((sum, r) => sum + r.sent, 0);
      const deadline = Date.now() + 20_000;
      while (packets < sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const end = heapAfterGc();
      console.log(`soak-short: ${packets}/${sent} packets, heap after GC ${warm.toFixed(1)} MiB at 15 s, ${end.toFixed(1)} MiB at the end`);
      expect(packets).toBe(sent);
      expect(gaps).toBe(0);
      expect(end - warm).toBeLessThan(TOLERANCE_MIB);
    } finally {
      collector.close();
      await consumer;
    }
  }, 150_000);
});
