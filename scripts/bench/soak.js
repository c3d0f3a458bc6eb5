#!/usr/bin/env node
'use strict';
// Soak: one collector, several network namespaces, a steady mixed load for a
// long time; RSS, heap and delivery latency sampled every 10 s. Answers "does
// memory stay flat over hours, and is everything delivered".
//
//   node --expose-gc scripts/bench/soak.js [--minutes 35] [--namespaces 4] [--pps 20000] [--flows 2000]
//                                          [--format ecs|none] [--out FILE] [--chart FILE.svg]
//
// Each namespace (nfc-soak<pid>-nN, deleted at the end) gets pps/N logged UDP
// datagrams a second, spread over 256 destination ports (notracked, so they
// are packets only), and flows/N new UDP flows a second to 127.0.0.2, walking
// 60,000 ports; the namespace's UDP conntrack timeout is 10 s, so every
// datagram of that walk opens a new flow and each flow ends (DESTROY) 10 s
// later. The collector reads NFLOG and conntrack NEW/DESTROY from all of them
// as one stream; every record is formatted as an ECS JSON line (--format ecs)
// and thrown away. Senders are udp-flood (scripts/bench/udp-flood.c) at a set
// rate.
//
// Every 10 s: RSS, heap used after a forced GC (with --expose-gc), external +
// array buffers, records so far, delivery latency of that interval's packets
// (now − the record's timestamp: the kernel's, else the reader's receive time)
// as p50/p99/max, and the process's CPU seconds. At the end: the nft counters
// of every namespace (logged packets, new flows) against what was delivered,
// per namespace, and the RSS growth after warm-up (first sample after
// --warmup-minutes, default 5, to the last).
//
// Output: a JSON file with every sample and the totals (--out, default
// bench-results/soak-<time>.json) and an SVG chart (--chart).

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const GROUP = 61;
const LOG_PORT = 9000;
const LOG_PORTS = 256;
const FLOW_PORT = 1024;
const FLOW_PORTS = 60_000;
const SAMPLE_MS = 10_000;

function parseArgs(argv) {
  const o = { minutes: 35, namespaces: 4, pps: 20_000, flows: 2000, format: 'ecs', warmupMinutes: 5, out: null, chart: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    const number = Number(value);
    switch (flag) {
      case '--minutes':
        o.minutes = number;
        break;
      case '--namespaces':
        o.namespaces = number;
        break;
      case '--pps':
        o.pps = number;
        break;
      case '--flows':
        o.flows = number;
        break;
      case '--warmup-minutes':
        o.warmupMinutes = number;
        break;
      case '--format':
        o.format = value;
        break;
      case '--out':
        o.out = value;
        break;
      case '--chart':
        o.chart = value;
        break;
      default:
        throw new Error(`unknown option ${flag} (see the comment at the top of ${__filename})`);
    }
  }
  for (const key of ['minutes', 'namespaces', 'pps', 'flows', 'warmupMinutes']) {
    if (!Number.isFinite(o[key]) || o[key] <= 0) throw new Error(`--${key} must be a positive number`);
  }
  if (!['ecs', 'none'].includes(o.format)) throw new Error('--format must be ecs or none');
  return o;
}

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function nftCounter(lab, ns, chain, match) {
  const text = lab.exec(ns, 'nft', ['list', 'chain', 'inet', 'soak', chain]);
  const m = new RegExp(`${match} counter packets (\\d+)`).exec(text);
  if (!m) throw new Error(`no counter '${match}' in ${text}`);
  return Number(m[1]);
}

/** A line chart of RSS and heap (MiB) and p99 latency (ms) over minutes, as SVG. */
function chartSvg(samples, title) {
  const width = 900;
  const height = 560;
  const left = 70;
  const right = 20;
  const panels = [
    {
      top: 40,
      h: 230,
      unit: 'MiB',
      series: [
        { name: 'RSS', color: '#1f77b4', value: (s) => s.rssMiB },
        { name: 'heap used after GC', color: '#2ca02c', value: (s) => s.heapMiB },
        { name: 'external + array buffers', color: '#9467bd', value: (s) => s.externalMiB },
      ],
    },
    {
      top: 320,
      h: 190,
      unit: 'ms',
      series: [
        { name: 'latency p99', color: '#d62728', value: (s) => s.latencyP99Ms },
        { name: 'latency p50', color: '#ff7f0e', value: (s) => s.latencyP50Ms },
      ],
    },
  ];
  const tMax = Math.max(1, ...samples.map((s) => s.minutes));
  const x = (t) => left + ((width - left - right) * t) / tMax;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`];
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14">${title}</text>`);
  for (const p of panels) {
    const yMax = Math.max(1, ...samples.flatMap((s) => p.series.map((line) => line.value(s)))) * 1.1;
    const y = (v) => p.top + p.h - (p.h * v) / yMax;
    out.push(`<rect x="${left}" y="${p.top}" width="${width - left - right}" height="${p.h}" fill="none" stroke="#999"/>`);
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4;
      out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`);
      out.push(`<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    }
    out.push(`<text x="14" y="${p.top + p.h / 2}" transform="rotate(-90 14 ${p.top + p.h / 2})" text-anchor="middle">${p.unit}</text>`);
    p.series.forEach((line, i) => {
      const points = samples.map((s) => `${x(s.minutes).toFixed(1)},${y(line.value(s)).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${line.color}" stroke-width="1.5" points="${points}"/>`);
      out.push(`<text x="${left + 10 + i * 200}" y="${p.top + 16}" fill="${line.color}">${line.name}</text>`);
    });
  }
  for (let i = 0; i <= 6; i++) {
    const t = (tMax * i) / 6;
    out.push(`<text x="${x(t)}" y="${height - 22}" text-anchor="middle">${t.toFixed(0)}</text>`);
  }
  out.push(`<text x="${(left + width) / 2}" y="${height - 6}" text-anchor="middle">minutes</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { createCollector } = require(path.join(ROOT, 'dist', 'index.js'));
  const { packetToEcsJson, flowToEcsJson } = require(path.join(ROOT, 'dist', 'decode.js'));
  const { NetnsLab } = require(path.join(ROOT, 'dist', 'lab', 'netns.js'));
  const gc = typeof global.gc === 'function' ? global.gc : null;
  if (!gc) process.stderr.write('soak: run with node --expose-gc for heap figures after a forced GC\n');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-soak-'));
  const flood = path.join(tmp, 'udp-flood');
  spawnSync('cc', ['-O2', '-o', flood, path.join(__dirname, 'udp-flood.c')], { stdio: 'inherit' });
  const lab = new NetnsLab('nfc-soak');
  const children = new Set();
  const cleanup = () => {
    for (const child of children) child.kill('SIGKILL');
    lab.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanup();
      process.exit(1);
    });
  }
  const names = Array.from({ length: o.namespaces }, (_, i) => `n${i}`);
  try {
    for (const ns of names) {
      lab.addNamespace(ns);
      lab.exec(ns, 'ip', ['addr', 'add', '127.0.0.2/8', 'dev', 'lo']);
      lab.sysctl(ns, 'net.netfilter.nf_conntrack_udp_timeout', 10);
      lab.nft(
        ns,
        `table inet soak {
          chain raw { type filter hook output priority -300; ip daddr 127.0.0.1 udp dport ${LOG_PORT}-${LOG_PORT + LOG_PORTS - 1} notrack; }
          chain out {
            type filter hook output priority 0;
            ip daddr 127.0.0.1 udp dport ${LOG_PORT}-${LOG_PORT + LOG_PORTS - 1} counter log group ${GROUP};
            ip daddr 127.0.0.2 ct state new counter;
          }
          chain in { type filter hook input priority 0; udp dport { ${LOG_PORT}-${LOG_PORT + LOG_PORTS - 1}, ${FLOW_PORT}-${FLOW_PORT + FLOW_PORTS - 1} } drop; }
        }`,
      );
    }
    const collector = createCollector({
      nflog: [GROUP],
      conntrack: { events: ['new', 'destroy'], enableSysctls: true },
      netns: names.map((ns) => lab.name(ns)),
    });
    const perNs = new Map(names.map((ns) => [lab.name(ns), { packets: 0, flowsNew: 0, flowsDestroy: 0 }]));
    let latencies = [];
    let lost = 0;
    let bytesFormatted = 0;
    const consumer = (async () => {
      for await (const batch of collector.batches()) {
        const nowUs = Date.now() * 1000;
        for (const r of batch) {
          if (r.kind === 'packet') {
            perNs.get(r.netns.name).packets++;
            latencies.push((nowUs - r.timestampUs) / 1000);
            if (o.format === 'ecs') bytesFormatted += packetToEcsJson(r).length;
          } else if (r.kind === 'flow') {
            const c = perNs.get(r.netns.name);
            if (r.event === 'new') c.flowsNew++;
            else if (r.event === 'destroy') c.flowsDestroy++;
            if (o.format === 'ecs') bytesFormatted += flowToEcsJson(r).length;
          } else if (r.kind === 'gap') {
            lost += r.count ?? 1;
          }
        }
      }
    })();

    const seconds = Math.round(o.minutes * 60);
    const senders = [];
    const send = (ns, args) => {
      const child = spawn('ip', ['netns', 'exec', lab.name(ns), flood, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.add(child);
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      senders.push(
        new Promise((resolve) =>
          child.once('close', () => {
            children.delete(child);
            try {
              resolve(JSON.parse(stdout));
            } catch {
              resolve({ sent: 0, errors: -1 });
            }
          }),
        ),
      );
    };
    const pps = Math.round(o.pps / o.namespaces);
    const fps = Math.round(o.flows / o.namespaces);
    for (const ns of names) {
      // udp-flood HOST PORT COUNT SIZE MAX_SECONDS RATE BATCH PORTS
      send(ns, ['127.0.0.1', String(LOG_PORT), String(pps * seconds), '64', String(seconds + 30), String(pps), '16', String(LOG_PORTS)]);
      send(ns, ['127.0.0.2', String(FLOW_PORT), String(fps * seconds), '16', String(seconds + 30), String(fps), '8', String(FLOW_PORTS)]);
    }

    const started = Date.now();
    const cpuStart = cpuSeconds();
    const samples = [];
    const sample = () => {
      if (gc) gc();
      const m = process.memoryUsage();
      const sorted = latencies.sort((a, b) => a - b);
      const s = collector.stats();
      const row = {
        minutes: (Date.now() - started) / 60_000,
        rssMiB: m.rss / 2 ** 20,
        heapMiB: m.heapUsed / 2 ** 20,
        externalMiB: (m.external + m.arrayBuffers) / 2 ** 20,
        packets: s.packets,
        flows: s.flows,
        lost: s.lost,
        latencyP50Ms: quantile(sorted, 0.5),
        latencyP99Ms: quantile(sorted, 0.99),
        latencyMaxMs: sorted.length ? sorted[sorted.length - 1] : 0,
        cpuSeconds: cpuSeconds() - cpuStart,
        load1: os.loadavg()[0],
      };
      latencies = [];
      samples.push(row);
      process.stdout.write(
        `${row.minutes.toFixed(1)} min  rss ${row.rssMiB.toFixed(1)} MiB  heap ${row.heapMiB.toFixed(1)} MiB  ` +
          `packets ${row.packets}  flows ${row.flows}  lost ${row.lost}  p99 ${row.latencyP99Ms.toFixed(1)} ms  load ${row.load1.toFixed(1)}\n`,
      );
    };
    const timer = setInterval(sample, SAMPLE_MS);
    const reports = await Promise.all(senders);
    clearInterval(timer);
    // Let the last records arrive: wait until every namespace's counters are met, at most 60 s.
    const expected = names.map((ns) => ({
      ns,
      logged: nftCounter(lab, ns, 'out', 'udp dport \\S+'),
      newFlows: nftCounter(lab, ns, 'out', 'ct state new'),
    }));
    const deadline = Date.now() + 60_000;
    const met = () =>
      expected.every((e) => perNs.get(lab.name(e.ns)).packets >= e.logged && perNs.get(lab.name(e.ns)).flowsNew >= e.newFlows);
    while (!met() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    sample();
    const stats = collector.stats();
    collector.close();
    await consumer;

    const warm = samples.find((s) => s.minutes >= o.warmupMinutes) ?? samples[0];
    const last = samples[samples.length - 1];
    const afterWarm = samples.filter((s) => s.minutes >= warm.minutes);
    const result = {
      options: o,
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, kernel: os.release(), node: process.version, loadAtEnd: os.loadavg() },
      senders: reports,
      namespaces: expected.map((e) => ({ ...e, ...perNs.get(lab.name(e.ns)) })),
      delivered: expected.every((e) => perNs.get(lab.name(e.ns)).packets === e.logged && perNs.get(lab.name(e.ns)).flowsNew === e.newFlows),
      lost,
      gaps: stats.gaps,
      enobufs: stats.enobufs,
      ringFull: stats.ringFull,
      cpuSecondsPerMillionRecords: (last.cpuSeconds / (stats.packets + stats.flows)) * 1e6,
      rssWarmMiB: warm.rssMiB,
      rssEndMiB: last.rssMiB,
      rssMaxAfterWarmMiB: Math.max(...afterWarm.map((s) => s.rssMiB)),
      rssGrowthAfterWarmPercent: ((last.rssMiB - warm.rssMiB) / warm.rssMiB) * 100,
      heapWarmMiB: warm.heapMiB,
      heapEndMiB: last.heapMiB,
      latencyP99MaxMs: Math.max(...samples.map((s) => s.latencyP99Ms)),
      bytesFormatted,
      samples,
    };
    const outFile = o.out ?? path.join(ROOT, 'bench-results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    if (o.chart) {
      const title = `soak: ${o.namespaces} namespaces, ${o.pps} packets/s + ${o.flows} new flows/s, ${o.minutes} min (${o.format})`;
      fs.writeFileSync(o.chart, chartSvg(samples, title));
    }
    const { samples: _omit, ...summary } = result;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (!result.delivered || lost > 0) process.exitCode = 1;
  } finally {
    cleanup();
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`soak: ${err.stack || err.message}\n`);
    process.exitCode = 1;
  });
}

module.exports = { chartSvg };
