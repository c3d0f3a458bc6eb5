// A collector closed in the middle of a burst: close() returns promptly, the
// iteration ends after what the collector held (handed to a loop that reads,
// counted discarded when none does), nothing crashes, the process gets its
// file descriptors back, and the group is free for the next collector.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';

const GROUP = 72;
const PORT = 7200;

/** The process's open fds and what they are (the directory's own fd, gone when read, left out). */
function openFds(): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      out.push(`${fd} ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // the fd of the directory listing itself
    }
  }
  return out;
}

describeKernel('closing a collector during a burst', () => {
  const { lab, binary: floodBinary } = useFloodLab('nfc-fcl', 'close', PORT, GROUP);

  for (const consumer of ['reading', 'stalled'] as const) {
    it(`returns promptly and gives the fds back (consumer ${consumer})`, async () => {
      const fdsBefore = openFds();
      const collector = createCollector({
        nflog: [GROUP],
        netns: lab.name('a'),
        conntrack: true,
        ringSize: 4 << 20,
        socketBuffer: 1 << 20,
      });
      expect(openFds().length).toBeGreaterThan(fdsBefore.length);
      let delivered = 0;
      let ended = false;
      const reading = (async () => {
        if (consumer === 'stalled') await new Promise((resolve) => setTimeout(resolve, 1500));
        for await (const batch of collector.batches()) delivered += batch.filter((r) => r.kind !== 'gap').length;
        ended = true;
      })();
      const sending = flood(lab, 'a', floodBinary(), PORT, 500_000, 100_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 800));
      // The reader thread is busy (reading, or waiting on a full ring) when close() comes.
      expect(collector.stats().datagrams).toBeGreaterThan(0);
      const started = process.hrtime.bigint();
      const closing = collector.close();
      const closeMs = Number(process.hrtime.bigint() - started) / 1e6;
      await closing;
      const settledMs = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(`close() during a burst (consumer ${consumer}): ${closeMs.toFixed(2)} ms, settled in ${settledMs.toFixed(0)} ms`);
      expect(closeMs).toBeLessThan(500);
      await reading;
      expect(ended).toBe(true);
      // close() is idempotent and the counters stay readable.
      await collector.close();
      const s = collector.stats();
      expect(s.consumed).toBe(delivered);
      expect(s.consumed + s.discarded).toBe(s.delivered);
      // A loop that reads gets what was left; with none at close, it is counted discarded.
      if (consumer === 'reading') expect(delivered).toBeGreaterThan(0);
      else expect(s.discarded).toBeGreaterThan(0);
      await sending;
      expect(openFds()).toEqual(fdsBefore);
      // The kernel released the group with the socket: a new collector binds it.
      createCollector({ nflog: [GROUP], netns: lab.name('a') }).close();
      expect(openFds()).toEqual(fdsBefore);
    });
  }

  it('leaves no socket to child processes spawned meanwhile (the group is free once closed)', async () => {
    const collector = createCollector({ nflog: [GROUP], netns: lab.name('a'), conntrack: true });
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const inherited = fs.readdirSync(`/proc/${child.pid}/fd`).map((fd) => fs.readlinkSync(`/proc/${child.pid}/fd/${fd}`));
      expect(inherited.filter((link) => link.startsWith('socket:'))).toEqual([]);
      collector.close();
      // Were the NFLOG socket inherited, the child would keep the group bound.
      createCollector({ nflog: [GROUP], netns: lab.name('a') }).close();
    } finally {
      collector.close();
      child.kill('SIGKILL');
    }
  });
});
