// The shipper's contract at the edges, against the kernel's own count: however
// the consumer stops (close early, break, return, throw, abort, destroying the
// stream), delivered + lost equals what the nft rule logged, and
// delivered = consumed + discarded. Only a drop at the very end of a burst,
// which no later sequence number reveals, may stay uncounted, and then
// lossUncounted says so.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { AbortError, createCollector, type Collector, type CollectorStats } from '../../src/collector';
import type { CollectorOptions } from '../../src/options';
import { nflogGroupBound } from '../helpers/nflog-bound';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';

const GROUP = 78;
const PORT = 7800;

describeKernel('every edge of a shipper accounted against the nft counter', () => {
  const { lab, binary } = useFloodLab('nfc-edge', 'edges', PORT, GROUP);

  function logged(): number {
    const match = /counter packets (\d+)/.exec(lab.exec('a', 'nft', ['list', 'chain', 'inet', 'edges', 'out']));
    if (!match) throw new Error('no counter');
    return Number(match[1]);
  }

  let current: Collector | undefined;
  // A test that failed early must not leave the group bound for the next one.
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  /** A collector in the lab whose group is bound, and the counter's value at that moment. */
  async function start(options: Partial<CollectorOptions> = {}): Promise<{ collector: Collector; base: number }> {
    const collector = createCollector({
      nflog: [GROUP],
      netns: lab.name('a'),
      ringSize: 1 << 20,
      socketBuffer: 8 << 20,
      interfaceNames: false,
      ...options,
    });
    current = collector;
    expect(await nflogGroupBound(lab.name('a'), GROUP)).toBe(true);
    return { collector, base: logged() };
  }

  async function send(count: number, rate = 50_000): Promise<void> {
    const report = await flood(lab, 'a', binary(), PORT, count, rate, 20);
    expect(report.sent).toBe(count);
  }

  function expectAccounted(s: CollectorStats, kernel: number): void {
    expect(s.state).toBe('closed');
    expect(s.delivered).toBe(s.consumed + s.discarded);
    if (s.lossUncounted) expect(s.delivered + s.lost).toBeLessThanOrEqual(kernel);
    else expect(s.delivered + s.lost).toBe(kernel);
  }

  it('close() with nobody reading: the ring and the socket are counted as discarded', async () => {
    const { collector, base } = await start();
    await send(20_000);
    await collector.close();
    const s = collector.stats();
    console.log('close early:', JSON.stringify({ logged: logged() - base, delivered: s.delivered, discarded: s.discarded, lost: s.lost }));
    expect(s.ringFull).toBeGreaterThan(0); // the ring was full: the rest waited in the socket
    expect(s).toMatchObject({ consumed: 0, lost: 0, lossUncounted: false });
    expectAccounted(s, logged() - base);
  });

  it("close() flushes the kernel's batch (a long flush timeout) instead of losing it", async () => {
    const { collector, base } = await start({ qthreshold: 65535, flushTimeoutMs: 600_000 });
    await send(200, 10_000);
    expect(collector.stats().datagrams).toBe(0); // all 200 still batched in the kernel
    await collector.close();
    const s = collector.stats();
    expect(logged() - base).toBe(200);
    expect(s.discarded).toBe(200);
    expectAccounted(s, 200);
  });

  it('break in a for await closes the collector and counts the rest as discarded', async () => {
    const { collector, base } = await start();
    await send(20_000);
    let seen = 0;
    for await (const record of collector) {
      if (record.kind === 'packet' && ++seen === 3) break;
    }
    const s = collector.stats();
    expect(s.consumed).toBe(3);
    expectAccounted(s, logged() - base);
  });

  for (const exit of ['return', 'throw'] as const) {
    it(`${exit} inside a batches() loop closes the collector with every record counted`, async () => {
      const { collector, base } = await start();
      await send(10_000);
      const loop = async (): Promise<void> => {
        for await (const batch of collector.batches({ maxRecords: 100 })) {
          if (batch.length === 0) continue;
          if (exit === 'throw') throw new Error('the shipper failed');
          return;
        }
      };
      if (exit === 'throw') await expect(loop()).rejects.toThrow('the shipper failed');
      else await loop();
      const s = collector.stats();
      expect(s.consumed).toBeLessThanOrEqual(100);
      expectAccounted(s, logged() - base);
    });
  }

  it('abort rejects the loop with an AbortError, every record counted', async () => {
    const controller = new AbortController();
    const { collector, base } = await start({ signal: controller.signal });
    await send(10_000);
    let seen = 0;
    const loop = (async () => {
      for await (const record of collector) if (record.kind === 'packet' && ++seen === 10) controller.abort();
    })();
    await expect(loop).rejects.toBeInstanceOf(AbortError);
    await collector.close();
    expectAccounted(collector.stats(), logged() - base);
  });

  it('destroying stream() counts what it buffered as discarded', async () => {
    const { collector, base } = await start({ batchSize: 500 });
    await send(10_000);
    const stream = collector.stream();
    let read = 0;
    for await (const record of stream) if ((record as { kind: string }).kind === 'packet' && ++read === 50) break;
    await collector.close();
    const s = collector.stats();
    expect(s.consumed).toBe(50);
    expect(s.discarded).toBeGreaterThan(0);
    expectAccounted(s, logged() - base);
  });

  it('close() while a slow loop reads: everything is handed over, nothing discarded', async () => {
    const { collector, base } = await start();
    const sending = send(20_000, 40_000);
    let closing: Promise<void> | undefined;
    let batches = 0;
    for await (const batch of collector.batches()) {
      if (++batches === 2) closing = sending.then(() => collector.close());
      await new Promise((resolve) => setTimeout(resolve, 5));
      void batch;
    }
    await closing;
    const s = collector.stats();
    expect(s.discarded).toBe(0);
    expectAccounted(s, logged() - base);
  });

  it('a small socket overflowing while nobody reads (the reported case): what the ring held is counted, the tail loss flagged', async () => {
    const { collector, base } = await start({ socketBuffer: 64 * 1024 });
    await send(30_000, 20_000);
    await collector.close();
    const s = collector.stats();
    const kernel = logged() - base;
    console.log(
      'overflow then close:',
      JSON.stringify({ logged: kernel, delivered: s.delivered, lost: s.lost, uncounted: s.lossUncounted }),
    );
    // What the ring and the socket held at close is counted (it was "reported nowhere" before).
    expect(s.discarded).toBeGreaterThan(4000);
    // Nothing after the drops reached the ring (nobody read), so no sequence number says how many:
    // the kernel cannot say, and lossUncounted does.
    expect(s.lossUncounted).toBe(true);
    expectAccounted(s, kernel);
  });

  it('a small socket overflowing before the reader starts: every loss counted once later entries arrive', async () => {
    const { collector, base } = await start({ socketBuffer: 64 * 1024 });
    const caughtUp = once(collector, 'idle');
    // The reader starts once a 6 MB burst has overflowed the 1 MiB ring and the socket, then keeps up.
    await send(30_000, 0);
    const reading = (async () => {
      for await (const _batch of collector.batches()) void _batch;
    })();
    // Once the reader has caught up, a trickle whose sequence numbers reveal the drops at the end of the burst.
    await caughtUp;
    await send(100, 1000);
    await collector.close();
    await reading;
    const s = collector.stats();
    const kernel = logged() - base;
    console.log(
      'slow reader overflow:',
      JSON.stringify({ logged: kernel, delivered: s.delivered, lost: s.lost, uncounted: s.lossUncounted }),
    );
    expect(s.lost).toBeGreaterThan(0);
    expect(s.lossUncounted).toBe(false);
    expectAccounted(s, kernel);
  });

  it('conntrack: close() with nobody reading counts every NEW event (or its loss, from the socket drop counter)', async () => {
    const FLOWS = 3000;
    const FIRST = 30_000;
    lab.nft(
      'a',
      `table inet edgesct { chain out { type filter hook output priority 0; udp dport ${FIRST}-${FIRST + FLOWS - 1} ct state new counter; }; }`,
    );
    const counted = (): number => {
      const match = /counter packets (\d+)/.exec(lab.exec('a', 'nft', ['list', 'chain', 'inet', 'edgesct', 'out']));
      if (!match) throw new Error('no counter');
      return Number(match[1]);
    };
    const base = counted();
    // A 64 KiB socket: most events are dropped by the kernel and counted from the socket's drop counter.
    const collector = createCollector({
      netns: lab.name('a'),
      conntrack: { events: ['new'] },
      ringSize: 1 << 20,
      socketBuffer: 64 * 1024,
      interfaceNames: false,
    });
    current = collector;
    // One datagram to each of FLOWS ports: FLOWS new flows, bounded in time.
    const sender = `const s = require('node:dgram').createSocket('udp4'); let n = 0;
      const next = () => { if (n >= ${FLOWS}) return s.close(); s.send(Buffer.alloc(8), ${FIRST} + n++, '127.0.0.1', next); };
      next(); setTimeout(() => process.exit(3), 20000).unref();`;
    const child = spawn('ip', ['netns', 'exec', lab.name('a'), process.execPath, '-e', sender], { stdio: 'ignore' });
    expect(await new Promise((resolve) => child.once('close', resolve))).toBe(0);
    await collector.close();
    const s = collector.stats();
    const kernel = counted() - base;
    console.log(
      'conntrack close early:',
      JSON.stringify({ flows: kernel, delivered: s.delivered, lost: s.lost, uncounted: s.lossUncounted }),
    );
    expect(kernel).toBe(FLOWS);
    expect(s.discarded).toBe(s.delivered);
    expectAccounted(s, kernel);
  });
});
