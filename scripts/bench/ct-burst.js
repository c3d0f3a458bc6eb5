#!/usr/bin/env node
'use strict';
// Conntrack burst benchmark: the same burst of new UDP flows, then a flush of
// the table, read by each contender in turn as conntrack NEW and DESTROY
// events, inside a throwaway network namespace.
//
//   node scripts/bench/ct-burst.js [--flows N] [--runs K] [--contenders LIST] [--socket-buffer B] [options]
//
// Contenders (comma-separated; default: all four):
//   collector-ecs   node dist/cli/main.js --conntrack new,destroy --format ecs (ECS documents to /dev/null)
//   collector-api   scripts/bench/records-consumer.js --conntrack new,destroy: the library API, counting records
//   floor           scripts/bench/ct-floor.c: libnetfilter_conntrack, count in the callback, nothing else
//   ulogd           ulogd2 (Debian's /usr/sbin/ulogd) NFCT→IP2STR→JSON to a file on /dev/shm
// and, on request (IPFIX export; both send to an nfcapd of the run, in the namespace):
//   collector-ipfix node dist/cli/main.js --conntrack new,destroy --format ipfix --output udp:127.0.0.1:P
//                   (NAT events of translated flows at NEW and DESTROY, and a flow record at DESTROY)
//   ulogd-ipfix     ulogd2 NFCT→IPFIX (its output plugin: one record per event, IPv4, the original tuple)
// --nat adds a source NAT rule (127.0.0.1 → 127.0.0.250), so every flow is a translated one.
//
// For each contender and run: make sure the namespace's conntrack table is
// empty, start the contender, wait until its ctnetlink socket has joined the
// NEW and DESTROY groups in the namespace (/proc/net/netlink) plus 1 s, create
// N distinct UDP flows from inside the namespace (scripts/bench/ct-flood.c),
// take "NEW (kernel)" from the nft rule "ct state new counter", take the table
// count (conntrack -C), flush the table (conntrack -F: one DESTROY event per
// entry, timed), check it is empty, then wait for the contender to go idle and
// record the NEW and DESTROY events it delivered, its CPU (user+sys, whole
// process lifetime, GNU time's rusage) and its peak RSS. Prints a Markdown table
// of medians; raw results go to bench-results/ (git-ignored).
//
// Needs root, iproute2, nft, conntrack (conntrack-tools), cc and
// libnetfilter-conntrack-dev; ulogd2 + ulogd2-json for the ulogd contender;
// `npm run build` for the collector. It only ever touches the namespace it
// creates (nfc-ctb<pid>-a), which it deletes at the end, on error and on
// SIGINT/SIGTERM.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const bench = require('./lib');

const { ROOT, ULOGD, ULOGD_PLUGINS, int, sleep, log, median, fmt, fmtInt, lastJsonLine, runAsync, runSync } = bench;
bench.configure({ tag: 'ct-bench', syncTimeoutMs: 120_000 });

const ALL_CONTENDERS = ['collector-ecs', 'collector-api', 'floor', 'ulogd'];
const KNOWN_CONTENDERS = [...ALL_CONTENDERS, 'collector-ipfix', 'ulogd-ipfix'];
/** nfcapd's receive buffer as asked (-B); the kernel caps it at net.core.rmem_max. */
const NFCAPD_BUFFER = 256 * 1024 * 1024;
// NFNLGRP_CONNTRACK_NEW = 1, NFNLGRP_CONNTRACK_DESTROY = 3: bits 0 and 2 of /proc/net/netlink's Groups.
const CT_GROUPS = 0x1 | 0x4;
const PORTS_PER_ADDRESS = 65536 - 1024; // ct-flood walks ports 1024..65535 per destination address

const USAGE = bench.usage(
  'ct-burst',
  `  --flows N            distinct UDP flows per burst (default 100000; the table holds
                       net.netfilter.nf_conntrack_max entries, 262144 here)
${bench.usageOfContenders(KNOWN_CONTENDERS)}  --nat                source NAT on every flow (nft: snat to 127.0.0.250), as the IPFIX target wants
  --socket-buffer B    netlink receive buffer, SO_RCVBUFFORCE, given to the floor and
                       ulogd (default 268435456, the collector's own default); passed
                       to the collector as --socket-buffer only when given
  --idle-ms MS         a contender is done after MS without events (default 3000)
  --batch N            datagrams per sendmmsg call in ct-flood (default 256)
  --max-drain S        longest wait for a contender after the flush, seconds (default 180)
`,
);

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    flows: 100_000,
    contenders: ALL_CONTENDERS.slice(),
    runs: 1,
    socketBuffer: 256 * 1024 * 1024,
    socketBufferGiven: false,
    idleMs: 3000,
    batch: 256,
    maxDrainS: 180,
    out: null,
    keepTmp: false,
    nat: false,
    help: false,
  };
  const ints = { '--flows': ['flows', 1, 16_000_000], '--idle-ms': ['idleMs', 500, 600_000], '--batch': ['batch', 1, 1024] };
  return bench.parseOptions(argv, o, KNOWN_CONTENDERS, ints, (flag, value) => {
    if (flag === '--nat') {
      o.nat = true;
      return true;
    }
    if (flag !== '--socket-buffer') return false;
    o.socketBuffer = int(flag, value(), 4096, 1 << 30);
    o.socketBufferGiven = true;
    return true;
  });
}

// ---------------------------------------------------------------- helpers

/**
 * Lines of ulogd's JSON output, and how many carry "ct.event": 1 (NEW) or 4
 * (DESTROY), read as a stream (the file can be hundreds of MiB).
 */
async function countUlogdLines(file) {
  const out = { lines: 0, bytes: 0, newLines: 0, destroyLines: 0, otherLines: 0 };
  let carry = '';
  const tally = (line) => {
    if (!line) return;
    out.lines++;
    const m = /"ct\.event": (\d+)/.exec(line);
    const type = m ? Number(m[1]) : 0;
    if (type === 1) out.newLines++;
    else if (type === 4) out.destroyLines++;
    else out.otherLines++;
  };
  const stream = fs.createReadStream(file, { highWaterMark: 4 << 20, encoding: 'utf8' });
  for await (const chunk of stream) {
    out.bytes += Buffer.byteLength(chunk);
    const text = carry + chunk;
    let from = 0;
    let at = text.indexOf('\n');
    while (at !== -1) {
      tally(text.slice(from, at));
      from = at + 1;
      at = text.indexOf('\n', from);
    }
    carry = text.slice(from);
  }
  tally(carry);
  return out;
}

/**
 * NEW and DESTROY counts from the collector's --stats object, under whichever
 * name it uses (flat, e.g. flowsNew / new_flows, or nested, e.g.
 * flows: { new, destroy }): the first numeric field whose key path has the
 * word "new" (or "destroy"/"destroyed") and no word of loss; null when absent.
 */
function statsByType(stats, type) {
  const wanted = type === 'new' ? ['new'] : ['destroy', 'destroyed', 'destroys'];
  const words = (key) =>
    key
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
  let found = null;
  const visit = (obj, prefix, depth) => {
    for (const [k, v] of Object.entries(obj)) {
      if (found) return;
      const key = prefix ? `${prefix}.${k}` : k;
      const w = words(key);
      if (
        typeof v === 'number' &&
        w.some((x) => wanted.includes(x)) &&
        !w.some((x) => ['lost', 'drop', 'drops', 'dropped', 'gap', 'gaps', 'error', 'errors'].includes(x))
      ) {
        found = { key, value: v };
      } else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2) visit(v, key, depth + 1);
    }
  };
  visit(stats, '', 0);
  return found;
}

// ---------------------------------------------------------------- the lab

// The output rule counts new flows (what the kernel created: one NEW event
// each); the input drop spares the kernel an ICMP port-unreachable (and its
// RELATED lookup) per datagram. conntrack has already confirmed the entry in
// the output path (loopback: postrouting), so the drop does not undo it.
const RULESET = `table inet ctbench {
  chain out {
    type filter hook output priority 0;
    meta l4proto udp ct state new counter
  }
  chain in {
    type filter hook input priority 0;
    udp dport 1024-65535 drop
  }
}
`;

const nftCounter = (nsName) => bench.nftCounter(nsName, 'ctbench');

// --nat: every flow leaves with a translated source (the address changes; the port is kept where free).
// The IPFIX export itself (to nfcapd on IPFIX_PORT) is not tracked: no flows, no events, no NAT of its own.
const IPFIX_PORT = 999; // below the input drop's 1024-65535
const NAT_RULESET = `table ip ctbnat {
  chain raw {
    type filter hook output priority raw;
    udp dport ${IPFIX_PORT} notrack
  }
  chain post {
    type nat hook postrouting priority 100;
    meta l4proto udp snat to 127.0.0.250
  }
}
`;

/** Entries in the namespace's conntrack table (conntrack -C). */
function ctCount(nsName) {
  const n = Number(runSync('ip', ['netns', 'exec', nsName, 'conntrack', '-C']).trim());
  if (!Number.isInteger(n)) throw new Error('conntrack -C did not print a number');
  return n;
}

/**
 * ctnetlink sockets in the namespace subscribed to both NEW and DESTROY,
 * with their receive-queue bytes and dropped datagrams (one event each).
 */
function ctListeners(ctx) {
  return bench.netfilterSockets(ctx).filter((s) => (s.groups & CT_GROUPS) === CT_GROUPS);
}

// ---------------------------------------------------------------- contenders

// Extra node options for the collector contenders, e.g. to profile them:
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof).
const NODE_ARGS = (process.env.BENCH_NODE_ARGS || '').split(/\s+/).filter(Boolean);

/** The command of a contender (bench.startContender runs it under GNU time, in the namespace but for the collector). */
function contenderArgv(name, ctx, runDir) {
  const { o, nsName, tools } = ctx;
  if (name === 'collector-api') {
    const argv = [
      process.execPath,
      ...NODE_ARGS,
      path.join(__dirname, 'records-consumer.js'),
      '--conntrack',
      'new,destroy',
      '--netns',
      nsName,
      '--idle-exit',
      String(o.idleMs),
    ];
    if (o.socketBufferGiven) argv.push('--socket-buffer', String(o.socketBuffer));
    return argv;
  }
  if (name === 'collector-ecs') {
    // The CLI enters the namespace itself (--netns); it runs from the host side.
    const argv = [
      process.execPath,
      ...NODE_ARGS,
      path.join(ROOT, 'dist', 'cli', 'main.js'),
      '--conntrack',
      'new,destroy',
      '--netns',
      nsName,
      '--format',
      'ecs',
      '--output',
      '/dev/null',
      '--idle-exit',
      String(o.idleMs),
      '--stats',
    ];
    if (o.socketBufferGiven) argv.push('--socket-buffer', String(o.socketBuffer));
    return argv;
  }
  if (name === 'collector-ipfix') {
    // Inside the namespace (ip netns exec), so that its UDP socket reaches the run's nfcapd there.
    const argv = [
      'ip',
      'netns',
      'exec',
      nsName,
      process.execPath,
      ...NODE_ARGS,
      path.join(ROOT, 'dist', 'cli', 'main.js'),
      '--conntrack',
      'new,destroy',
      '--format',
      'ipfix',
      '--output',
      `udp:127.0.0.1:${ctx.nfcapdPort}`,
      '--idle-exit',
      String(o.idleMs),
      '--stats',
    ];
    if (o.socketBufferGiven) argv.push('--socket-buffer', String(o.socketBuffer));
    return argv;
  }
  if (name === 'ulogd-ipfix') {
    // ulogd 2.0.8's IPFIX output plugin: host, port, proto and send_template are its keys.
    return bench.ulogdCommand(
      runDir,
      ['inpflow_NFCT', 'output_IPFIX'],
      'ct1:NFCT,ipfix1:IPFIX',
      ['[ct1]', 'hash_enable=0', 'event_mask=5', ...bench.ulogdBufferLines(o.socketBuffer)],
      ['[ipfix1]', 'oid=1', 'host="127.0.0.1"', `port=${ctx.nfcapdPort}`, 'proto="udp"', 'send_template="once"', ''],
    );
  }
  if (name === 'floor') {
    const maxS = Math.min(3600, Math.ceil(o.maxDrainS + ctx.floodMaxS + 120));
    return [tools.floor, String(o.idleMs), String(maxS), String(o.socketBuffer)];
  }
  if (name === 'ulogd') {
    // Option names as in Debian's shipped /etc/ulogd.conf ([ct1]/[ct2]) and the
    // NFCT plugin's own keys (ulogd 2.0.8). hash_enable=0: one line per event
    // (NEW and DESTROY, "ct.event" 1 and 4); with the default hash_enable=1 the
    // plugin keeps NEW in a table (32,768 entries at most) and writes one line
    // per flow at DESTROY. event_mask=5 is NEW|DESTROY (the default, explicit).
    return bench.ulogdCommand(runDir, ['inpflow_NFCT', 'filter_IP2STR', 'output_JSON'], 'ct1:NFCT,ip2str1:IP2STR,json1:JSON', [
      '[ct1]',
      'hash_enable=0',
      'event_mask=5',
      ...bench.ulogdBufferLines(o.socketBuffer),
    ]);
  }
  throw new Error(`unknown contender ${name}`);
}

// ---------------------------------------------------------------- nfcapd (the IPFIX contenders' collector)

/** nfcapd on 127.0.0.1 in the namespace, its own directory, a buffer that holds the burst. */
async function startNfcapd(ctx, runDir) {
  const dir = path.join(runDir, 'nfcapd');
  fs.mkdirSync(dir, { recursive: true });
  const h = bench.startContender(
    'nfcapd',
    ['nfcapd', '-p', String(ctx.nfcapdPort), '-b', '127.0.0.1', '-w', dir, '-t', '3600', '-B', String(NFCAPD_BUFFER)],
    runDir,
    { ...ctx, haveTime: false },
  );
  const bound = () =>
    runSync('ip', ['netns', 'exec', ctx.nsName, 'cat', '/proc/net/udp']).includes(
      `:${ctx.nfcapdPort.toString(16).toUpperCase().padStart(4, '0')} `,
    );
  await bench.waitWhile(
    () => !bound(),
    100,
    100,
    () => `nfcapd did not bind port ${ctx.nfcapdPort}: ${h.stdout}${h.stderr}`,
  );
  return h;
}

/** Stops nfcapd (SIGTERM: it closes its file and prints its totals); its record count and the socket's drops. */
async function stopNfcapd(h, ctx) {
  const drops = udpDrops(ctx);
  await bench.stopContender(h, 10_000);
  const m = /Flows: (\d+), Packets: \d+, Bytes: \d+, Sequence Errors: (\d+), Bad Packets: (\d+)/.exec(h.stdout + h.stderr);
  return m
    ? { flows: Number(m[1]), sequenceErrors: Number(m[2]), badPackets: Number(m[3]), socketDrops: drops }
    : { error: (h.stdout + h.stderr).slice(-500), socketDrops: drops };
}

/** Datagrams the kernel dropped at nfcapd's socket (/proc/net/udp's last column), read before it exits. */
function udpDrops(ctx) {
  const port = `:${ctx.nfcapdPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const row = runSync('ip', ['netns', 'exec', ctx.nsName, 'cat', '/proc/net/udp'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(port));
  return row ? Number(row[row.length - 1]) : null;
}

/** ulogd never exits on its own: done once its CPU time stands still for idleMs. */
async function waitCpuIdle(h, since, o) {
  let cpu = -1;
  let lastActivity = since;
  const deadline = since + o.maxDrainS * 1000;
  while (Date.now() < deadline && !h.exited) {
    const pid = h.target();
    const now = pid ? (bench.sampleProc(pid)?.cpu ?? cpu) : cpu;
    if (now !== cpu) {
      cpu = now;
      lastActivity = Date.now();
    } else if (Date.now() - lastActivity >= o.idleMs) break;
    await sleep(200);
  }
  const timedOut = Date.now() >= deadline;
  await bench.stopContender(h);
  await h.done;
  return { lastActivity, timedOut };
}

// ---------------------------------------------------------------- one run of one contender

/** Empties the namespace's table (left-overs of a failed run) and waits until it is. */
async function emptyTable(ctx) {
  for (let t = 0; ctCount(ctx.nsName) > 0; t++) {
    if (t > 50) throw new Error(`the conntrack table of ${ctx.nsName} does not empty`);
    runSync('ip', ['netns', 'exec', ctx.nsName, 'conntrack', '-F']);
    await sleep(100);
  }
}

async function runOne(name, run, ctx) {
  const { o, nsName, tools } = ctx;
  const runDir = path.join(ctx.tmpDir, `${name}-${run}`);
  fs.mkdirSync(runDir, { recursive: true });
  const result = { contender: name, run, flows: o.flows };

  // No other listener (the previous contender has let go), an empty table.
  await bench.waitWhile(
    () => ctListeners(ctx).length > 0,
    100,
    100,
    () =>
      `a ctnetlink listener is still subscribed in ${nsName}: port ${ctListeners(ctx)
        .map((l) => l.portid)
        .join(',')}`,
  );
  await emptyTable(ctx);

  const ipfix = name.endsWith('-ipfix');
  const nfcapd = ipfix ? await startNfcapd(ctx, runDir) : null;
  const h = bench.startContender(name, contenderArgv(name, ctx, runDir), runDir, ctx);
  try {
    // Subscribed = a NETLINK_NETFILTER socket in the namespace with the NEW and DESTROY groups.
    const listener = await bench.waitReady(h, () => ctListeners(ctx)[0], 'did not subscribe to conntrack events', result);
    if (result.error) return result;
    const portid = listener.portid;

    let sock = listener;
    const sock0 = listener;
    const sampleSocket = () => {
      const now = ctListeners(ctx).find((l) => l.portid === portid);
      if (now) sock = now;
      return now;
    };

    // 1. The flows.
    const before = nftCounter(nsName);
    const flood = await runAsync(
      'ip',
      ['netns', 'exec', nsName, tools.flood, String(o.flows), String(ctx.floodMaxS), String(o.batch)],
      (ctx.floodMaxS + 30) * 1000,
    );
    const floodReport = lastJsonLine(flood.stdout);
    if (!floodReport) throw new Error(`ct-flood failed (${flood.code}): ${flood.stderr.trim()}`);
    result.newKernel = nftCounter(nsName) - before;
    result.floodSent = floodReport.sent;
    result.floodErrors = floodReport.errors;
    result.floodSeconds = floodReport.seconds;
    result.flowRate = result.newKernel / floodReport.seconds;
    sampleSocket();

    // 2. The flush: one DESTROY per entry, generated in conntrack's own syscall.
    result.tableBefore = ctCount(nsName);
    const flushStart = process.hrtime.bigint();
    const flush = await runAsync('ip', ['netns', 'exec', nsName, 'conntrack', '-F'], 120_000);
    const flushEnd = Date.now();
    result.flushSeconds = Number(process.hrtime.bigint() - flushStart) / 1e9;
    if (flush.code !== 0) throw new Error(`conntrack -F failed (${flush.code}): ${flush.stderr.trim()}`);
    result.tableAfter = ctCount(nsName);
    // Every entry the flush removed sends one DESTROY (entries that expired on
    // their own before it would have sent theirs too: none do, the UDP timeout is 30 s).
    result.destroyExpected = result.tableBefore - result.tableAfter;
    result.expected = result.newKernel + result.destroyExpected;

    // 3. Wait for the contender to go idle.
    const idle =
      name === 'ulogd-ipfix'
        ? await waitCpuIdle(h, flushEnd, o)
        : await bench.waitIdle(h, {
            outFile: name === 'ulogd' ? path.join(runDir, 'ulogd.json') : null,
            since: flushEnd,
            deadline: flushEnd + o.maxDrainS * 1000,
            idleMs: o.idleMs,
            sample: sampleSocket,
          });
    if (idle.timedOut) result.timedOut = true;
    result.socketDrops = sock.drops - sock0.drops;
    result.drainSeconds = Math.max(0, (idle.lastActivity - flushEnd) / 1000);
    result.exit = h.code ?? h.signal;
  } finally {
    clearInterval(h.sampler);
    if (!h.exited) await bench.stopContender(h, 2000);
    if (nfcapd) result.nfcapd = await stopNfcapd(nfcapd, ctx);
  }

  // What the contender delivered and what it says it lost.
  if (name.startsWith('collector-')) {
    const stats = lastJsonLine(h.stderr);
    if (!stats) {
      result.error = `no --stats line on stderr (exit ${result.exit}): ${bench.stderrTail(h)}`;
    } else {
      result.stats = stats;
      // Flow events are in "flows" (packets and flows together in "delivered").
      result.delivered = typeof stats.flows === 'number' ? stats.flows : stats.delivered;
      const n = statsByType(stats, 'new');
      const d = statsByType(stats, 'destroy');
      if (n) {
        result.newDelivered = n.value;
        result.newKey = n.key;
      }
      if (d) {
        result.destroyDelivered = d.value;
        result.destroyKey = d.key;
      }
      result.ownReport = {
        lost: stats.lost,
        gaps: stats.gaps,
        enobufs: stats.enobufs,
        ringFull: stats.ringFull,
        lossUncounted: stats.lossUncounted === true ? 1 : 0,
      };
    }
  } else if (name === 'floor') {
    const r = lastJsonLine(h.stdout);
    if (!r) result.error = `no result line (exit ${result.exit}): ${h.stderr.trim()}`;
    else {
      result.newDelivered = r.new;
      result.destroyDelivered = r.destroy;
      result.delivered = r.new + r.destroy + r.other;
      result.ownReport = { enobufs: r.enobufs };
      result.floor = r;
    }
  } else if (name === 'ulogd-ipfix') {
    // One IPFIX record per event: what nfcapd stored is what ulogd delivered.
    result.delivered = result.nfcapd?.flows ?? 0;
    const { losingEventsNotices, maxBufferNotices } = bench.ulogdNotices(runDir);
    result.ownReport = { losingEventsNotices, maxBufferNotices };
  } else if (name === 'ulogd') {
    const out = path.join(runDir, 'ulogd.json');
    const counted = fs.existsSync(out) ? await countUlogdLines(out) : { lines: 0, bytes: 0, newLines: 0, destroyLines: 0, otherLines: 0 };
    result.delivered = counted.lines;
    result.newDelivered = counted.newLines;
    result.destroyDelivered = counted.destroyLines;
    result.otherLines = counted.otherLines;
    result.outputBytes = counted.bytes;
    const { logText, losingEventsNotices, maxBufferNotices } = bench.ulogdNotices(runDir);
    result.ulogdBufferLine = (/NFCT netlink buffer size has been set to (\d+)/.exec(logText) || [])[1] || null;
    result.ownReport = { losingEventsNotices, maxBufferNotices };
    if (fs.existsSync(out)) fs.rmSync(out); // can be hundreds of MiB
  }

  bench.addUsage(result, h);
  if (name === 'collector-ipfix' && result.stats?.ipfix) {
    // Records nfcapd should hold: a NAT event per NEW and DESTROY, and a flow record per DESTROY.
    const x = result.stats.ipfix;
    result.ipfixSent = x.sentRecords;
    result.ipfixExpected = result.newKernel + 2 * result.destroyExpected;
    result.ipfixDropped = x.droppedRecords;
  }
  if (typeof result.delivered === 'number') {
    result.lost = result.expected - result.delivered;
    if (typeof result.newDelivered === 'number') result.lostNew = result.newKernel - result.newDelivered;
    if (typeof result.destroyDelivered === 'number') result.lostDestroy = result.destroyExpected - result.destroyDelivered;
    if (typeof result.cpu === 'number' && result.delivered > 0) result.cpuPerMillion = result.cpu / (result.delivered / 1e6);
  }
  return result;
}

// ---------------------------------------------------------------- report

function summarize(results, contenders) {
  return bench.summarizeRuns(results, contenders, (s) => ({
    newKernel: s.m('newKernel'),
    destroyExpected: s.m('destroyExpected'),
    newDelivered: s.m('newDelivered'),
    destroyDelivered: s.m('destroyDelivered'),
    ...bench.lossColumns(s, 'expected'),
    socketDrops: s.m('socketDrops'),
    ...bench.costColumns(s),
    floodSeconds: s.m('floodSeconds'),
    flowRate: s.m('flowRate'),
    flushSeconds: s.m('flushSeconds'),
    drainSeconds: s.m('drainSeconds'),
  }));
}

function ownReportText(r) {
  if (r.name === 'ulogd') return bench.ulogdReportText(r);
  if (r.name === 'floor') return `enobufs ${fmtInt(r.enobufs)}`;
  const parts = [`lost ${fmtInt(r.ownLost)}`, `gaps ${fmtInt(r.gaps)}`, `enobufs ${fmtInt(r.enobufs)}`];
  if (r.ringFull !== null) parts.push(`ringFull ${fmtInt(r.ringFull)}`);
  if (r.lossUncountedRuns > 0) parts.push(`lossUncounted in ${r.lossUncountedRuns}/${r.ok} runs`);
  return parts.join(', ');
}

function markdownTable(rows) {
  const head = [
    'contender',
    'NEW (kernel)',
    'DESTROY (flushed)',
    'NEW delivered',
    'DESTROY delivered',
    'lost',
    'lost (own report)',
    'socket drops',
    'CPU s (user+sys)',
    'CPU s / M events',
    '× floor',
    'peak RSS MiB',
    'flood s',
    'k flows/s',
    'flush s',
    'drain s',
  ];
  const cells = (r, ratio) => [
    fmtInt(r.newKernel),
    fmtInt(r.destroyExpected),
    fmtInt(r.newDelivered),
    fmtInt(r.destroyDelivered),
    `${fmtInt(r.lost)} (${fmt(r.lostPct, 2)} %)`,
    ownReportText(r),
    fmtInt(r.socketDrops),
    fmt(r.cpu, 2),
    fmt(r.cpuPerMillion, 2),
    ratio,
    fmt(r.peakRssKiB / 1024, 1),
    fmt(r.floodSeconds, 2),
    fmt(r.flowRate / 1000, 0),
    fmt(r.flushSeconds, 2),
    fmt(r.drainSeconds, 1),
  ];
  return bench.markdownTable(head, rows, cells, (error) => 'failed: ' + error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 200));
}

// ---------------------------------------------------------------- main

async function main() {
  bench.installSignalHandlers();
  const o = bench.readOptions('ct-burst', parseArgs, USAGE);
  if (!o) return;
  if (process.getuid && process.getuid() !== 0) throw new Error('needs root (network namespaces, nft, ctnetlink)');
  for (const tool of ['ip', 'nft', 'conntrack'])
    if (!bench.which(tool)) throw new Error(`${tool} is not installed: run scripts/setup-system.sh`);

  const contenders = o.contenders.slice();
  const skipped = {};
  if (contenders.includes('ulogd')) {
    if (
      !fs.existsSync(ULOGD) ||
      !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_output_JSON.so`) ||
      !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_inpflow_NFCT.so`)
    ) {
      skipped.ulogd = `ulogd2/ulogd2-json not installed (${ULOGD}, ${ULOGD_PLUGINS})`;
    } else {
      // A ulogd of the host runs in the host namespace: it cannot see our table,
      // but it would compete for CPU. Report it; never stop what isn't ours.
      const running = spawnSync('pgrep', ['-a', 'ulogd'], { encoding: 'utf8' }).stdout.trim();
      if (running) log(`warning: a ulogd is already running on this machine (not ours): ${running.replace(/\n/g, '; ')}`);
    }
  }
  if (contenders.includes('ulogd-ipfix') && !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_output_IPFIX.so`))
    skipped['ulogd-ipfix'] = `no ulogd_output_IPFIX.so in ${ULOGD_PLUGINS}`;
  for (const c of contenders) if (c.endsWith('-ipfix') && !bench.which('nfcapd')) skipped[c] = "nfcapd (Debian's nfdump) is not installed";
  for (const c of contenders) {
    if (c.startsWith('collector-') && !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')))
      skipped[c] = 'dist/cli/main.js missing: run `npm run build`';
  }
  for (const [c, why] of Object.entries(skipped)) log(`skipping ${c}: ${why}`);

  const haveTime = bench.haveGnuTime();
  const tmpDir = bench.makeTmpDir('nfc-ctb-', o.keepTmp);
  const tools = bench.buildTools(tmpDir, { flood: 'ct-flood', floor: 'ct-floor', floorLib: 'netfilter_conntrack' });
  log(`built ct-flood and ct-floor in ${tmpDir}`);

  // The few namespace operations this benchmark needs, under its own prefix (nfc-ctb<pid>).
  const lab = bench.makeLab('nfc-ctb');
  lab.addNamespace('a');
  const nsName = lab.name('a');
  lab.nft('a', RULESET);
  // The IPFIX contenders export translated flows (and need their own traffic untracked).
  if (contenders.some((c) => c.endsWith('-ipfix'))) o.nat = true;
  if (o.nat) lab.nft('a', NAT_RULESET);
  // nfcapd asks for NFCAPD_BUFFER with SO_RCVBUF: the kernel caps it at net.core.rmem_max (read-only in a namespace).
  const rmemMax = lab.exec('a', 'cat', ['/proc/sys/net/core/rmem_max']).trim();
  if (contenders.some((c) => c.endsWith('-ipfix')))
    log(`nfcapd's receive buffer: at most net.core.rmem_max = ${rmemMax} B (doubled by the kernel)`);
  const ctMax = Number(lab.exec('a', 'cat', ['/proc/sys/net/netfilter/nf_conntrack_max']).trim());
  const ctEvents = lab.exec('a', 'cat', ['/proc/sys/net/netfilter/nf_conntrack_events']).trim();
  const udpTimeout = lab.exec('a', 'cat', ['/proc/sys/net/netfilter/nf_conntrack_udp_timeout']).trim();
  log(
    `namespace ${nsName}: output rule "meta l4proto udp ct state new counter", input drop of udp dport 1024-65535; ` +
      `nf_conntrack_max ${ctMax}, nf_conntrack_events ${ctEvents}, udp timeout ${udpTimeout} s`,
  );
  if (o.flows > ctMax)
    throw new Error(`--flows ${o.flows} exceeds net.netfilter.nf_conntrack_max (${ctMax}), which a namespace cannot raise`);
  if (Math.ceil(o.flows / PORTS_PER_ADDRESS) > 254) throw new Error('--flows: more than 254 destination addresses');

  // Flat out, ~200-300k flows/s here; the bound is generous and the sender stops at it regardless.
  const floodMaxS = Math.min(3600, Math.max(30, Math.ceil(o.flows / 20_000)));
  const ctx = { o, nsName, tools, tmpDir, haveTime, floodMaxS, nfcapdPort: IPFIX_PORT, anchor: await bench.startAnchor(nsName) };
  const results = await bench.runContenders(ctx, skipped, {
    what: `, ${o.flows.toLocaleString('en-US')} flows`,
    runOne,
    describe: (r) =>
      `NEW ${r.newKernel} → ${r.newDelivered ?? '?'}, DESTROY ${r.destroyExpected} → ${r.destroyDelivered ?? '?'}, delivered ${r.delivered} lost ${r.lost} ` +
      `drops ${r.socketDrops} cpu ${fmt(r.cpu, 2)} s (${fmt(r.cpuPerMillion, 2)} s/M) rss ${fmt(r.peakRssKiB / 1024, 1)} MiB flood ${fmt(r.floodSeconds, 2)} s ` +
      `flush ${fmt(r.flushSeconds, 2)} s drain ${fmt(r.drainSeconds, 1)} s` +
      (r.nfcapd
        ? ` nfcapd ${JSON.stringify(r.nfcapd)}${r.ipfixExpected ? ` (expected ${r.ipfixExpected} records, sent ${r.ipfixSent}, dropped ${r.ipfixDropped})` : ''}`
        : ''),
  });

  const rows = summarize(results, contenders);
  const m = bench.machine();
  const header = [
    `Conntrack burst: ${o.flows.toLocaleString('en-US')} new UDP flows (one datagram each, 127.0.0.1 → 127.0.0.x:1024-65535) in a namespace, flat out, ` +
      `then conntrack -F (one DESTROY each); events NEW+DESTROY; socket buffer ${o.socketBuffer} B` +
      `${o.socketBufferGiven ? '' : ' (floor, ulogd; collector: its default)'}, idle ${o.idleMs} ms; ${o.runs} run(s), medians.`,
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}.`,
  ];
  const ipfixRuns = results.filter((r) => r.nfcapd);
  const ipfixLines = ipfixRuns.map(
    (r) =>
      `| ${r.contender} | ${r.run} | ${fmtInt(r.nfcapd.flows)} | ${fmtInt(r.contender === 'collector-ipfix' ? r.ipfixExpected : r.expected)} | ${fmtInt(r.nfcapd.socketDrops)} | ${fmtInt(r.nfcapd.sequenceErrors)} |`,
  );
  const ipfixTable =
    ipfixLines.length === 0
      ? ''
      : `\nIPFIX records at nfcapd (collector: a NAT event per NEW and DESTROY and a flow per DESTROY; ulogd: one record per event):\n\n` +
        `| contender | run | nfcapd records | expected | nfcapd socket drops | sequence errors |\n| --- | --- | --- | --- | --- | --- |\n${ipfixLines.join('\n')}\n`;
  process.stdout.write(
    `${header.join('\n')}${o.nat ? '\nEvery flow source-NATed (snat to 127.0.0.250).' : ''}\n\n${markdownTable(rows)}\n${ipfixTable}`,
  );
  const sysctls = { nf_conntrack_max: ctMax, nf_conntrack_events: ctEvents, nf_conntrack_udp_timeout: udpTimeout };
  bench.saveResults('ct-burst', o, { options: o, machine: m, namespace: nsName, sysctls, rows, results });
}

if (require.main === module) bench.runMain('ct-burst', main);

module.exports = { main, parseArgs, median, markdownTable, summarize, statsByType, countUlogdLines };
