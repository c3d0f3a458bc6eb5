#!/usr/bin/env node
// Offline decoding benchmark: replays the recorded NFLOG datagrams of
// test/fixtures in a loop on one core, and prints packet records per second
// for decode only, decode + ECS object, decode + ECS JSON string (the API's
// packetToEcsJson), and decode + ECS NDJSON into an output buffer as the CLI
// does.
// With --scan, each recorded IPv4 UDP, IPv4 TCP and IPv6 UDP packet is
// rewritten, before the timing, into 20,000 records of a scan (the next of
// 50,000 destination ports and of 101 destination addresses, its own IP id,
// checksum, timestamps and sequence numbers, as scripts/bench/scan-flood.c
// sends them), and the records are written as ECS lines in turn: the line
// writer's cost when no two packets share a flow.
// With --scan --decode-only, the scan's entries are rewritten as NFLOG bytes instead and only
// decoded into records (as the collector's take loop does): the records path's cost.
// With --single-flow, the first recorded packet is repeated as 1,000 records of one flow (its
// sequence number and times changed) written as ECS lines in turn: a flow's line from its template,
// the Community ID from the flow's cache.
// --kind SHAPE keeps one kind of entry (ipv4/udp, ipv4/tcp, ipv6/udp), or decodes entries like the live
// syn4 scan's (syn4-output: output hook, uid/gid, MSS-only SYNs); --retained (with node
// --expose-gc) prints the heap bytes each kept record holds instead of a rate.
//   npm run build && node scripts/bench/offline.js [--packets N] [--runs K] [--mode PREFIX] [--scan [--lines-only] [--decode-only [--kind SHAPE] [--retained]]] [--single-flow]
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { DatagramDecoder } = require('../../dist/datagram');
const { packetToEcs } = require('../../dist/ecs/packet');
const { EcsPacketLines } = require('../../dist/ecs/packet-json');
const { LineEncoder } = require('../../dist/format/line-target');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const PACKETS = arg('--packets', 1_000_000);
const RUNS = arg('--runs', 5);

const fixtures = path.join(__dirname, '..', '..', 'test', 'fixtures');
const datagrams = [];
for (const name of fs.readdirSync(fixtures).filter((n) => n.startsWith('nflog-'))) {
  for (const d of JSON.parse(fs.readFileSync(path.join(fixtures, name), 'utf8')).datagrams) {
    if (d.source !== 1) continue;
    const bytes = new Uint8Array(Buffer.from(d.hex, 'hex'));
    datagrams.push({ bytes, view: new DataView(bytes.buffer), receivedUs: d.receivedUs });
  }
}

// The NDJSON modes write lines as the CLI does (src/cli/run.ts): into a LineEncoder, whose chunks
// are taken every 1,024 lines, as the CLI hands them to its output once per batch.
const encoder = new LineEncoder();
let sinceTake = 0;

function ndjson(lines) {
  return (r) => {
    lines.writeLine(r, encoder);
    if (++sinceTake === 1024) {
      // As the CLI's output does once a file sink has written them: the buffers come back.
      for (const chunk of encoder.take()) encoder.recycle(chunk.bytes);
      sinceTake = 0;
    }
    return 1;
  };
}

// As the CLI: ECS lines written straight into bytes.
const lines = new EcsPacketLines();

const MODES = {
  decode: () => 0,
  'decode+ecs': (r) => (packetToEcs(r).event.kind === 'event' ? 1 : 0),
  'decode+ecs+json (string only)': (r) => lines.line(r).length,
  'decode+ecs+ndjson (into the output buffer)': ndjson(lines),
};

function run(mode) {
  const decoder = new DatagramDecoder();
  const out = [];
  const finish = MODES[mode];
  let packets = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; packets < PACKETS; i++) {
    const d = datagrams[i % datagrams.length];
    out.length = 0;
    decoder.decode(d.bytes, d.view, 0, d.bytes.length, 1, 0, d.receivedUs, out);
    for (let k = 0; k < out.length; k++) if (out[k].kind === 'packet') sink += finish(out[k]);
    packets += out.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink);
  // Per CPU-second of the process (all its threads, GC helpers included): less
  // disturbed than wall time when other work shares the machine.
  return { wall: packets / seconds, cpu: packets / ((cpu.user + cpu.system) / 1e6) };
}

// ------------------------------------------------------------------ scans

const SCAN_RECORDS = 20_000;

function scanRecords() {
  const seen = new Set();
  const bases = [];
  for (const d of datagrams) {
    const out = [];
    new DatagramDecoder().decode(d.bytes, d.view, 0, d.bytes.length, 1, 0, d.receivedUs, out);
    for (const r of out) {
      const shape = `${r.packet.network?.kind}/${r.packet.transport?.kind}`;
      if (r.kind === 'packet' && ['ipv4/udp', 'ipv4/tcp', 'ipv6/udp'].includes(shape) && !seen.has(shape)) {
        seen.add(shape);
        bases.push(r);
      }
    }
  }
  const records = [];
  for (const base of bases) {
    const net = base.packet.network;
    for (let i = 0; i < SCAN_RECORDS; i++) {
      const a = i % 101;
      const dst = net.kind === 'ipv4' ? `127.1.${a >> 8}.${a & 0xff}` : `2001:db8:5ca::${(a + 1).toString(16)}`;
      const network = { ...net, dst };
      if (net.kind === 'ipv4') {
        network.id = i & 0xffff;
        network.checksum = (i * 7919) & 0xffff;
      } else {
        network.flowLabel = (i * 40503) & 0xfffff; // Linux: a hash of the flow
      }
      const transport = { ...base.packet.transport, dstPort: 9000 + (i % 50000), checksum: (i * 104729) & 0xffff };
      if (transport.kind === 'tcp') {
        transport.srcPort = 1024 + ((i * 13) % 60000);
        transport.seq = (i * 2654435761) >>> 0;
      }
      const packet = { ...base.packet, network, transport };
      records.push({ ...base, packet, timestampUs: base.timestampUs + i * 3, receivedUs: base.receivedUs + i * 3, seq: i, seqGlobal: i });
    }
  }
  return records;
}

function runScan(records, writeOne) {
  let packets = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; packets < PACKETS; i++) {
    // Each kind in turn for a run of 5,000 packets.
    const r = records[(Math.floor(i / 5000) % 3) * SCAN_RECORDS + (i % SCAN_RECORDS)];
    writeOne(r);
    packets++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { wall: packets / seconds, cpu: packets / ((cpu.user + cpu.system) / 1e6) };
}

// ------------------------------------------------------------------ scans, decoding only

// The same scan as NFLOG bytes: each recorded IPv4 UDP, IPv4 TCP and IPv6 UDP entry copied
// 20,000 times with the fields scanRecords() varies rewritten in the entry's payload (and its
// NFULA_SEQ/NFULA_SEQ_GLOBAL when present), packed 32 entries a datagram in runs of 5,000 of each
// kind: what the records path decodes from the ring in a scan.
const NLA_ATTRS = { PAYLOAD: 9, SEQ: 12, SEQ_GLOBAL: 13 };

function attributeAt(view, message, type) {
  const end = message + view.getUint32(message, true);
  let at = message + 16 + 4;
  while (at + 4 <= end) {
    const length = view.getUint16(at, true);
    if (length < 4) break;
    if ((view.getUint16(at + 2, true) & 0x7fff) === type) return at + 4;
    at += (length + 3) & ~3;
  }
  return -1;
}

// --kind ipv4/udp|ipv4/tcp|ipv6/udp: only that kind of the scan's entries; --kind syn4-output: see synOutputMessages().
const KIND = process.argv.includes('--kind') ? process.argv[process.argv.indexOf('--kind') + 1] : null;
const SCAN_SHAPES = ['ipv4/udp', 'ipv4/tcp', 'ipv6/udp'].filter((shape) => KIND === null || shape === KIND);

function scanMessages() {
  const seen = new Map();
  for (const d of datagrams) {
    let at = 0;
    while (at + 16 <= d.bytes.length) {
      const length = d.view.getUint32(at, true);
      if (length < 16 || at + length > d.bytes.length) break;
      const out = [];
      const one = d.bytes.slice(at, at + length);
      new DatagramDecoder().decode(one, new DataView(one.buffer), 0, one.length, 1, 0, d.receivedUs, out);
      const r = out.find((x) => x.kind === 'packet');
      const shape = r && `${r.packet.network?.kind}/${r.packet.transport?.kind}`;
      if (r && !r.decodeError && SCAN_SHAPES.includes(shape) && !seen.has(shape)) seen.set(shape, one);
      at += (length + 3) & ~3;
    }
  }
  const messages = [];
  for (let block = 0; block < (SCAN_RECORDS / 5000) * 3; block++) {
    const base = [...seen.values()][block % seen.size];
    const baseView = new DataView(base.buffer);
    const payload = attributeAt(baseView, 0, NLA_ATTRS.PAYLOAD);
    const seqAt = attributeAt(baseView, 0, NLA_ATTRS.SEQ);
    const seqGlobalAt = attributeAt(baseView, 0, NLA_ATTRS.SEQ_GLOBAL);
    for (let k = 0; k < 5000; k++) {
      const i = Math.floor(block / seen.size) * 5000 + k;
      const m = base.slice();
      const v = new DataView(m.buffer);
      const a = i % 101;
      const ipv4 = m[payload] >> 4 === 4;
      const t = payload + (ipv4 ? (m[payload] & 15) * 4 : 40);
      if (ipv4) {
        m[payload + 18] = a >> 8;
        m[payload + 19] = a & 0xff;
        v.setUint16(payload + 4, i & 0xffff);
        v.setUint16(payload + 10, (i * 7919) & 0xffff);
      } else {
        v.setUint16(payload + 38, a + 1);
        v.setUint32(payload, (v.getUint32(payload) & 0xfff00000) | ((i * 40503) & 0xfffff));
      }
      v.setUint16(t + 2, 9000 + (i % 50000));
      if (m[payload + (ipv4 ? 9 : 6)] === 6) {
        v.setUint16(t, 1024 + ((i * 13) % 60000));
        v.setUint32(t + 4, (i * 2654435761) >>> 0);
        v.setUint16(t + 16, (i * 104729) & 0xffff);
      } else {
        v.setUint16(t + 6, (i * 104729) & 0xffff);
      }
      if (seqAt >= 0) v.setUint32(seqAt, i);
      if (seqGlobalAt >= 0) v.setUint32(seqGlobalAt, i);
      messages.push(m);
    }
  }
  return messages;
}

// --kind syn4-output: entries as the live syn4 scan's (scan-flood.c) reach the collector, built here
// since no fixture has them: output hook, the socket's uid and gid, no MAC header, no kernel timestamp,
// SYNs with only an MSS option, to the next of 50,000 ports and 101 addresses.
function synOutputMessages() {
  const attr = (type, bytes) => {
    const out = [(4 + bytes.length) & 0xff, (4 + bytes.length) >> 8, type, 0, ...bytes];
    while (out.length % 4) out.push(0);
    return out;
  };
  const u16 = (v) => [v >> 8, v & 0xff];
  const u32 = (v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  const messages = [];
  for (let i = 0; i < SCAN_RECORDS * 3; i++) {
    const a = i % 101;
    const ip = [0x45, 0, ...u16(44), ...u16(i & 0xffff), 0, 0, 64, 6, ...u16((i * 7919) & 0xffff), 127, 0, 0, 1, 127, 1, a >> 8, a & 0xff];
    const tcp = [...u16(1024 + (i % 64499)), ...u16(9000 + (i % 50000)), ...u32((i * 2654435761) >>> 0), 0, 0, 0, 0, 0x60, 0x02];
    tcp.push(...u16(1024), ...u16((i * 104729) & 0xffff), 0, 0, 2, 4, 0x05, 0xb4);
    const body = [2, 0, 0, 51, ...attr(1, [8, 0, 3, 0]), ...attr(5, u32(1)), ...attr(11, u32(0)), ...attr(14, u32(0))];
    body.push(...attr(12, u32(i)), ...attr(10, [...Buffer.from('IPTABLES: DROP '), 0]), ...attr(9, [...ip, ...tcp]));
    messages.push(Uint8Array.from([...u32(16 + body.length).reverse(), 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...body]));
  }
  return messages;
}

function scanDatagrams() {
  const messages = KIND === 'syn4-output' ? synOutputMessages() : scanMessages();
  const packed = [];
  for (let i = 0; i < messages.length; i += 32) {
    const group = messages.slice(i, i + 32);
    const bytes = new Uint8Array(group.reduce((n, m) => n + ((m.length + 3) & ~3), 0));
    let at = 0;
    for (const m of group) {
      bytes.set(m, at);
      at += (m.length + 3) & ~3;
    }
    packed.push({ bytes, view: new DataView(bytes.buffer), receivedUs: datagrams[0].receivedUs + i });
  }
  return packed;
}

function runScanDecode(packed) {
  // As the collector's take(): one decoder, records appended to an array per batch of datagrams.
  const decoder = new DatagramDecoder();
  let packets = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let out = [];
  for (let i = 0; packets < PACKETS; i++) {
    const d = packed[i % packed.length];
    packets += decoder.decode(d.bytes, d.view, 0, d.bytes.length, 1, 0, d.receivedUs, out);
    if (out.length >= 1024) {
      sink += out.length;
      out = [];
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink);
  return { wall: packets / seconds, cpu: packets / ((cpu.user + cpu.system) / 1e6) };
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`offline decoding: ${datagrams.length} recorded datagrams replayed, ${PACKETS} packets a run, median of ${RUNS} runs`);
console.log('| mode | packets / CPU-s | CPU ns/packet | packets/s (wall) |');
console.log('| --- | ---: | ---: | ---: |');
if (process.argv.includes('--scan') && process.argv.includes('--decode-only') && process.argv.includes('--retained')) {
  // Memory per record: the scan's records, all kept, against the heap before (run with --expose-gc).
  if (typeof global.gc !== 'function') throw new Error('--retained needs node --expose-gc');
  const packed = scanDatagrams();
  const decoder = new DatagramDecoder();
  const kept = [];
  for (const d of packed) decoder.decode(d.bytes, d.view, 0, d.bytes.length, 1, 0, d.receivedUs, kept);
  kept.length = 0;
  const n = packed.reduce((sum, d) => sum + decoder.decode(d.bytes, d.view, 0, d.bytes.length, 1, 0, d.receivedUs, []), 0);
  global.gc();
  const before = process.memoryUsage().heapUsed;
  for (const d of packed) decoder.decode(d.bytes, d.view, 0, d.bytes.length, 1, 0, d.receivedUs, kept);
  global.gc();
  const after = process.memoryUsage().heapUsed;
  console.log(
    `| scan records kept (${kept.length.toLocaleString('en-US')}, ${n} a pass) | heap bytes per record: ${Math.round((after - before) / kept.length)} | | |`,
  );
  process.exit(0);
}
if (process.argv.includes('--scan') && process.argv.includes('--decode-only')) {
  const packed = scanDatagrams();
  runScanDecode(packed); // warm-up
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(runScanDecode(packed));
  const cpuRate = median(runs.map((x) => x.cpu));
  const n = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`| scan decode into records | ${n(cpuRate)} | ${Math.round(1e9 / cpuRate)} | ${n(median(runs.map((x) => x.wall)))} |`);
  process.exit(0);
}
if (process.argv.includes('--single-flow')) {
  const out = [];
  new DatagramDecoder().decode(datagrams[0].bytes, datagrams[0].view, 0, datagrams[0].bytes.length, 1, 0, datagrams[0].receivedUs, out);
  const base = out.find((r) => r.kind === 'packet');
  const records = [];
  for (let i = 0; i < 1000; i++)
    records.push({ ...base, seq: i, timestampUs: base.timestampUs + i * 3, receivedUs: base.receivedUs + i * 3 });
  const writeOne = ndjson(lines);
  const runFlow = () => {
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < PACKETS; i++) writeOne(records[i % 1000]);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return { wall: PACKETS / seconds, cpu: PACKETS / ((cpu.user + cpu.system) / 1e6) };
  };
  runFlow(); // warm-up
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(runFlow());
  const cpuRate = median(runs.map((x) => x.cpu));
  const n = (x) => Math.round(x).toLocaleString('en-US');
  console.log(
    `| single flow ecs+ndjson (into the output buffer) | ${n(cpuRate)} | ${Math.round(1e9 / cpuRate)} | ${n(median(runs.map((x) => x.wall)))} |`,
  );
  process.exit(0);
}
if (process.argv.includes('--scan')) {
  const records = scanRecords();
  const modes = {
    'scan ecs+ndjson (into the output buffer)': ndjson(lines),
    ...(process.argv.includes('--lines-only') ? {} : { 'scan ecs object': (r) => (packetToEcs(r).event.kind === 'event' ? 1 : 0) }),
  };
  for (const [mode, writeOne] of Object.entries(modes)) {
    runScan(records, writeOne); // warm-up
    const runs = [];
    for (let r = 0; r < RUNS; r++) runs.push(runScan(records, writeOne));
    const cpuRate = median(runs.map((x) => x.cpu));
    const n = (x) => Math.round(x).toLocaleString('en-US');
    console.log(`| ${mode} | ${n(cpuRate)} | ${Math.round(1e9 / cpuRate)} | ${n(median(runs.map((x) => x.wall)))} |`);
  }
  process.exit(0);
}
const only = process.argv.indexOf('--mode') > 0 ? process.argv[process.argv.indexOf('--mode') + 1] : null;
for (const mode of Object.keys(MODES).filter((m) => only === null || m.startsWith(only))) {
  run(mode); // warm-up
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(run(mode));
  const cpuRate = median(runs.map((x) => x.cpu));
  const wallRate = median(runs.map((x) => x.wall));
  const n = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`| ${mode} | ${n(cpuRate)} | ${Math.round(1e9 / cpuRate)} | ${n(wallRate)} |`);
}
