#!/usr/bin/env node
'use strict';
// NFLOG burst benchmark: the same burst of logged UDP packets, read by each
// contender in turn, inside a throwaway network namespace.
//
//   node scripts/bench/nflog-burst.js [--packets N] [--contenders LIST] [--runs K] [options]
//
// Contenders (comma-separated; default: all five):
//   collector-ecs     node dist/cli/main.js --format ecs   (ECS documents to /dev/null)
//   collector-api     scripts/bench/records-consumer.js: the library API (createCollector,
//                     batches()), counting records; no formatting, no output
//   collector-record  node dist/cli/main.js --format record
//   floor             scripts/bench/nflog-floor.c: libnetfilter_log, count in the callback, nothing else
//   ulogd             ulogd2 (Debian's /usr/sbin/ulogd) NFLOG→BASE→IFINDEX→IP2STR→HWHDR→JSON to a file
//
// For each contender and run: start it, wait until group 51 is bound in the
// namespace (/proc/net/netfilter/nfnetlink_log) plus 1 s, send N datagrams to
// 127.0.0.1:9000 from inside the namespace (scripts/bench/udp-flood.c),
// take "sent" from the nft rule's counter (what the kernel logged), then wait
// for the contender to go idle (2 s without events) and record what it
// delivered, its CPU (user+sys, whole process lifetime, from GNU time's
// rusage) and its peak RSS. Prints a Markdown table of medians; raw results go
// to bench-results/ (git-ignored).
//
// Needs root, iproute2, nft, cc and libnetfilter-log-dev (scripts/setup-system.sh);
// ulogd2 + ulogd2-json for the ulogd contender; `npm run build` for the collector.
// It only ever touches the namespace it creates (nfc-bench<pid>-a), which it
// deletes at the end, on error and on SIGINT/SIGTERM.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const bench = require('./lib');

const { ROOT, ULOGD, ULOGD_PLUGINS, int, sleep, log, median, fmt, fmtInt, lastJsonLine, runAsync } = bench;
bench.configure({ tag: 'bench', syncTimeoutMs: 60_000 });

const GROUP = 51;
const PORT = 9000;
const SCANS = ['udp4', 'syn4', 'udp6'];
const ALL_CONTENDERS = ['collector-ecs', 'collector-api', 'collector-record', 'floor', 'ulogd'];

const USAGE = bench.usage(
  'nflog-burst',
  `  --packets N          datagrams per burst (default 1000000)
${bench.usageOfContenders(ALL_CONTENDERS)}  --size BYTES         UDP payload bytes per datagram (default 64)
  --rate PPS           send at a steady rate instead of as fast as possible (default 0: flat out)
  --idle-ms MS         a contender is done after MS without events (default 2000)
  --qthreshold N       NFLOG qthreshold given to every contender (default 64)
  --flush-timeout MS   NFLOG flush timeout, a multiple of 10 ms (default 10)
  --socket-buffer B    netlink receive buffer, SO_RCVBUFFORCE (default 67108864)
  --max-drain S        longest wait for a contender after the burst, seconds (default 180)
  --sentinel           after the burst, once the contender's socket is empty, log one more
                       packet: it reveals (by NFULA_SEQ) entries dropped at the burst's end
  --ports N            send to N destination ports in turn (default 1: one flow), so that no
                       two packets in a row share a flow (1-56535)
  --scan MODE          a scan or flood where no two packets share a flow (scan-flood.c): udp4 (UDP
                       to 127.1.0.0/16), syn4 (TCP SYNs, distinct source and destination ports, raw
                       socket) or udp6 (UDP to 2001:db8:5ca::/64, routed locally); each packet to the
                       next of --ports ports (default 50000) and the next of --addresses addresses
                       (default 101, prime to the ports: 5 M packets before a flow repeats), logged by
                       'log prefix "IPTABLES: DROP " group 51' and dropped on input
  --addresses N        destination addresses of --scan (1-65535, default 101)
`,
);

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    packets: 1_000_000,
    contenders: ALL_CONTENDERS.slice(),
    runs: 1,
    size: 64,
    rate: 0,
    idleMs: 2000,
    qthreshold: 64,
    flushTimeoutMs: 10,
    socketBuffer: 64 * 1024 * 1024,
    maxDrainS: 180,
    sentinel: false,
    ports: 1,
    scan: null,
    addresses: 101,
    out: null,
    keepTmp: false,
    help: false,
  };
  const ints = {
    '--packets': ['packets', 1, 100_000_000],
    '--size': ['size', 0, 65507],
    '--rate': ['rate', 0, 100_000_000],
    '--idle-ms': ['idleMs', 100, 600_000],
    '--qthreshold': ['qthreshold', 1, 1_000_000],
    '--socket-buffer': ['socketBuffer', 4096, 1 << 30],
    '--ports': ['ports', 1, 56535],
    '--addresses': ['addresses', 1, 65535],
  };
  const parsed = bench.parseOptions(argv, o, ALL_CONTENDERS, ints, (flag, value) => {
    if (flag === '--sentinel') {
      o.sentinel = true;
    } else if (flag === '--scan') {
      o.scan = value();
      if (!SCANS.includes(o.scan)) throw new Error(`--scan must be one of ${SCANS.join(', ')}, got '${o.scan}'`);
    } else if (flag === '--flush-timeout') {
      o.flushTimeoutMs = int(flag, value(), 0, 1_000_000);
      if (o.flushTimeoutMs % 10 !== 0) throw new Error('--flush-timeout must be a multiple of 10 ms (NFLOG counts in 10 ms units)');
    } else {
      return false;
    }
    return true;
  });
  if (o.scan && !argv.some((a) => a === '--ports' || a.startsWith('--ports='))) o.ports = 50_000;
  return parsed;
}

// ---------------------------------------------------------------- helpers

/** Counts '\n' in a file without loading it whole. */
async function countLines(file) {
  let lines = 0;
  let bytes = 0;
  const stream = fs.createReadStream(file, { highWaterMark: 4 << 20 });
  for await (const chunk of stream) {
    bytes += chunk.length;
    let at = chunk.indexOf(10);
    while (at !== -1) {
      lines++;
      at = chunk.indexOf(10, at + 1);
    }
  }
  return { lines, bytes };
}

// ---------------------------------------------------------------- the lab

/** The destination ports of the burst: 9000, or 9000-(9000+N-1) with --ports N. */
const dports = (o) => (o.ports > 1 ? `${PORT}-${PORT + o.ports - 1}` : String(PORT));

/** What the scan's packets match (the log rule and the input drop). */
function scanMatch(o) {
  const ports = dports(o);
  if (o.scan === 'udp4') return `ip daddr 127.1.0.0/16 udp dport ${ports}`;
  if (o.scan === 'syn4') return `ip daddr 127.1.0.0/16 tcp dport ${ports} tcp flags syn`;
  return `ip6 daddr 2001:db8:5ca::/64 udp dport ${ports}`;
}

const scanRuleset = (o) => `table inet bench {
  chain out {
    type filter hook output priority 0;
    ${scanMatch(o)} counter log prefix "IPTABLES: DROP " group ${GROUP}
  }
  chain in {
    type filter hook input priority 0;
    ${scanMatch(o)} drop
  }
}
`;

const ruleset = (o) =>
  o.scan
    ? scanRuleset(o)
    : `table inet bench {
  chain out {
    type filter hook output priority 0;
    udp dport ${dports(o)} counter log group ${GROUP}
  }
  chain in {
    type filter hook input priority 0;
    udp dport ${dports(o)} drop
  }
}
`;

const nftCounter = (nsName) => bench.nftCounter(nsName, 'bench');

/** Port ids bound to our group in the namespace (/proc/net/netfilter/nfnetlink_log is per namespace). */
function groupBinders(ctx) {
  return bench
    .readNsFile(ctx, 'netfilter/nfnetlink_log')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && Number(f[0]) === GROUP)
    .map((f) => Number(f[1]));
}

/** Receive-queue bytes and dropped datagrams of the netlink socket with this port id (/proc/net/netlink). */
function netlinkSocket(ctx, portid) {
  return bench.netfilterSockets(ctx).find((s) => s.portid === portid) ?? null;
}

// ---------------------------------------------------------------- contenders

// Extra node options for the collector contenders, e.g. to profile them:
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof).
const NODE_ARGS = (process.env.BENCH_NODE_ARGS || '').split(/\s+/).filter(Boolean);

/** The command of a contender (bench.startContender runs it under GNU time, in the namespace but for the collector). */
function contenderArgv(name, ctx, runDir) {
  const { o, nsName, tools } = ctx;
  if (name === 'collector-api') {
    return [
      process.execPath,
      ...NODE_ARGS,
      path.join(__dirname, 'records-consumer.js'),
      '--nflog',
      String(GROUP),
      '--netns',
      nsName,
      '--idle-exit',
      String(o.idleMs),
      '--qthreshold',
      String(o.qthreshold),
      '--flush-timeout',
      String(o.flushTimeoutMs),
      '--socket-buffer',
      String(o.socketBuffer),
    ];
  }
  if (name.startsWith('collector-')) {
    const format = name.slice('collector-'.length);
    // The CLI enters the namespace itself (--netns); it runs from the host side.
    return [
      process.execPath,
      ...NODE_ARGS,
      path.join(ROOT, 'dist', 'cli', 'main.js'),
      '--nflog',
      String(GROUP),
      '--netns',
      nsName,
      '--format',
      format,
      '--output',
      '/dev/null',
      '--idle-exit',
      String(o.idleMs),
      '--stats',
      '--qthreshold',
      String(o.qthreshold),
      '--flush-timeout',
      String(o.flushTimeoutMs),
      '--socket-buffer',
      String(o.socketBuffer),
    ];
  }
  if (name === 'floor') {
    const maxS = Math.min(3600, Math.ceil(o.maxDrainS + ctx.floodMaxS + 60));
    return [
      tools.floor,
      String(GROUP),
      String(o.qthreshold),
      String(o.flushTimeoutMs / 10),
      String(o.idleMs),
      String(maxS),
      String(o.socketBuffer),
    ];
  }
  if (name === 'ulogd') {
    // Option names as in Debian's shipped /etc/ulogd.conf and the plugins' own keys (ulogd 2.0.8).
    const plugins = ['inppkt_NFLOG', 'raw2packet_BASE', 'filter_IFINDEX', 'filter_IP2STR', 'filter_HWHDR', 'output_JSON'];
    return bench.ulogdCommand(runDir, plugins, 'log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON', [
      '[log1]',
      `group=${GROUP}`,
      ...bench.ulogdBufferLines(o.socketBuffer),
      `netlink_qthreshold=${o.qthreshold}`,
      `netlink_qtimeout=${Math.max(1, o.flushTimeoutMs / 10)}`,
      'seq_local=1',
    ]);
  }
  throw new Error(`unknown contender ${name}`);
}

// ---------------------------------------------------------------- one run of one contender

async function runOne(name, run, ctx) {
  const { o, nsName, tools } = ctx;
  const runDir = path.join(ctx.tmpDir, `${name}-${run}`);
  fs.mkdirSync(runDir, { recursive: true });
  const result = { contender: name, run, packets: o.packets, size: o.size };

  // The group must be free (the previous contender has let go of it).
  await bench.waitWhile(
    () => groupBinders(ctx).length > 0,
    100,
    100,
    () => `group ${GROUP} is still bound in ${nsName} by port ${groupBinders(ctx).join(',')}`,
  );

  const h = bench.startContender(name, contenderArgv(name, ctx, runDir), runDir, ctx);
  try {
    // Bound = the group shows up in the namespace's nfnetlink_log table.
    const portid = await bench.waitReady(h, () => groupBinders(ctx)[0], `did not bind group ${GROUP}`, result);
    if (result.error) return result;

    const sock0 = netlinkSocket(ctx, portid);
    const before = nftCounter(nsName);
    const floodArgs = o.scan
      ? [tools.scan, o.scan, String(o.packets), String(ctx.floodMaxS), String(PORT), String(o.ports), String(o.addresses)]
      : [
          tools.flood,
          '127.0.0.1',
          String(PORT),
          String(o.packets),
          String(o.size),
          String(ctx.floodMaxS),
          String(o.rate),
          '128',
          String(o.ports),
        ];
    const flood = await runAsync('ip', ['netns', 'exec', nsName, ...floodArgs], (ctx.floodMaxS + 30) * 1000);
    const floodEnd = Date.now();
    const afterFlood = nftCounter(nsName);
    const floodReport = lastJsonLine(flood.stdout);
    if (!floodReport) throw new Error(`udp-flood failed (${flood.code}): ${flood.stderr.trim()}`);
    result.senderSent = floodReport.sent;
    result.senderErrors = floodReport.errors;
    result.burstSeconds = floodReport.seconds;
    result.sendRate = (afterFlood - before) / floodReport.seconds;
    const deadline = floodEnd + o.maxDrainS * 1000;

    // Drops on the contender's socket, as the kernel counts them (datagrams, not entries).
    let sock = sock0;
    const sampleSocket = () => {
      const now = netlinkSocket(ctx, portid);
      if (now) sock = now;
      return now;
    };

    if (o.sentinel) {
      // One more logged packet once the contender has emptied its socket: entries
      // dropped at the end of the burst leave a hole in NFULA_SEQ that only a
      // later entry reveals, so this gives sequence-based loss counting its chance.
      while (Date.now() < deadline && !h.exited) {
        const now = sampleSocket();
        if (!now || now.rmem === 0) break;
        await sleep(50);
      }
      if (!h.exited) {
        const one = await runAsync(
          'ip',
          ['netns', 'exec', nsName, tools.flood, '127.0.0.1', String(PORT), '1', String(o.size), '5'],
          30_000,
        );
        if (one.code !== 0) throw new Error(`sentinel send failed: ${one.stderr.trim()}`);
        result.sentinelAfterS = (Date.now() - floodEnd) / 1000;
      }
    }
    result.sent = nftCounter(nsName) - before;

    // Wait for the contender to go idle.
    const idle = await bench.waitIdle(h, {
      outFile: name === 'ulogd' ? path.join(runDir, 'ulogd.json') : null,
      since: floodEnd,
      deadline,
      idleMs: o.idleMs,
      sample: sampleSocket,
    });
    if (idle.timedOut) result.timedOut = true;
    if (sock0 && sock) result.socketDrops = sock.drops - sock0.drops;
    result.drainSeconds = Math.max(0, (idle.lastActivity - floodEnd) / 1000);
    result.exit = h.code ?? h.signal;
  } finally {
    clearInterval(h.sampler);
    if (!h.exited) await bench.stopContender(h, 2000);
  }

  // What the contender delivered and what it says it lost.
  if (name.startsWith('collector-')) {
    const stats = lastJsonLine(h.stderr);
    if (!stats) {
      result.error = `no --stats line on stderr (exit ${result.exit}): ${bench.stderrTail(h)}`;
    } else {
      result.delivered = stats.delivered;
      result.ownReport = {
        lost: stats.lost,
        gaps: stats.gaps,
        enobufs: stats.enobufs,
        ringFull: stats.ringFull,
        truncated: stats.truncated,
        decodeErrors: stats.decodeErrors,
        lossUncounted: stats.lossUncounted === true ? 1 : 0, // "lost" is only a lower bound
      };
      result.ownLost = stats.lost;
      result.stats = stats;
    }
  } else if (name === 'floor') {
    const r = lastJsonLine(h.stdout);
    if (!r) result.error = `no result line (exit ${result.exit}): ${h.stderr.trim()}`;
    else {
      result.delivered = r.delivered;
      result.ownReport = { lost: r.lost_seq, enobufs: r.enobufs };
      result.ownLost = r.lost_seq;
      result.floor = r;
    }
  } else if (name === 'ulogd') {
    const out = path.join(runDir, 'ulogd.json');
    const counted = fs.existsSync(out) ? await countLines(out) : { lines: 0, bytes: 0 };
    result.delivered = counted.lines;
    result.outputBytes = counted.bytes;
    const { losingEventsNotices, maxBufferNotices } = bench.ulogdNotices(runDir);
    result.ownReport = { losingEventsNotices, maxBufferNotices };
    result.ownLost = null;
    if (fs.existsSync(out)) fs.rmSync(out); // can be gigabytes
  }

  bench.addUsage(result, h);
  if (typeof result.delivered === 'number') {
    result.lost = result.sent - result.delivered;
    if (typeof result.cpu === 'number' && result.delivered > 0) result.cpuPerMillion = result.cpu / (result.delivered / 1e6);
  }
  return result;
}

// ---------------------------------------------------------------- report

function summarize(results, contenders) {
  return bench.summarizeRuns(results, contenders, (s) => ({
    sent: s.m('sent'),
    ...bench.lossColumns(s, 'sent'),
    ...bench.costColumns(s),
    burstSeconds: s.m('burstSeconds'),
    sendRate: s.m('sendRate'),
    drainSeconds: s.m('drainSeconds'),
    socketDrops: s.m('socketDrops'),
  }));
}

function ownReportText(r) {
  if (r.name === 'ulogd') return bench.ulogdReportText(r);
  const parts = [`lost ${fmtInt(r.ownLost)}`];
  if (r.name.startsWith('collector-')) parts.push(`gaps ${fmtInt(r.gaps)}`);
  parts.push(`enobufs ${fmtInt(r.enobufs)}`);
  if (r.name.startsWith('collector-')) parts.push(`ringFull ${fmtInt(r.ringFull)}`);
  if (r.lossUncountedRuns > 0) parts.push(`lossUncounted in ${r.lossUncountedRuns}/${r.ok} runs`);
  return r.ownLost === null ? '—' : parts.join(', ');
}

function markdownTable(rows) {
  const head = [
    'contender',
    'sent (kernel)',
    'delivered',
    'lost',
    'lost (own report)',
    'socket drops',
    'CPU s (user+sys)',
    'CPU s / M delivered',
    '× floor',
    'peak RSS MiB',
    'burst s',
    'send kpps',
    'drain s',
  ];
  const cells = (r, ratio) => [
    fmtInt(r.sent),
    fmtInt(r.delivered),
    `${fmtInt(r.lost)} (${fmt(r.lostPct, 2)} %)`,
    ownReportText(r),
    fmtInt(r.socketDrops),
    fmt(r.cpu, 2),
    fmt(r.cpuPerMillion, 2),
    ratio,
    fmt(r.peakRssKiB / 1024, 1),
    fmt(r.burstSeconds, 2),
    fmt(r.sendRate / 1000, 0),
    fmt(r.drainSeconds, 1),
  ];
  return bench.markdownTable(head, rows, cells, (error) => 'failed: ' + error.replace(/\|/g, '/').slice(0, 160));
}

// ---------------------------------------------------------------- main

async function main() {
  bench.installSignalHandlers();
  const o = bench.readOptions('nflog-burst', parseArgs, USAGE);
  if (!o) return;
  if (process.getuid && process.getuid() !== 0) throw new Error('needs root (network namespaces, nft, NFLOG)');
  for (const tool of ['ip', 'nft']) if (!bench.which(tool)) throw new Error(`${tool} is not installed: run scripts/setup-system.sh`);

  const contenders = o.contenders.slice();
  const skipped = {};
  if (contenders.includes('ulogd')) {
    if (!fs.existsSync(ULOGD) || !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_output_JSON.so`)) {
      skipped.ulogd = `ulogd2/ulogd2-json not installed (${ULOGD}, ${ULOGD_PLUGINS})`;
    } else {
      // Debian's service runs in the host namespace: it cannot hold group 51 in
      // ours, but it would compete for CPU. Report it; never stop what isn't ours.
      const running = spawnSync('pgrep', ['-a', 'ulogd'], { encoding: 'utf8' }).stdout.trim();
      if (running) log(`warning: ulogd is already running on this machine (not ours): ${running.replace(/\n/g, '; ')}`);
    }
  }
  if (contenders.some((c) => c.startsWith('collector-')) && !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    for (const c of contenders) if (c.startsWith('collector-')) skipped[c] = 'dist/cli/main.js missing: run `npm run build`';
  }
  for (const [c, why] of Object.entries(skipped)) log(`skipping ${c}: ${why}`);

  const haveTime = bench.haveGnuTime();
  const tmpDir = bench.makeTmpDir('nfc-bench-', o.keepTmp);
  const tools = bench.buildTools(tmpDir, { flood: 'udp-flood', floor: 'nflog-floor', floorLib: 'netfilter_log' });
  if (o.scan) {
    tools.scan = path.join(tmpDir, 'scan-flood');
    bench.runSync(bench.which('cc') || 'gcc', ['-O2', '-Wall', '-o', tools.scan, path.join(__dirname, 'scan-flood.c')]);
  }
  log(`built udp-flood${o.scan ? ', scan-flood' : ''} and nflog-floor in ${tmpDir}`);

  const lab = bench.makeLab('nfc-bench', { projectLab: true, replaceExisting: true });
  lab.addNamespace('a');
  const nsName = lab.name('a');
  if (o.scan === 'udp6') lab.exec('a', 'ip', ['-6', 'route', 'add', 'local', '2001:db8:5ca::/64', 'dev', 'lo']);
  lab.nft('a', ruleset(o));
  log(
    o.scan
      ? `namespace ${nsName}: scan ${o.scan}, output rule "${scanMatch(o)} counter log prefix "IPTABLES: DROP " group ${GROUP}", input drop of the same`
      : `namespace ${nsName}: output rule "udp dport ${dports(o)} counter log group ${GROUP}", input drop of the same`,
  );

  // Flat out, ~400k/s here; the bound is generous and the sender stops at it regardless.
  const floodMaxS = Math.min(3600, Math.max(30, Math.ceil(o.rate > 0 ? (o.packets / o.rate) * 2 + 10 : o.packets / 50_000)));
  const ctx = { o, nsName, tools, tmpDir, haveTime, floodMaxS, anchor: await bench.startAnchor(nsName) };
  const results = await bench.runContenders(ctx, skipped, {
    what: `, ${o.packets.toLocaleString('en-US')} packets of ${o.size} bytes`,
    runOne,
    describe: (r) =>
      `sent ${r.sent} delivered ${r.delivered} lost ${r.lost} cpu ${fmt(r.cpu, 2)} s (${fmt(r.cpuPerMillion, 2)} s/M) rss ${fmt(r.peakRssKiB / 1024, 1)} MiB burst ${fmt(r.burstSeconds, 2)} s drain ${fmt(r.drainSeconds, 1)} s`,
  });

  const rows = summarize(results, contenders);
  const m = bench.machine();
  const what = o.scan
    ? `NFLOG scan ${o.scan}: ${o.packets.toLocaleString('en-US')} packets, each to the next of ${o.ports} ports (from ${PORT}) ` +
      `and of ${o.addresses} addresses (${scanMatch(o)}), nft 'log prefix "IPTABLES: DROP " group ${GROUP}', flat out`
    : `NFLOG burst: ${o.packets.toLocaleString('en-US')} UDP datagrams of ${o.size} bytes to 127.0.0.1:${dports(o)}${o.ports > 1 ? ' in turn' : ''} ` +
      `in a namespace, ${o.rate ? `${o.rate} pps` : 'flat out'}, nft "log group ${GROUP}" (no queue-threshold)`;
  const header = [
    `${what}, qthreshold ${o.qthreshold}, flush ${o.flushTimeoutMs} ms, socket buffer ${o.socketBuffer} B, idle ${o.idleMs} ms; ` +
      `${o.runs} run(s), medians${o.sentinel ? '; sentinel packet after the drain' : ''}.`,
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
  ];
  process.stdout.write(`${header.join('\n')}\n\n${markdownTable(rows)}\n`);
  bench.saveResults(o.scan ? `nflog-scan-${o.scan}` : 'nflog-burst', o, { options: o, machine: m, namespace: nsName, rows, results });
}

if (require.main === module) bench.runMain('nflog-burst', main);

module.exports = { main, parseArgs, median, markdownTable, summarize };
