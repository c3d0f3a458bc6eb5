#!/usr/bin/env node
// Shipper 2, batching to HTTP: NFLOG group → ECS → an Elasticsearch-style
// _bulk endpoint, one request per batch of up to 500 documents or 1 s, one
// request in flight. While a request is out the collector is not asked for
// more: the ring and the socket buffer the burst, and what the kernel then
// drops is counted (gap records, stats().lost). SIGTERM: the rest is shipped,
// then it exits.
//
//   node examples/http-bulk.js GROUP URL [NETNS]     (URL: http://127.0.0.1:9200/_bulk)
'use strict';
const { createCollector, packetToEcs } = require('netfilter-collector');

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  await response.arrayBuffer();
}

async function main() {
  const [group, url, netns] = process.argv.slice(2);
  const collector = createCollector({ nflog: [Number(group)], netns });
  process.once('SIGTERM', () => void collector.close());
  process.once('SIGINT', () => void collector.close());
  let shipped = 0;
  let failed = 0;
  for await (const batch of collector.batches({ maxRecords: 500, maxWaitMs: 1000 })) {
    let body = '';
    let docs = 0;
    for (const record of batch) {
      if (record.kind !== 'packet') continue;
      body += `{"create":{}}\n${JSON.stringify(packetToEcs(record))}\n`;
      docs++;
    }
    if (docs === 0) continue;
    try {
      await post(url, body);
      shipped += docs;
    } catch (err) {
      // A real shipper retries with backoff; this one counts and goes on.
      failed += docs;
      console.error(err.message);
    }
  }
  const s = collector.stats();
  console.error(JSON.stringify({ shipped, failed, delivered: s.delivered, lost: s.lost, lossUncounted: s.lossUncounted }));
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
