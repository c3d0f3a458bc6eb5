#!/usr/bin/env node
'use strict';
// The "records without formatting" contender of the benchmarks: the library
// API as an application would use it (createCollector from dist/, consuming
// batches()), counting records and nothing else: no formatting, no output.
// What it costs is the reader thread, the ring and the decoders.
//
//   node scripts/bench/records-consumer.js [--nflog G] [--conntrack EVENTS] [--netns NS]
//        [--qthreshold N] [--flush-timeout MS] [--socket-buffer B] [--idle-exit MS]
//
// --conntrack takes a comma-separated list of new,update,destroy. It exits
// --idle-exit ms after the last record (once the first has arrived), or on
// SIGINT/SIGTERM, and prints collector.stats() as one JSON line on stderr,
// the same fields as the CLI's --stats (delivered, lost, gaps, enobufs, ...),
// and youngMiB: the size V8's young generation grew to.
//
// For memory studies: BENCH_BATCH_SIZE and BENCH_RING set the collector's
// batchSize and ringSize; BENCH_GC_PROFILE=FILE writes v8.GCProfiler's record
// of every GC during the run (the heap spaces before and after) to FILE.

const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

function parseArgs(argv) {
  const o = { nflog: [], conntrack: null, netns: undefined, idleExitMs: 2000 };
  const num = (flag, text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got '${text}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    switch (flag) {
      case '--nflog':
        o.nflog.push(num(flag, value));
        break;
      case '--conntrack':
        o.conntrack = String(value).split(',').filter(Boolean);
        break;
      case '--netns':
        o.netns = value;
        break;
      case '--qthreshold':
        o.qthreshold = num(flag, value);
        break;
      case '--flush-timeout':
        o.flushTimeoutMs = num(flag, value);
        break;
      case '--socket-buffer':
        o.socketBuffer = num(flag, value);
        break;
      case '--idle-exit':
        o.idleExitMs = num(flag, value);
        break;
      default:
        throw new Error(`unknown option '${flag}'`);
    }
  }
  if (o.nflog.length === 0 && !o.conntrack) throw new Error('give --nflog GROUP and/or --conntrack EVENTS');
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { createCollector } = require(path.join(ROOT, 'dist', 'index.js'));
  const options = { netns: o.netns };
  if (o.nflog.length > 0) options.nflog = o.nflog;
  if (o.conntrack) options.conntrack = { events: o.conntrack };
  if (o.qthreshold !== undefined) options.qthreshold = o.qthreshold;
  if (o.flushTimeoutMs !== undefined) options.flushTimeoutMs = o.flushTimeoutMs;
  if (o.socketBuffer !== undefined) options.socketBuffer = o.socketBuffer;
  if (process.env.BENCH_BATCH_SIZE) options.batchSize = Number(process.env.BENCH_BATCH_SIZE);
  if (process.env.BENCH_RING) options.ringSize = Number(process.env.BENCH_RING);
  const collector = createCollector(options);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => collector.close());
  process.stderr.write('ready\n');

  const gcp = process.env.BENCH_GC_PROFILE ? new (require('node:v8').GCProfiler)() : null;
  if (gcp) gcp.start();
  let records = 0;
  let idleTimer;
  for await (const batch of collector.batches()) {
    // Counting only: the records are decoded (that is the cost measured) and dropped.
    records += batch.length;
    if (records > 0) {
      if (idleTimer) idleTimer.refresh();
      else idleTimer = setTimeout(() => collector.close(), o.idleExitMs);
    }
  }
  if (idleTimer) clearTimeout(idleTimer);
  if (gcp) require('node:fs').writeFileSync(process.env.BENCH_GC_PROFILE, JSON.stringify(gcp.stop()));
  const young = require('node:v8')
    .getHeapSpaceStatistics()
    .find((s) => s.space_name === 'new_space');
  process.stderr.write(JSON.stringify({ ...collector.stats(), records, youngMiB: young && young.space_size / 1048576 }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`records-consumer: ${err.stack || err.message}\n`);
  process.exitCode = 1;
});
