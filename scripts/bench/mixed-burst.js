#!/usr/bin/env node
'use strict';
// Mixed burst benchmark: an NFLOG burst and a conntrack flow burst at the same
// time, read by each contender that can take both, inside a throwaway network
// namespace.
//
//   node scripts/bench/mixed-burst.js [--packets N] [--flows F] [--runs K] [--contenders LIST] [options]
//
// Contenders (comma-separated; default: all four):
//   collector-ecs   node dist/cli/main.js --nflog 51 --conntrack new,destroy --format ecs (one process)
//   collector-api   scripts/bench/records-consumer.js --nflog 51 --conntrack new,destroy: counting records
//   floor           nflog-floor.c and ct-floor.c side by side (two processes; CPU and RSS summed)
//   ulogd           one ulogd2 with both stacks: NFLOG→BASE→IFINDEX→IP2STR→HWHDR→JSON and NFCT→IP2STR→JSON
//
// One run: empty conntrack table; start the contender; wait until group 51 is
// bound and a ctnetlink socket has joined NEW and DESTROY, plus 1 s; then at
// once udp-flood sends N datagrams to 127.0.0.1:9000 (logged, untracked) and
// ct-flood opens F UDP flows to 127.0.0.2.. ; as soon as ct-flood is done the
// table is flushed (conntrack -F: F DESTROY events), usually while the NFLOG
// burst still runs. Sent counts come from nft counters (logged packets, new
// flows) and the flush (entries removed). Then wait for the contender to go
// idle and record what it delivered, CPU (user+sys, GNU time) and peak RSS.
//
// Needs what nflog-burst.js and ct-burst.js need. It only touches the
// namespace it creates (nfc-mix<pid>-a), deleted at the end, on error and on signals.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const bench = require('./lib');
const { countUlogdLines } = require('./ct-burst');

const { ROOT, ULOGD, ULOGD_PLUGINS, sleep, log, fmt, fmtInt, lastJsonLine, runAsync, runSync } = bench;
bench.configure({ tag: 'mix-bench', syncTimeoutMs: 120_000 });

const GROUP = 51;
const PORT = 9000;
const CT_GROUPS = 0x1 | 0x4; // NFNLGRP_CONNTRACK_NEW, _DESTROY as /proc/net/netlink's Groups bits
const ALL_CONTENDERS = ['collector-ecs', 'collector-api', 'floor', 'ulogd'];

const USAGE = bench.usage(
  'mixed-burst',
  `  --packets N          NFLOG datagrams in the burst (default 1000000)
  --flows F            UDP flows in the conntrack burst (default 100000)
${bench.usageOfContenders(ALL_CONTENDERS)}  --idle-ms MS         a contender is done after MS without events (default 3000)
  --max-drain S        longest wait for a contender after the bursts, seconds (default 180)
`,
);

function parseArgs(argv) {
  const o = {
    packets: 1_000_000,
    flows: 100_000,
    contenders: ALL_CONTENDERS.slice(),
    runs: 1,
    idleMs: 3000,
    maxDrainS: 180,
    out: null,
    keepTmp: false,
    help: false,
  };
  const ints = { '--packets': ['packets', 1, 100_000_000], '--flows': ['flows', 1, 16_000_000], '--idle-ms': ['idleMs', 500, 600_000] };
  return bench.parseOptions(argv, o, ALL_CONTENDERS, ints, () => false);
}

// NFLOG traffic goes to 127.0.0.1:9000 and is untracked (raw priority), so
// the conntrack table holds only ct-flood's flows (to 127.0.0.2 and up).
const RULESET = `table inet mixbench {
  chain raw {
    type filter hook output priority -300;
    ip daddr 127.0.0.1 udp dport ${PORT} notrack
  }
  chain out {
    type filter hook output priority 0;
    ip daddr 127.0.0.1 udp dport ${PORT} counter log group ${GROUP}
    meta l4proto udp ct state new counter
  }
  chain in {
    type filter hook input priority 0;
    udp dport 1024-65535 drop
  }
}
`;

/** The two counters of chain out: packets logged, flows created. */
function counters(nsName) {
  const text = runSync('ip', ['netns', 'exec', nsName, 'nft', 'list', 'chain', 'inet', 'mixbench', 'out']);
  const all = [...text.matchAll(/counter packets (\d+) bytes \d+/g)].map((m) => Number(m[1]));
  if (all.length !== 2) throw new Error(`expected two counters in chain out:\n${text}`);
  return { logged: all[0], flows: all[1] };
}

function ctCount(nsName) {
  const n = Number(runSync('ip', ['netns', 'exec', nsName, 'conntrack', '-C']).trim());
  if (!Number.isInteger(n)) throw new Error('conntrack -C did not print a number');
  return n;
}

function groupBinders(ctx) {
  return bench
    .readNsFile(ctx, 'netfilter/nfnetlink_log')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && Number(f[0]) === GROUP)
    .map((f) => Number(f[1]));
}

const ctListeners = (ctx) => bench.netfilterSockets(ctx).filter((s) => (s.groups & CT_GROUPS) === CT_GROUPS);

/** The contender's processes: one command each (the floor has two). */
function contenderArgvs(name, ctx, runDir) {
  const { o, nsName, tools } = ctx;
  const idle = String(o.idleMs);
  if (name === 'collector-ecs') {
    return [
      [
        process.execPath,
        path.join(ROOT, 'dist', 'cli', 'main.js'),
        '--nflog',
        String(GROUP),
        '--conntrack',
        'new,destroy',
        '--netns',
        nsName,
        '--format',
        'ecs',
        '--output',
        '/dev/null',
        '--idle-exit',
        idle,
        '--stats',
      ],
    ];
  }
  if (name === 'collector-api') {
    return [
      [
        process.execPath,
        path.join(__dirname, 'records-consumer.js'),
        '--nflog',
        String(GROUP),
        '--conntrack',
        'new,destroy',
        '--netns',
        nsName,
        '--idle-exit',
        idle,
      ],
    ];
  }
  const buffer = 256 * 1024 * 1024; // the collector's default, given to the others
  if (name === 'floor') {
    const maxS = String(Math.min(3600, o.maxDrainS + ctx.floodMaxS + 120));
    return [
      [tools.nflogFloor, String(GROUP), '1024', '1', idle, maxS, String(buffer)],
      [tools.ctFloor, idle, maxS, String(buffer)],
    ];
  }
  if (name === 'ulogd') {
    const plugins = ['inppkt_NFLOG', 'raw2packet_BASE', 'filter_IFINDEX', 'filter_IP2STR', 'filter_HWHDR', 'output_JSON', 'inpflow_NFCT'];
    const stacks = ['log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON', 'ct1:NFCT,ip2str2:IP2STR,json2:JSON'];
    return [
      bench.ulogdCommand(
        runDir,
        plugins,
        stacks,
        [
          '[log1]',
          `group=${GROUP}`,
          ...bench.ulogdBufferLines(buffer),
          'netlink_qthreshold=1024',
          'netlink_qtimeout=1',
          'seq_local=1',
          '',
          '[ct1]',
          'hash_enable=0',
          'event_mask=5',
          ...bench.ulogdBufferLines(buffer),
        ],
        ['[json2]', `file="${path.join(runDir, 'ulogd-ct.json')}"`, 'sync=0', ''],
      ),
    ];
  }
  throw new Error(`unknown contender ${name}`);
}

async function runOne(name, run, ctx) {
  const { o, nsName, tools } = ctx;
  const runDir = path.join(ctx.tmpDir, `${name}-${run}`);
  fs.mkdirSync(runDir, { recursive: true });
  const result = { contender: name, run, packets: o.packets, flows: o.flows };

  await bench.waitWhile(
    () => groupBinders(ctx).length > 0 || ctListeners(ctx).length > 0,
    100,
    100,
    () => `group ${GROUP} or a ctnetlink listener still bound in ${nsName}`,
  );
  for (let t = 0; ctCount(nsName) > 0; t++) {
    if (t > 50) throw new Error('the conntrack table does not empty');
    runSync('ip', ['netns', 'exec', nsName, 'conntrack', '-F']);
    await sleep(100);
  }

  const handles = contenderArgvs(name, ctx, path.join(runDir)).map((argv, i) => {
    const dir = path.join(runDir, String(i));
    fs.mkdirSync(dir, { recursive: true });
    // ulogd's files live in runDir (its config names them); GNU time's in dir.
    return bench.startContender(name, argv, dir, ctx);
  });
  const outFiles = name === 'ulogd' ? [path.join(runDir, 'ulogd.json'), path.join(runDir, 'ulogd-ct.json')] : null;
  try {
    const ready = () => (groupBinders(ctx).length > 0 && ctListeners(ctx).length > 0 ? true : undefined);
    for (const h of handles) {
      await bench.waitReady(h, ready, 'did not bind group and subscribe to conntrack events', result);
      if (result.error) return result;
    }
    const nflogPort = groupBinders(ctx)[0];
    const ctPort = ctListeners(ctx)[0].portid;
    const sockets = () => bench.netfilterSockets(ctx).filter((s) => s.portid === nflogPort || s.portid === ctPort);
    const drops0 = sockets().reduce((a, s) => a + s.drops, 0);
    let drops = drops0;
    const sample = () => {
      const now = sockets();
      if (now.length > 0)
        drops = Math.max(
          drops,
          now.reduce((a, s) => a + s.drops, 0),
        );
    };

    const before = counters(nsName);
    const start = Date.now();
    const nflogFlood = runAsync(
      'ip',
      ['netns', 'exec', nsName, tools.udpFlood, '127.0.0.1', String(PORT), String(o.packets), '64', String(ctx.floodMaxS)],
      (ctx.floodMaxS + 30) * 1000,
    );
    const ctFlood = await runAsync(
      'ip',
      ['netns', 'exec', nsName, tools.ctFlood, String(o.flows), String(ctx.floodMaxS), '256', '2'],
      (ctx.floodMaxS + 30) * 1000,
    );
    const ctReport = lastJsonLine(ctFlood.stdout);
    if (!ctReport) throw new Error(`ct-flood failed (${ctFlood.code}): ${ctFlood.stderr.trim()}`);
    result.tableBefore = ctCount(nsName);
    const flushStart = Date.now();
    const flush = await runAsync('ip', ['netns', 'exec', nsName, 'conntrack', '-F'], 120_000);
    if (flush.code !== 0) throw new Error(`conntrack -F failed (${flush.code}): ${flush.stderr.trim()}`);
    result.flushSeconds = (Date.now() - flushStart) / 1000;
    result.tableAfter = ctCount(nsName);
    const nflogReport = lastJsonLine((await nflogFlood).stdout);
    if (!nflogReport) throw new Error('udp-flood failed');
    const end = Date.now();
    result.burstSeconds = (end - start) / 1000;
    const after = counters(nsName);
    result.nflogSent = after.logged - before.logged;
    result.newKernel = after.flows - before.flows;
    result.destroyExpected = result.tableBefore - result.tableAfter;
    result.expected = result.nflogSent + result.newKernel + result.destroyExpected;
    result.flushDuringNflog = flushStart < start + nflogReport.seconds * 1000;

    for (const h of handles) {
      const idle = await bench.waitIdle(h, { outFile: outFiles, since: end, deadline: end + o.maxDrainS * 1000, idleMs: o.idleMs, sample });
      if (idle.timedOut) result.timedOut = true;
      result.drainSeconds = Math.max(result.drainSeconds ?? 0, (idle.lastActivity - end) / 1000);
    }
    result.socketDrops = drops - drops0;
  } finally {
    for (const h of handles) {
      clearInterval(h.sampler);
      if (!h.exited) await bench.stopContender(h, 2000);
    }
  }

  if (name.startsWith('collector-')) {
    const stats = lastJsonLine(handles[0].stderr);
    if (!stats) {
      result.error = `no stats line on stderr: ${bench.stderrTail(handles[0])}`;
      return result;
    }
    result.nflogDelivered = stats.packets;
    result.newDelivered = stats.flowsNew;
    result.destroyDelivered = stats.flowsDestroy;
    result.ownReport = {
      lost: stats.lost,
      gaps: stats.gaps,
      enobufs: stats.enobufs,
      ringFull: stats.ringFull,
      lossUncounted: stats.lossUncounted === true ? 1 : 0,
    };
    result.stats = stats;
  } else if (name === 'floor') {
    const nf = lastJsonLine(handles[0].stdout);
    const ct = lastJsonLine(handles[1].stdout);
    if (!nf || !ct) {
      result.error = `no floor result line: ${handles.map((h) => h.stderr.trim()).join(' | ')}`;
      return result;
    }
    result.nflogDelivered = nf.delivered;
    result.newDelivered = ct.new;
    result.destroyDelivered = ct.destroy;
    result.ownReport = { lost: nf.lost_seq, enobufs: nf.enobufs + ct.enobufs };
  } else if (name === 'ulogd') {
    const [nflogFile, ctFile] = outFiles;
    const nf = fs.existsSync(nflogFile) ? await countUlogdLines(nflogFile) : { lines: 0 };
    const ct = fs.existsSync(ctFile) ? await countUlogdLines(ctFile) : { newLines: 0, destroyLines: 0 };
    result.nflogDelivered = nf.lines;
    result.newDelivered = ct.newLines;
    result.destroyDelivered = ct.destroyLines;
    const { losingEventsNotices, maxBufferNotices } = bench.ulogdNotices(runDir);
    result.ownReport = { losingEventsNotices, maxBufferNotices };
    for (const f of outFiles) if (fs.existsSync(f)) fs.rmSync(f);
  }

  // CPU and RSS: summed over the contender's processes (the floor's two).
  const usages = handles.map((h) => {
    const u = {};
    bench.addUsage(u, h);
    return u;
  });
  result.cpu = usages.reduce((a, u) => a + (u.cpu ?? NaN), 0);
  result.peakRssKiB = usages.reduce((a, u) => a + (u.peakRssKiB ?? NaN), 0);
  result.delivered = result.nflogDelivered + result.newDelivered + result.destroyDelivered;
  result.lost = result.expected - result.delivered;
  if (Number.isFinite(result.cpu) && result.delivered > 0) result.cpuPerMillion = result.cpu / (result.delivered / 1e6);
  return result;
}

function summarize(results, contenders) {
  return bench.summarizeRuns(results, contenders, (s) => ({
    nflogSent: s.m('nflogSent'),
    nflogDelivered: s.m('nflogDelivered'),
    newKernel: s.m('newKernel'),
    newDelivered: s.m('newDelivered'),
    destroyExpected: s.m('destroyExpected'),
    destroyDelivered: s.m('destroyDelivered'),
    ...bench.lossColumns(s, 'expected'),
    socketDrops: s.m('socketDrops'),
    ...bench.costColumns(s),
    burstSeconds: s.m('burstSeconds'),
    drainSeconds: s.m('drainSeconds'),
  }));
}

function ownReportText(r) {
  if (r.name === 'ulogd') return bench.ulogdReportText(r);
  if (r.name === 'floor') return `lost ${fmtInt(r.ownLost)}, enobufs ${fmtInt(r.enobufs)}`;
  const parts = [`lost ${fmtInt(r.ownLost)}`, `gaps ${fmtInt(r.gaps)}`, `enobufs ${fmtInt(r.enobufs)}`, `ringFull ${fmtInt(r.ringFull)}`];
  if (r.lossUncountedRuns > 0) parts.push(`lossUncounted in ${r.lossUncountedRuns}/${r.ok} runs`);
  return parts.join(', ');
}

function markdownTable(rows) {
  const head = [
    'contender',
    'NFLOG sent (kernel)',
    'NFLOG delivered',
    'NEW (kernel)',
    'NEW delivered',
    'DESTROY (flushed)',
    'DESTROY delivered',
    'lost',
    'lost (own report)',
    'socket drops',
    'CPU s (user+sys)',
    'CPU s / M events',
    '× floor',
    'peak RSS MiB',
    'bursts s',
    'drain s',
  ];
  const cells = (r, ratio) => [
    fmtInt(r.nflogSent),
    fmtInt(r.nflogDelivered),
    fmtInt(r.newKernel),
    fmtInt(r.newDelivered),
    fmtInt(r.destroyExpected),
    fmtInt(r.destroyDelivered),
    `${fmtInt(r.lost)} (${fmt(r.lostPct, 2)} %)`,
    ownReportText(r),
    fmtInt(r.socketDrops),
    fmt(r.cpu, 2),
    fmt(r.cpuPerMillion, 2),
    ratio,
    fmt(r.peakRssKiB / 1024, 1),
    fmt(r.burstSeconds, 2),
    fmt(r.drainSeconds, 1),
  ];
  return bench.markdownTable(head, rows, cells, (error) => 'failed: ' + error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 200));
}

async function main() {
  bench.installSignalHandlers();
  const o = bench.readOptions('mixed-burst', parseArgs, USAGE);
  if (!o) return;
  if (process.getuid && process.getuid() !== 0) throw new Error('needs root (network namespaces, nft, NFLOG, ctnetlink)');
  for (const tool of ['ip', 'nft', 'conntrack'])
    if (!bench.which(tool)) throw new Error(`${tool} is not installed: run scripts/setup-system.sh`);

  const skipped = {};
  if (o.contenders.includes('ulogd')) {
    if (
      !fs.existsSync(ULOGD) ||
      !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_output_JSON.so`) ||
      !fs.existsSync(`${ULOGD_PLUGINS}/ulogd_inpflow_NFCT.so`)
    ) {
      skipped.ulogd = `ulogd2/ulogd2-json not installed (${ULOGD}, ${ULOGD_PLUGINS})`;
    } else {
      const running = spawnSync('pgrep', ['-a', 'ulogd'], { encoding: 'utf8' }).stdout.trim();
      if (running) log(`warning: a ulogd is already running on this machine (not ours): ${running.replace(/\n/g, '; ')}`);
    }
  }
  for (const c of o.contenders) {
    if (c.startsWith('collector-') && !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')))
      skipped[c] = 'dist/ missing: run `npm run build`';
  }
  for (const [c, why] of Object.entries(skipped)) log(`skipping ${c}: ${why}`);

  const haveTime = bench.haveGnuTime();
  const tmpDir = bench.makeTmpDir('nfc-mix-', o.keepTmp);
  const nflogTools = bench.buildTools(tmpDir, { flood: 'udp-flood', floor: 'nflog-floor', floorLib: 'netfilter_log' });
  const ctTools = bench.buildTools(tmpDir, { flood: 'ct-flood', floor: 'ct-floor', floorLib: 'netfilter_conntrack' });
  const tools = { udpFlood: nflogTools.flood, nflogFloor: nflogTools.floor, ctFlood: ctTools.flood, ctFloor: ctTools.floor };

  const lab = bench.makeLab('nfc-mix');
  lab.addNamespace('a');
  const nsName = lab.name('a');
  lab.nft('a', RULESET);
  const ctMax = Number(lab.exec('a', 'cat', ['/proc/sys/net/netfilter/nf_conntrack_max']).trim());
  if (o.flows > ctMax) throw new Error(`--flows ${o.flows} exceeds net.netfilter.nf_conntrack_max (${ctMax})`);
  log(`namespace ${nsName}: NFLOG group ${GROUP} for 127.0.0.1:${PORT} (untracked), new UDP flows counted`);

  const floodMaxS = Math.min(3600, Math.max(30, Math.ceil(o.packets / 50_000 + o.flows / 20_000)));
  const ctx = { o, nsName, tools, tmpDir, haveTime, floodMaxS, anchor: await bench.startAnchor(nsName) };
  const results = await bench.runContenders(ctx, skipped, {
    what: `, ${o.packets.toLocaleString('en-US')} NFLOG packets + ${o.flows.toLocaleString('en-US')} flows`,
    runOne,
    describe: (r) =>
      `NFLOG ${r.nflogSent} → ${r.nflogDelivered}, NEW ${r.newKernel} → ${r.newDelivered}, DESTROY ${r.destroyExpected} → ${r.destroyDelivered}, ` +
      `lost ${r.lost} drops ${r.socketDrops} cpu ${fmt(r.cpu, 2)} s (${fmt(r.cpuPerMillion, 2)} s/M) rss ${fmt(r.peakRssKiB / 1024, 1)} MiB ` +
      `bursts ${fmt(r.burstSeconds, 2)} s${r.flushDuringNflog ? ' (flush during the NFLOG burst)' : ''} drain ${fmt(r.drainSeconds, 1)} s`,
  });

  const rows = summarize(results, o.contenders);
  const m = bench.machine();
  const header = [
    `Mixed burst: ${o.packets.toLocaleString('en-US')} NFLOG datagrams (64 bytes, flat out) and at the same time ${o.flows.toLocaleString('en-US')} new UDP flows ` +
      `then conntrack -F; qthreshold 1024, flush 10 ms, socket buffers 256 MiB; idle ${o.idleMs} ms; ${o.runs} run(s), medians.`,
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}.`,
  ];
  process.stdout.write(`${header.join('\n')}\n\n${markdownTable(rows)}\n`);
  bench.saveResults('mixed-burst', o, { options: o, machine: m, namespace: nsName, rows, results });
}

if (require.main === module) bench.runMain('mixed-burst', main);

module.exports = { main, parseArgs, markdownTable, summarize };
