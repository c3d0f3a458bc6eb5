#!/usr/bin/env node
'use strict';
// How much one collector costs per network namespace: file descriptors,
// threads, memory and time to attach, with NFLOG (one group) and conntrack
// (NEW and DESTROY) in each.
//
//   node scripts/bench/netns-scale.js [--counts 1,50,200,500]
//
// For each count, that many namespaces (nfc-scale<pid>-nK, each with a ct rule so
// conntrack runs there) are made, one collector attaches all of them (netns:
// [...]), and the process's open fds (/proc/self/fd), threads (/proc/self/task)
// and RSS are read before and after; then the collector is closed and the
// namespaces deleted. Prints one JSON line per count.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const { createCollector } = require(path.join(ROOT, 'dist', 'index.js'));
const { NetnsLab } = require(path.join(ROOT, 'dist', 'lab', 'netns.js'));

const countsArg = process.argv.indexOf('--counts');
const counts = (countsArg > 0 ? process.argv[countsArg + 1] : '1,50,200,500').split(',').map(Number);

const fds = () => fs.readdirSync('/proc/self/fd').length;
const threads = () => fs.readdirSync('/proc/self/task').length;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

async function main() {
  for (const count of counts) {
    const lab = new NetnsLab('nfc-scale');
    try {
      const names = [];
      for (let i = 0; i < count; i++) {
        names.push(lab.addNamespace(`n${i}`));
        lab.nft(`n${i}`, 'table inet scale { chain out { type filter hook output priority 0; ct state new counter; }; }');
      }
      global.gc?.();
      const before = { fds: fds(), threads: threads(), rss: rssMiB() };
      const started = process.hrtime.bigint();
      const collector = createCollector({
        nflog: [71],
        conntrack: { events: ['new', 'destroy'], enableSysctls: true },
        netns: names,
        ringSize: 1 << 24,
      });
      const attachMs = Number(process.hrtime.bigint() - started) / 1e6;
      // Let the link dumps arrive and be read.
      const consumer = (async () => {
        for await (const _ of collector.batches());
      })();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      global.gc?.();
      const after = { fds: fds(), threads: threads(), rss: rssMiB() };
      collector.close();
      await consumer;
      const row = {
        namespaces: count,
        fds: after.fds - before.fds,
        fdsPerNamespace: (after.fds - before.fds) / count,
        threads: after.threads - before.threads,
        rssMiB: +(after.rss - before.rss).toFixed(1),
        rssKiBPerNamespace: +(((after.rss - before.rss) * 1024) / count).toFixed(0),
        attachMs: +attachMs.toFixed(1),
        attachMsPerNamespace: +(attachMs / count).toFixed(2),
        fdsAfterClose: fds() - before.fds,
      };
      process.stdout.write(`${JSON.stringify(row)}\n`);
    } finally {
      lab.destroy();
    }
  }
}

main().catch((err) => {
  process.stderr.write(`netns-scale: ${err.stack || err.message}\n`);
  process.exitCode = 1;
});
