#!/usr/bin/env node
// The Community ID's hash per packet, both ways the issue asked to measure:
// node's one-shot crypto.hash (its base64 string, then copied into the line
// as the writer copies strings) against the JS one-block SHA-1 of
// src/ecs/sha1.ts with its base64 written straight into the line bytes
// (writeCommunityId). Messages of 16 bytes (IPv4 with ports) and 40 (IPv6),
// a new one each time. CPU nanoseconds per hash, median of the rounds.
//   npm run build && node scripts/bench/community-id.js [--hashes N] [--rounds K]
'use strict';
const { hash } = require('node:crypto');
const { sha1Block } = require('../../dist/ecs/sha1');
const { writeCommunityId } = require('../../dist/ecs/community-id');
const { writeJsonString } = require('../../dist/ecs/doc-writer');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const HASHES = arg('--hashes', 2_000_000);
const ROUNDS = arg('--rounds', 5);

const block = new Uint8Array(64);
const views = Array.from({ length: 65 }, (_, n) => block.subarray(0, n));
const digest = new Int32Array(5);
const out = Buffer.alloc(1024);

const WAYS = {
  'crypto.hash, base64 string, copied into the line': (length, i) => {
    block[length - 1] = i;
    block[length - 2] = i >> 8;
    return writeJsonString(out, 0, '1:' + hash('sha1', views[length], 'base64'));
  },
  'JS SHA-1, base64 into the line bytes': (length, i) => {
    block[length - 1] = i;
    block[length - 2] = i >> 8;
    sha1Block(block, length, digest);
    return writeCommunityId(digest, out, 0);
  },
};

function cpuNs(way, length) {
  let sink = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < HASHES; i++) sink += way(length, i);
  const used = process.cpuUsage(start);
  if (sink < 0) console.log(sink);
  return ((used.user + used.system) * 1000) / HASHES;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Community ID hash: ${HASHES} hashes a round, median of ${ROUNDS} rounds, Node ${process.version}`);
console.log('| way | 16-byte message, CPU ns | 40-byte message, CPU ns |');
console.log('| --- | ---: | ---: |');
for (const [name, way] of Object.entries(WAYS)) {
  const figures = [16, 40].map((length) => {
    cpuNs(way, length); // warm-up
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(cpuNs(way, length));
    return Math.round(median(rounds));
  });
  console.log(`| ${name} | ${figures[0]} | ${figures[1]} |`);
}
