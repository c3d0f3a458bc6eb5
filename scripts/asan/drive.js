'use strict';
// Drives the native addon for scripts/asan/run.sh (run under the ASan/UBSan
// build, NFC_ADDON_PATH pointing at it): (a) a load test, a burst of NFLOG
// entries and conntrack events in a lab namespace, and (b) open/close cycles
// of collectors with NFLOG and conntrack sockets. Measures open fds and RSS
// around the cycles and prints one JSON line (prefix "ASAN-DRIVE ") with what
// it saw; run.sh judges it together with the sanitizer logs. Between the two,
// an overflow test sends the same traffic into a small ring and socket buffer
// read slowly, for the reader's wait-for-room, ENOBUFS and resync-dump paths.
//
//   node --expose-gc scripts/asan/drive.js [--packets N] [--flows N] [--cycles N]
//
// Needs root, iproute2 and nft; uses dist/ (npm run build:ts). Touches only
// its own namespace (nfc-asan<pid>-a), removed at the end and on signals.
const fs = require('node:fs');
const path = require('node:path');
const ROOT = path.resolve(__dirname, '..', '..');
const { createCollector } = require(path.join(ROOT, 'dist', 'index.js'));
const { NetnsLab } = require(path.join(ROOT, 'dist', 'lab', 'netns.js'));
const { sendUdp, openUdpFlows } = require(path.join(ROOT, 'dist', 'lab', 'traffic.js'));

// The ASan runtime is loaded by now; the traffic senders this spawns need not run under it.
delete process.env.LD_PRELOAD;

const GROUP = 61;
const PORT = 9000;
// Distinct UDP flows: the load test's from port 20000, the overflow test's from 43000 (new flows again).
const FLOW_PORT = 20000;
const OVERFLOW_FLOW_PORT = 43000;
const MAX_FLOWS = 65536 - OVERFLOW_FLOW_PORT;

function parseArgs(argv) {
  const o = { packets: 50_000, flows: 5_000, cycles: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const key = { '--packets': 'packets', '--flows': 'flows', '--cycles': 'cycles' }[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) throw new Error(`bad argument '${argv[i]} ${argv[i + 1] ?? ''}'`);
    o[key] = value;
    i++;
  }
  if (o.flows > MAX_FLOWS) throw new Error(`--flows must be at most ${MAX_FLOWS}`);
  return o;
}

const log = (msg) => console.log(`[asan-drive] ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function openFds() {
  return fs.readdirSync('/proc/self/fd').length;
}

function rssKb() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

/** Reads batches until nothing arrives for idleMs (or maxMs passes); returns counts by kind. */
async function drain(collector, idleMs, maxMs, delayMs = 0) {
  const counts = { packet: 0, flow: 0, gap: 0, decodeErrors: 0 };
  const started = Date.now();
  let last = Date.now();
  let pending = collector.nextBatch();
  while (Date.now() - started < maxMs) {
    const timer = sleep(200).then(() => 'tick');
    const batch = await Promise.race([pending, timer]);
    if (batch === 'tick') {
      if (Date.now() - last > idleMs) break;
      continue;
    }
    if (batch === null) break;
    last = Date.now();
    for (const r of batch) {
      counts[r.kind]++;
      if (r.decodeError) counts.decodeErrors++;
    }
    // A slow consumer: the ring fills, the reader waits for room, the socket overflows.
    if (delayMs) await sleep(delayMs);
    pending = collector.nextBatch();
  }
  return counts;
}

async function loadTest(lab, ns, o) {
  const collector = createCollector({
    nflog: [GROUP],
    copyMode: 'packet',
    conntrack: { events: ['new', 'update', 'destroy'] },
    netns: ns,
    ringSize: 16 * 1024 * 1024,
    socketBuffer: 64 * 1024 * 1024,
    qthreshold: 64,
  });
  try {
    await sleep(300);
    const reading = drain(collector, 3000, 180_000);
    const t0 = Date.now();
    sendUdp(lab, 'a', '127.0.0.1', PORT, o.packets, 64);
    openUdpFlows(lab, 'a', '127.0.0.1', FLOW_PORT, o.flows);
    const sendSeconds = (Date.now() - t0) / 1000;
    const counts = await reading;
    return { sendSeconds, ...counts, native: collector.nativeStats() };
  } finally {
    collector.close(); // an open collector keeps the process alive
  }
}

/** The same traffic into a small ring and socket buffer read slowly: ENOBUFS, a full ring, conntrack resync dumps. */
async function overflowTest(lab, ns, o) {
  const collector = createCollector({
    nflog: [GROUP],
    copyMode: 'packet',
    conntrack: { events: ['new', 'update', 'destroy'], dump: true, resync: true },
    netns: ns,
    ringSize: 1 << 20,
    socketBuffer: 64 * 1024,
    qthreshold: 64,
  });
  try {
    await sleep(300);
    const reading = drain(collector, 3000, 180_000, 20);
    sendUdp(lab, 'a', '127.0.0.1', PORT, o.packets, 64);
    openUdpFlows(lab, 'a', '127.0.0.1', OVERFLOW_FLOW_PORT, o.flows);
    const counts = await reading;
    return { ...counts, native: collector.nativeStats() };
  } finally {
    collector.close();
  }
}

async function cycles(ns, n) {
  const open = () =>
    createCollector({
      nflog: [GROUP + 1],
      conntrack: { events: ['new', 'destroy'] },
      netns: ns,
      ringSize: 1 << 20,
      socketBuffer: 1 << 20,
    });
  // Warm up (lazy allocations of libraries, V8 code), then measure.
  for (let i = 0; i < 20; i++) open().close();
  await sleep(100);
  await settleAsync();
  const before = { fds: openFds(), rssKb: rssKb() };
  const t0 = Date.now();
  let refused = 0;
  for (let i = 0; i < n; i++) {
    const c = open();
    // Let some cycles see their reader thread run and the async handle fire.
    if (i % 50 === 0) await sleep(5);
    c.close();
    // Every 10th, a start the kernel side refuses (no such namespace): the constructor's error path.
    if (i % 10 === 7) {
      try {
        createCollector({ nflog: [GROUP + 1], netns: '/run/netns/nfc-asan-missing', ringSize: 1 << 20, socketBuffer: 1 << 20 }).close();
      } catch {
        refused++;
      }
    }
    if (i % 100 === 99) await sleep(0); // let libuv close the async handles
  }
  await sleep(200);
  await settleAsync();
  const after = { fds: openFds(), rssKb: rssKb() };
  return { cycles: n, refused, seconds: (Date.now() - t0) / 1000, before, after };
}

/** GC, then let N-API finalizers (deferred to the event loop) and libuv handle closes run. */
async function settleAsync() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(50);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (typeof global.gc !== 'function') throw new Error('run with --expose-gc');
  const why = NetnsLab.unavailable();
  if (why) throw new Error(`cannot build the lab: ${why}`);
  const lab = new NetnsLab('nfc-asan');
  const cleanup = () => {
    try {
      lab.destroy();
    } catch {
      // already gone
    }
  };
  process.on('SIGINT', () => (cleanup(), process.exit(130)));
  process.on('SIGTERM', () => (cleanup(), process.exit(143)));
  try {
    const ns = lab.addNamespace('a');
    lab.nft(
      'a',
      `table inet asan {
        chain input {
          type filter hook input priority 0;
          udp dport ${PORT} log group ${GROUP}
        }
        chain output {
          type filter hook output priority 0;
          ct state new counter
        }
      }\n`,
    );
    // Accounting and timestamps on in the lab namespace: the flows carry them and the collector does not warn.
    lab.exec('a', 'sysctl', ['-q', '-w', 'net.netfilter.nf_conntrack_acct=1', 'net.netfilter.nf_conntrack_timestamp=1']);
    const fdsAtStart = openFds();
    log(`load test: ${o.packets} logged UDP datagrams and ${o.flows} UDP flows in ${ns}`);
    const load = await loadTest(lab, ns, o);
    log(`load test: ${JSON.stringify(load)}`);
    log('overflow test: the same traffic into a 1 MiB ring and a 64 KiB socket buffer, read slowly');
    const overflow = await overflowTest(lab, ns, o);
    log(`overflow test: ${JSON.stringify(overflow)}`);
    log(`${o.cycles} open/close cycles`);
    const cyc = await cycles(ns, o.cycles);
    log(`cycles: ${JSON.stringify(cyc)}`);
    console.log(`ASAN-DRIVE ${JSON.stringify({ options: o, fdsAtStart, load, overflow, cycles: cyc })}`);
  } finally {
    cleanup();
  }
}

main().catch((err) => {
  console.error(`[asan-drive] ${err?.stack ? err.stack : err}`);
  process.exitCode = 1;
  // Should anything still hold the event loop open, do not hang.
  setTimeout(() => process.exit(1), 2000).unref();
});
