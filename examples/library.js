#!/usr/bin/env node
// Shipper 1, the library: NFLOG group → ECS documents, one JSON line each, on
// stdout. SIGTERM/SIGINT close the collector: what it still holds (the ring,
// the socket, the entries the kernel was batching) is handed to the loop, then
// the loop ends and the counts are final.
//
//   node examples/library.js GROUP [NETNS]
'use strict';
const { createCollector, packetToEcs } = require('netfilter-collector');

async function main() {
  const [group, netns] = process.argv.slice(2);
  const collector = createCollector({ nflog: [Number(group)], netns });
  const stop = () => void collector.close();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  collector.on('error', (err) => console.error('collector failed:', err.message));

  for await (const batch of collector.batches()) {
    let lines = '';
    for (const record of batch) {
      if (record.kind === 'packet') lines += `${JSON.stringify(packetToEcs(record))}\n`;
      else if (record.kind === 'gap') console.error(`lost ${record.count ?? 'an unknown number of'} events (${record.reason})`);
    }
    // Backpressure: wait for stdout before asking for more (the ring, then the kernel, hold the rest).
    if (!process.stdout.write(lines)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  const s = collector.stats();
  // delivered + lost is what the kernel logged; delivered = consumed + discarded.
  console.error(JSON.stringify({ delivered: s.delivered, consumed: s.consumed, discarded: s.discarded, lost: s.lost, lossUncounted: s.lossUncounted }));
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
