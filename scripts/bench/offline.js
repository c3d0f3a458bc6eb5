#!/usr/bin/env node
// Offline decoding benchmark: replays the recorded NFLOG datagrams of
// test/fixtures in a loop on one core, and prints packet records per second
// for decode only, decode + ECS object, and decode + ECS NDJSON line.
//   npm run build && node scripts/bench/offline.js [--packets N] [--runs K]
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { DatagramDecoder } = require('../../dist/datagram');
const { packetToEcs } = require('../../dist/ecs/packet');
const { packetToEcsJson } = require('../../dist/ecs/packet-json');

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

const MODES = {
  decode: () => 0,
  'decode+ecs': (r) => (packetToEcs(r).event.kind === 'event' ? 1 : 0),
  'decode+ecs+json': (r) => packetToEcsJson(r).length,
};

function run(mode) {
  const decoder = new DatagramDecoder();
  const out = [];
  const finish = MODES[mode];
  let packets = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; packets < PACKETS; i++) {
    const d = datagrams[i % datagrams.length];
    out.length = 0;
    decoder.decode(d.bytes, d.view, 0, d.bytes.length, 1, 0, d.receivedUs, out);
    for (let k = 0; k < out.length; k++) if (out[k].kind === 'packet') sink += finish(out[k]);
    packets += out.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(sink);
  return packets / seconds;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`offline decoding: ${datagrams.length} recorded datagrams replayed, ${PACKETS} packets a run, median of ${RUNS} runs`);
console.log('| mode | packets/s | ns/packet |');
console.log('| --- | ---: | ---: |');
for (const mode of Object.keys(MODES)) {
  run(mode); // warm-up
  const rates = [];
  for (let r = 0; r < RUNS; r++) rates.push(run(mode));
  const rate = median(rates);
  console.log(`| ${mode} | ${Math.round(rate).toLocaleString('en-US')} | ${Math.round(1e9 / rate)} |`);
}
