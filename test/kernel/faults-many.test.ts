// Several collectors in one process: different groups in one namespace, the
// same group number in two namespaces, and collectors in worker threads
// (each worker has its own addon instance: the addon is context-aware and
// cleans up when a worker ends with a collector still open).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';

const WORKER = path.join(__dirname, 'child', 'collector-worker.js');
const DIST = path.join(__dirname, '..', '..', 'dist', 'collector.js');

// Port 7301 logs to group 73, 7302 to group 74, in both namespaces.
const RULES = `table inet many { chain out { type filter hook output priority 0;
  udp dport 7301 log prefix "g73 " group 73; udp dport 7302 log prefix "g74 " group 74; }; }`;

interface WorkerResult {
  packets: number;
  groups: number[];
  delivered: number;
}

function message(worker: Worker, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker did not answer')), timeoutMs);
    worker.once('message', (m: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function startWorker(data: { netns: string; group: number; expected: number; keepOpen?: boolean }): Worker {
  return new Worker(WORKER, { workerData: data });
}

describeKernel('several collectors in one process', () => {
  const lab = new NetnsLab('nfc-fmn');

  beforeAll(() => {
    if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build:ts (npm test does)`);
    lab.addNamespace('a');
    lab.addNamespace('b');
    lab.nft('a', RULES);
    lab.nft('b', RULES);
  });
  afterAll(() => lab.destroy());

  it('keeps groups and namespaces apart', async () => {
    const a73 = new Gatherer(createCollector({ nflog: [73], netns: lab.name('a'), qthreshold: 1 }));
    const a74 = new Gatherer(createCollector({ nflog: [74], netns: lab.name('a'), qthreshold: 1 }));
    const b73 = new Gatherer(createCollector({ nflog: [73], netns: lab.name('b'), qthreshold: 1 }));
    try {
      sendUdp(lab, 'a', '127.0.0.1', 7301, 5);
      sendUdp(lab, 'a', '127.0.0.1', 7302, 6);
      sendUdp(lab, 'b', '127.0.0.1', 7301, 7);
      const all = [a73, a74, b73];
      const expected = [5, 6, 7];
      expect(await a73.until(() => all.every((g, i) => g.packets().length >= expected[i]))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(all.map((g) => g.packets().length)).toEqual(expected);
      expect(new Set(a73.packets().map((p) => p.prefix))).toEqual(new Set(['g73 ']));
      expect(new Set(a74.packets().map((p) => p.prefix))).toEqual(new Set(['g74 ']));
      expect(new Set(b73.packets().map((p) => p.group))).toEqual(new Set([73]));
    } finally {
      for (const g of [a73, a74, b73]) await g.close();
    }
  });

  it('runs a collector in each of several worker threads', async () => {
    const specs = [
      { netns: lab.name('a'), group: 73, expected: 4 },
      { netns: lab.name('a'), group: 74, expected: 3 },
      { netns: lab.name('b'), group: 73, expected: 2 },
    ];
    const workers = specs.map(startWorker);
    const exits = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
    try {
      const ready = await Promise.all(workers.map((w) => message(w)));
      expect(ready).toEqual(specs.map(() => ({ ready: true })));
      const results = workers.map((w) => message(w));
      sendUdp(lab, 'a', '127.0.0.1', 7301, 4);
      sendUdp(lab, 'a', '127.0.0.1', 7302, 3);
      sendUdp(lab, 'b', '127.0.0.1', 7301, 2);
      const got = (await Promise.all(results)) as unknown as WorkerResult[];
      expect(got).toEqual(specs.map((s) => ({ packets: s.expected, groups: [s.group], delivered: s.expected })));
      const codes = await Promise.race([
        Promise.all(exits),
        new Promise((resolve) => setTimeout(() => resolve('workers did not exit'), 10_000)),
      ]);
      // Each worker closed its collector and then ended by itself: nothing kept its loop alive.
      expect(codes).toEqual([0, 0, 0]);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('cleans up a worker terminated with its collector open', async () => {
    const worker = startWorker({ netns: lab.name('a'), group: 73, expected: 0, keepOpen: true });
    expect(await message(worker)).toEqual({ ready: true });
    sendUdp(lab, 'a', '127.0.0.1', 7301, 50);
    await worker.terminate();
    // The addon's cleanup hook closed the worker's sockets: the group can be bound again, here.
    const collector = new Gatherer(createCollector({ nflog: [73], netns: lab.name('a'), qthreshold: 1 }));
    try {
      sendUdp(lab, 'a', '127.0.0.1', 7301, 3);
      expect(await collector.until(() => collector.packets().length >= 3)).toBe(true);
    } finally {
      await collector.close();
    }
  });
});
