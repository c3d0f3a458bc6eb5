// Conntrack events overflowing while the consumer is stopped: the reader
// fills the ring, the event socket fills, the kernel drops events and says so
// (ENOBUFS), and the loss becomes gap records. Conntrack events carry no
// sequence numbers: the reader reads the socket's drop counter, so the gaps'
// counts are exact. The books close twice: NEW events delivered + the gaps'
// counts = flows the rule counted, and the counts add up to the kernel's own
// drop counter for the socket (/proc/net/netlink Drops).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { NetnsLab } from '../../src/lab/netns';
import { describeKernel } from './kernel-env';
import { NETLINK_NETFILTER, namespaceNetlinkSockets, stopSleepers } from './netlink-sockets';

const FLOWS = 40_000;
const FIRST_PORT = 20_000;

// One datagram to each of `count` ports, 256 in flight at a time: `count` new flows. Bounded in time.
const FLOW_SENDER = `
const socket = require('node:dgram').createSocket('udp4');
const [first, count] = process.argv.slice(1).map(Number);
let sent = 0;
function burst() {
  let inFlight = 0;
  for (let i = 0; i < 256 && sent < count; i++, sent++) {
    inFlight++;
    socket.send(Buffer.alloc(8), first + sent, '127.0.0.1', () => { if (--inFlight === 0) next(); });
  }
}
function next() { if (sent < count) setTimeout(burst, 1); else socket.close(); }
burst();
setTimeout(() => process.exit(3), 30000).unref();
`;

function sendFlows(lab: NetnsLab): Promise<number | null> {
  const child = spawn('ip', ['netns', 'exec', lab.name('a'), process.execPath, '-e', FLOW_SENDER, String(FIRST_PORT), String(FLOWS)], {
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('close', resolve));
}

function newFlowsCounted(lab: NetnsLab): number {
  const match = /counter packets (\d+)/.exec(lab.exec('a', 'nft', ['list', 'chain', 'inet', 'ctflood', 'out']));
  if (!match) throw new Error('no counter');
  return Number(match[1]);
}

describeKernel('conntrack events overflowing while the consumer is stopped', () => {
  const lab = new NetnsLab('nfc-fct');

  beforeAll(() => {
    lab.addNamespace('a');
    // The ct rule makes conntrack track the namespace's traffic and counts the flows it creates.
    lab.nft('a', 'table inet ctflood { chain out { type filter hook output priority 0; ct state new counter; }; }');
  });
  afterAll(() => {
    stopSleepers();
    lab.destroy();
  });

  it('gives counted gap records, and delivered + kernel drops = flows created', async () => {
    const collector = createCollector({
      netns: lab.name('a'),
      conntrack: { events: ['new'] },
      socketBuffer: 1 << 16,
      ringSize: 1 << 20,
    });
    let news = 0;
    let gapRecords = 0;
    let counted = 0;
    let pause: Promise<unknown> | null = null;
    const consumer = (async () => {
      for await (const batch of collector.batches()) {
        for (const record of batch) {
          if (record.kind === 'flow' && record.event === 'new') news++;
          else if (record.kind === 'gap') {
            expect(record).toMatchObject({ source: 'conntrack', reason: 'enobufs' });
            expect(record.count).toBeGreaterThan(0);
            gapRecords++;
            counted += record.count ?? 0;
          }
        }
        if (pause) await pause;
      }
    })();
    try {
      const sending = sendFlows(lab);
      await new Promise((resolve) => setTimeout(resolve, 200));
      pause = new Promise((resolve) => setTimeout(resolve, 3000));
      await pause;
      pause = null;
      expect(await sending).toBe(0);
      const created = newFlowsCounted(lab);
      expect(created).toBe(FLOWS);
      // Let the consumer catch up with what the socket still holds.
      let drops = -1;
      const deadline = Date.now() + 10_000;
      for (;;) {
        const events = namespaceNetlinkSockets(lab.name('a')).filter((s) => s.protocol === NETLINK_NETFILTER && s.groups !== 0);
        expect(events).toHaveLength(1);
        drops = events[0].drops;
        if ((news + drops >= created && news + counted >= created) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const stats = collector.stats();
      console.log(
        `conntrack overflow: ${created} flows, ${news} NEW delivered, ${drops} dropped by the kernel, ${counted} counted in ${gapRecords} gap records, ${stats.enobufs} ENOBUFS`,
      );
      expect(drops).toBeGreaterThan(0);
      expect(news + drops).toBe(created);
      expect(counted).toBe(drops);
      expect(stats.lost).toBe(drops);
      expect(gapRecords).toBeGreaterThan(0);
      expect(stats.gaps).toBe(gapRecords);
      // One ENOBUFS per overflow; drops the kernel made after saying so get gap records of their own.
      expect(stats.enobufs).toBeGreaterThan(0);
      expect(gapRecords).toBeGreaterThanOrEqual(stats.enobufs);
      expect(collector.nativeStats().conntrackEnobufs).toBe(stats.enobufs);
      expect(stats.flowsNew).toBe(news);
    } finally {
      collector.close();
      await consumer;
    }
  });
});
