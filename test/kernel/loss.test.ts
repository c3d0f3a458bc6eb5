// Loss is counted, never silent: a consumer that stops reading while traffic
// flows, then resumes, sees gap records whose counts plus the delivered
// events equal what the kernel logged.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';

const SENT = 30_000;

function loggedByKernel(lab: NetnsLab): number {
  const listing = lab.exec('a', 'nft', ['list', 'table', 'inet', 'loss']);
  const match = /counter packets (\d+)/.exec(listing);
  if (!match) throw new Error(`no counter in:\n${listing}`);
  return Number(match[1]);
}

describeKernel('loss accounting on the real kernel', () => {
  const lab = new NetnsLab('nfc-l');

  beforeAll(() => {
    lab.addNamespace('a');
    lab.nft('a', 'table inet loss { chain out { type filter hook output priority 0; udp dport 6000 counter log group 21; }; }');
  });
  afterAll(() => lab.destroy());

  it('delivered + counted lost = logged, after a stalled consumer', async () => {
    // Small buffers so that a stalled consumer overflows quickly.
    const collector = createCollector({ nflog: [21], netns: lab.name('a'), ringSize: 1 << 20, socketBuffer: 1 << 17, qthreshold: 1 });
    try {
      // Nobody reads while the burst is sent: the ring, then the socket buffer fill, then the kernel drops.
      sendUdp(lab, 'a', '127.0.0.1', 6000, SENT, 64);
      const stalled = collector.stats();
      expect(stalled.ringFull).toBeGreaterThan(0);
      // Drained later: until then nothing has been decoded, so nothing is counted yet.
      expect(stalled.lost).toBe(0);

      const gatherer = new Gatherer(collector);
      // One more packet after the stall: its sequence number reveals losses at the tail of the burst.
      await new Promise((resolve) => setTimeout(resolve, 200));
      sendUdp(lab, 'a', '127.0.0.1', 6000, 1, 64);
      const logged = loggedByKernel(lab);
      expect(logged).toBe(SENT + 1);
      const complete = await gatherer.until(() => gatherer.packets().some((p) => p.seq === SENT), 20_000);
      expect(complete).toBe(true);
      await gatherer.close();

      const delivered = gatherer.packets().length;
      const lost = gatherer.gaps().reduce((sum, g) => sum + (g.count ?? 0), 0);
      expect(delivered).toBeLessThan(logged);
      expect(delivered + lost).toBe(logged);
      const stats = collector.stats();
      expect(stats.enobufs).toBeGreaterThan(0);
      expect(stats.lossUncounted).toBe(false);
      expect(stats.lost).toBe(lost);
      expect(stats.delivered).toBe(delivered);
      expect(gatherer.gaps().some((g) => g.reason === 'enobufs')).toBe(true);
    } finally {
      collector.close();
    }
  });
});
