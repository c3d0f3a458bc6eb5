// The three ways to consume a collector, and closing it by AbortSignal.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
import type { CollectorRecord } from '../../src/records';
import { describeKernel } from './kernel-env';

describeKernel('collector API on the real kernel', () => {
  const lab = new NetnsLab('nfc-api');

  beforeAll(() => {
    lab.addNamespace('a');
    lab.nft('a', 'table inet api { chain out { type filter hook output priority 0; udp dport 8000 log group 61; }; }');
  });
  afterAll(() => lab.destroy());

  it('for await over the collector yields records one at a time; an AbortSignal rejects it with an AbortError', async () => {
    const controller = new AbortController();
    const collector = createCollector({ nflog: 61, netns: lab.name('a'), signal: controller.signal });
    setTimeout(() => sendUdp(lab, 'a', '127.0.0.1', 8000, 5, 8), 100);
    const seen: CollectorRecord[] = [];
    const loop = async (): Promise<void> => {
      for await (const record of collector) {
        seen.push(record);
        if (seen.length === 5) controller.abort();
      }
    };
    // Node's convention: an aborted operation rejects with an AbortError.
    await expect(loop()).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(seen.map((r) => r.kind)).toEqual(['packet', 'packet', 'packet', 'packet', 'packet']);
    const s = collector.stats();
    expect(s).toMatchObject({ delivered: 5, consumed: 5, discarded: 0, state: 'closed' });
  });

  it('stream() is a Readable in object mode that ends when the collector closes', async () => {
    const collector = createCollector({ nflog: 61, netns: lab.name('a') });
    const stream = collector.stream();
    const seen: CollectorRecord[] = [];
    stream.on('data', (record: CollectorRecord) => {
      seen.push(record);
      if (seen.length === 3) collector.close();
    });
    const ended = new Promise((resolve) => stream.on('end', resolve));
    sendUdp(lab, 'a', '127.0.0.1', 8000, 3, 8);
    await ended;
    expect(seen).toHaveLength(3);
    expect(stream.readableObjectMode).toBe(true);
  });

  it('an already aborted signal refuses to start (AbortError) and binds nothing', async () => {
    expect(() => createCollector({ nflog: 61, netns: lab.name('a'), signal: AbortSignal.abort() })).toThrow(
      expect.objectContaining({ name: 'AbortError' }),
    );
    // The group is free: nothing was bound.
    await createCollector({ nflog: 61, netns: lab.name('a') }).close();
  });
});
