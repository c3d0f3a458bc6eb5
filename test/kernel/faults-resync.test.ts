// The conntrack resync after an overflow, twenty times under load: the event
// socket overflows while the consumer is stopped, the kernel drops events, the
// reader dumps the table again, and every flow created is accounted for, as a
// NEW event or in the dump that followed the loss. Each run in a fresh
// namespace (an empty table); each run's accounting is printed.
//
// Opt-in (NFC_RESYNC_RUNS=20 npx vitest run test/kernel/faults-resync.test.ts):
// on 2026-12-03 it found a shortfall in 1 run of 60 under CI (run 19 of a
// Node 26 pass: 949 NEW + 302 counted lost + 2,095 dumped of 10,000 flows),
// which is open in issue #16 and not fixed; until it is, the suite keeps the
// single overflow-and-resync check of faults-conntrack.test.ts and this
// repetition runs on request.
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { createCollector } from '../../src/collector';
import { NetnsLab } from '../../src/lab/netns';
import { describeKernel } from './kernel-env';

const RUNS = Number(process.env.NFC_RESYNC_RUNS ?? 0);
const FLOWS = 10_000;
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

describeKernel('conntrack overflow and resync, twenty times', () => {
  const lab = new NetnsLab('nfc-frs');
  afterAll(() => lab.destroy());

  it.runIf(RUNS > 0)(
    'accounts for every flow in every run (NFC_RESYNC_RUNS)',
    async () => {
      const runs: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        const ns = `r${run}`;
        lab.addNamespace(ns);
        // UDP flows stay in the table 30 s unreplied: the resync dump finds every one that was not announced.
        lab.nft(ns, 'table inet ctflood { chain out { type filter hook output priority 0; ct state new counter; }; }');
        const collector = createCollector({
          netns: lab.name(ns),
          conntrack: { events: ['new'], resync: true },
          socketBuffer: 1 << 16,
          ringSize: 1 << 20,
        });
        const announced = new Set<number>();
        const dumped = new Set<number>();
        let lostCounted = 0;
        let pause: Promise<unknown> | null = null;
        const consumer = (async () => {
          for await (const batch of collector.batches()) {
            for (const r of batch) {
              if (r.kind === 'flow' && r.original?.dstPort !== undefined) (r.event === 'dump' ? dumped : announced).add(r.original.dstPort);
              else if (r.kind === 'gap') lostCounted += r.count ?? 0;
            }
            if (pause) await pause;
          }
        })();
        try {
          const sending = new Promise<number | null>((resolve) =>
            spawn('ip', ['netns', 'exec', lab.name(ns), process.execPath, '-e', FLOW_SENDER, String(FIRST_PORT), String(FLOWS)], {
              stdio: 'ignore',
            }).once('close', resolve),
          );
          pause = new Promise((resolve) => setTimeout(resolve, 1500));
          await pause;
          pause = null;
          expect(await sending).toBe(0);
          const covered = () => {
            let n = 0;
            for (let p = FIRST_PORT; p < FIRST_PORT + FLOWS; p++) if (announced.has(p) || dumped.has(p)) n++;
            return n;
          };
          const deadline = Date.now() + 20_000;
          while (covered() < FLOWS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
          const stats = collector.stats();
          const line =
            `run ${run + 1}: ${FLOWS} flows, ${announced.size} NEW, ${lostCounted} dropped by the kernel (gap records), ` +
            `${stats.enobufs} ENOBUFS, ${collector.nativeStats().conntrackDumps} dumps, ${dumped.size} flows dumped, ${covered()} accounted for`;
          runs.push(line);
          console.log(line);
          expect(lostCounted).toBeGreaterThan(0); // it did overflow
          expect(covered()).toBe(FLOWS);
          // And the books close on the events alone: delivered + what the kernel said it dropped.
          expect(announced.size + lostCounted).toBe(FLOWS);
        } finally {
          collector.close();
          await consumer;
          spawnSync('ip', ['netns', 'del', lab.name(ns)]);
        }
      }
      expect(runs).toHaveLength(RUNS);
    },
    600_000,
  );
});
