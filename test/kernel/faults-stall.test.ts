// A consumer that stops for seconds in the middle of a burst: the ring fills,
// then the socket buffer, then the kernel drops. Memory stays bounded by what
// was configured, and every entry the kernel logged is either delivered or
// counted in a gap record.
//
// The bound: the process's RSS grows by at most the ring plus SLACK (V8 heap
// for decoded batches not yet collected, the reader thread's stack, malloc
// arenas). The socket buffer is kernel memory, not RSS: its queue
// (/proc/net/netlink Rmem, seen through the reader thread) stays within the
// twice-the-setting the kernel allows plus one datagram.
import { afterAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import type { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';
import { NETLINK_NETFILTER, namespaceNetlinkSockets, stopSleepers } from './netlink-sockets';

const GROUP = 71;
const PORT = 7100;
const RING = 8 << 20;
const SOCKET_BUFFER = 4 << 20;
// Measured on 2026-12-03 (RSS growth during this test): 38–41 MiB on Node 22 and 24, 38–74 MiB on
// Node 26, whose V8 lets the heap grow further before collecting. Records held for the whole burst
// would need several hundred MiB (250,000 decoded packets), so this still tells bounded from not.
const SLACK = 96 << 20;
const SENT = 250_000;
const RATE = 50_000;

function counter(lab: NetnsLab): number {
  const match = /counter packets (\d+)/.exec(lab.exec('a', 'nft', ['list', 'chain', 'inet', 'stall', 'out']));
  if (!match) throw new Error('no counter');
  return Number(match[1]);
}

describeKernel('a consumer that stalls during a burst', () => {
  const { lab, binary: floodBinary } = useFloodLab('nfc-fst', 'stall', PORT, GROUP);
  afterAll(stopSleepers);

  it('keeps memory within ring + socket buffer + slack, and delivered + lost = logged', async () => {
    const baseline = process.memoryUsage().rss;
    const collector = createCollector({ nflog: [GROUP], netns: lab.name('a'), ringSize: RING, socketBuffer: SOCKET_BUFFER });
    let maxRss = 0;
    let maxRmem = 0;
    const sampler = setInterval(() => {
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
      for (const s of namespaceNetlinkSockets(lab.name('a'))) if (s.protocol === NETLINK_NETFILTER) maxRmem = Math.max(maxRmem, s.rmem);
    }, 20);
    let delivered = 0;
    let lost = 0;
    let lastSeq = -1;
    let pause: Promise<unknown> | null = null;
    const consumer = (async () => {
      // Counts and forgets: what the test keeps must not be mistaken for the collector's memory.
      for await (const batch of collector.batches()) {
        for (const record of batch) {
          if (record.kind === 'packet') {
            delivered++;
            lastSeq = Math.max(lastSeq, record.seq ?? -1);
          } else if (record.kind === 'gap') lost += record.count ?? 0;
        }
        if (pause) await pause;
      }
    })();
    try {
      const sending = flood(lab, 'a', floodBinary(), PORT, SENT, RATE, 30);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const beforePause = delivered;
      pause = new Promise((resolve) => setTimeout(resolve, 3000));
      await pause;
      pause = null;
      const report = await sending;
      expect(report.sent).toBe(SENT);
      expect(beforePause).toBeGreaterThan(0);
      // One more entry after the burst: its sequence number counts losses at the burst's tail.
      await new Promise((resolve) => setTimeout(resolve, 300));
      sendUdp(lab, 'a', '127.0.0.1', PORT, 1, 64);
      const logged = counter(lab);
      expect(logged).toBe(SENT + 1);
      const deadline = Date.now() + 30_000;
      while (lastSeq < logged - 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(lastSeq).toBe(logged - 1);

      const stats = collector.stats();
      console.log(
        `stall: delivered ${delivered}, lost ${lost}, enobufs ${stats.enobufs}, ringFull ${stats.ringFull}; ` +
          `RSS +${((maxRss - baseline) / 2 ** 20).toFixed(1)} MiB (ring ${RING / 2 ** 20} MiB), ` +
          `socket queue max ${(maxRmem / 2 ** 20).toFixed(2)} MiB (setting ${SOCKET_BUFFER / 2 ** 20} MiB)`,
      );
      // The stall did overflow: otherwise this test proves nothing.
      expect(stats.ringFull).toBeGreaterThan(0);
      expect(stats.enobufs).toBeGreaterThan(0);
      expect(lost).toBeGreaterThan(0);
      expect(delivered + lost).toBe(logged);
      expect(stats.lossUncounted).toBe(false);
      expect(maxRss - baseline).toBeLessThan(RING + SLACK);
      expect(maxRmem).toBeGreaterThan(0);
      expect(maxRmem).toBeLessThanOrEqual(2 * SOCKET_BUFFER + 65536);
    } finally {
      clearInterval(sampler);
      collector.close();
      await consumer;
    }
  });
});
