'use strict';
// Per-thread CPU and GC pauses of a node process, written when it exits:
// which threads (the main thread, the native reader "nfc-reader", V8's
// workers, libuv's) spent the process's CPU, and how much of the main
// thread's went to GC pauses. Load it with node's --require, e.g.
//
//   BENCH_THREAD_CPU=/tmp/threads BENCH_NODE_ARGS="--require ./scripts/bench/thread-cpu.js" \
//     node scripts/bench/nflog-burst.js …
//
// Each process writes one JSON line to $BENCH_THREAD_CPU.PID.json: the
// threads' CPU when the hook was loaded (`atLoad`) and at exit (`threads`),
// each {tid, name, user, system} in CPU-seconds, the main thread's tid being
// the pid; `process`: the whole process's, ended threads included; `gc`: the
// pauses V8's GCProfiler saw, by type {count, ms, and per GC on average the
// KiB left in the young generation and promoted to the old}; `youngMiB`: the young
// generation's size at exit; `memory`: the peak RSS and, at exit, the
// resident set's parts and V8's heap, in MiB.
// A thread that ends before the exit (the reader thread is joined by
// close()) is reported as last sampled (every 100 ms, `ended: true`).
const fs = require('node:fs');
const v8 = require('node:v8');

const out = process.env.BENCH_THREAD_CPU;
const TICKS = 100; // USER_HZ on Linux

/** utime and stime of a /proc stat line, in CPU-seconds, and its name. */
function parseStat(stat) {
  const close = stat.lastIndexOf(')');
  const f = stat.slice(close + 2).split(' ');
  // utime and stime (fields 14 and 15) are the 12th and 13th after the state.
  return { name: stat.slice(stat.indexOf('(') + 1, close), user: Number(f[11]) / TICKS, system: Number(f[12]) / TICKS };
}

function threads() {
  const list = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      list.push({ tid: Number(tid), ...parseStat(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')) });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return list;
}

if (out) {
  const atLoad = threads();
  const last = new Map();
  const sample = () => {
    for (const t of threads()) last.set(t.tid, t);
  };
  setInterval(sample, 100).unref();
  const gcp = new v8.GCProfiler();
  gcp.start();
  process.on('exit', () => {
    const now = threads();
    const alive = new Set(now.map((t) => t.tid));
    const ended = [...last.values()].filter((t) => !alive.has(t.tid)).map((t) => ({ ...t, ended: true }));
    const gc = {};
    const used = (heap, name) => heap.heapSpaceStatistics.find((x) => x.spaceName === name)?.spaceUsedSize ?? 0;
    for (const s of gcp.stop().statistics) {
      const g = (gc[s.gcType] ??= { count: 0, ms: 0, survivedKiB: 0, promotedKiB: 0 });
      g.count++;
      g.ms += s.cost / 1000;
      // What a young-generation GC kept in the young generation, and moved to the old one.
      g.survivedKiB += used(s.afterGC, 'new_space') / 1024;
      g.promotedKiB += (used(s.afterGC, 'old_space') - used(s.beforeGC, 'old_space')) / 1024;
    }
    for (const g of Object.values(gc)) {
      g.survivedKiB = Math.round(g.survivedKiB / g.count);
      g.promotedKiB = Math.round(g.promotedKiB / g.count);
    }
    // The whole process, ended threads included.
    const { user, system } = parseStat(fs.readFileSync('/proc/self/stat', 'utf8'));
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    // Memory at exit: the peak (VmHWM) and what the resident set is made of now, in MiB.
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    const heap = v8.getHeapStatistics();
    const mib = (n) => Math.round((n / 1048576) * 10) / 10;
    const memory = {
      peakMiB: mib(kib('VmHWM') * 1024),
      anonMiB: mib(kib('RssAnon') * 1024),
      fileMiB: mib(kib('RssFile') * 1024),
      v8PhysicalMiB: mib(heap.total_physical_size),
      v8MallocedMiB: mib(heap.malloced_memory),
      externalMiB: mib(heap.external_memory),
      // Transparent huge pages among the anonymous ones (the ring asks for them).
      hugeMiB: mib(Number(/^AnonHugePages:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) * 1024),
    };
    const line = {
      pid: process.pid,
      argv: process.argv.slice(1, 2),
      process: { user, system },
      atLoad,
      threads: [...now, ...ended],
      gc,
      youngMiB: young && young.space_size / 1048576,
      memory,
    };
    fs.writeFileSync(`${out}.${process.pid}.json`, `${JSON.stringify(line)}\n`);
  });
}
