// A worker thread of test/kernel/faults-many.test.ts: creates its own
// collector, reports when it is ready, counts packets until it has `expected`
// (then closes and reports), or, with keepOpen, collects until terminated.
const { parentPort, workerData } = require('node:worker_threads');
const { createCollector } = require('../../../dist/collector.js');

const { netns, group, expected, keepOpen } = workerData;
let collector;
try {
  collector = createCollector({ nflog: [group], netns, qthreshold: 1 });
} catch (err) {
  parentPort.postMessage({ error: err.message });
  process.exit(1);
}
parentPort.postMessage({ ready: true });
(async () => {
  let packets = 0;
  const groups = new Set();
  for await (const batch of collector.batches()) {
    for (const record of batch) {
      if (record.kind !== 'packet') continue;
      packets++;
      groups.add(record.group);
    }
    if (!keepOpen && packets >= expected) collector.close();
  }
  parentPort.postMessage({ packets, groups: [...groups], delivered: collector.stats().delivered });
})();
