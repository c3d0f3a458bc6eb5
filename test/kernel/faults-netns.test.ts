// The namespace is deleted (`ip netns del`) while a collector runs in it.
// What the collector does: nothing special. `ip netns del` only removes the
// name (the bind mount under /run/netns); the namespace itself lives on as
// long as anything holds it, and the reader thread and its sockets do. So
// collection goes on for whatever still runs in there, and close() ends it as
// usual; after that the name cannot be opened again.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createCollector } from '../../src/collector';
import { flood, useFloodLab } from './flood';
import { describeKernel } from './kernel-env';
import { Gatherer } from './gather';

const GROUP = 84;
const PORT = 8400;

describeKernel('a namespace deleted while collecting', () => {
  const { lab, binary: floodBinary } = useFloodLab('nfc-fns', 'gone', PORT, GROUP);

  it('keeps collecting from what still runs in it, and closes cleanly', async () => {
    const name = lab.name('a');
    const gatherer = new Gatherer(createCollector({ nflog: [GROUP], netns: name, qthreshold: 1 }));
    // 20 packets a second for 3 s from a process inside the namespace: it keeps running after the name is gone.
    const sending = flood(lab, 'a', floodBinary(), PORT, 60, 20, 10, 1);
    try {
      expect(await gatherer.until(() => gatherer.packets().length >= 5)).toBe(true);
      const deleted = spawnSync('ip', ['netns', 'del', name], { encoding: 'utf8' });
      expect(deleted.status).toBe(0);
      expect(spawnSync('ip', ['netns', 'exec', name, 'true']).status).not.toBe(0);
      const atDeletion = gatherer.packets().length;
      const report = await sending;
      expect(report.sent).toBe(60);
      expect(await gatherer.until(() => gatherer.packets().length >= 60, 5000)).toBe(true);
      expect(atDeletion).toBeLessThan(60);
      // Sequence numbers run on: nothing was lost when the name went away.
      expect(gatherer.gaps()).toEqual([]);
      const started = Date.now();
      await gatherer.close();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(() => createCollector({ nflog: [GROUP], netns: name })).toThrow(new RegExp(`network namespace ${name} does not exist`));
    } finally {
      await gatherer.close();
      await sending.catch(() => undefined);
    }
  });
});
