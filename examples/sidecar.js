#!/usr/bin/env node
// Shipper 3, the command line as a sidecar: run netfilter-collector, read its
// ECS lines one by one, and do something with each (here: count by
// event.action and print the tally). Lines are always whole, even when the
// collector is stopped while this reader is behind; SIGTERM is passed on, and
// the collector's exit status says whether it dropped lines at exit (3).
//
//   node examples/sidecar.js GROUP [NETNS]
'use strict';
const { spawn } = require('node:child_process');
const readline = require('node:readline');

const [group, netns] = process.argv.slice(2);
const args = ['--nflog', group, '--format', 'ecs', '--stats', '--stats-interval', '0', ...(netns ? ['--netns', netns] : [])];
const cli = spawn('netfilter-collector', args, { stdio: ['ignore', 'pipe', 'inherit'] });
process.once('SIGTERM', () => cli.kill('SIGTERM'));
process.once('SIGINT', () => cli.kill('SIGTERM'));

const byAction = {};
let documents = 0;
const lines = readline.createInterface({ input: cli.stdout, crlfDelay: Number.POSITIVE_INFINITY });
lines.on('line', (line) => {
  const doc = JSON.parse(line); // never a partial line
  if (doc.event.kind === 'pipeline_error') return console.error('the collector lost events:', doc.error.message);
  documents++;
  byAction[doc.event.action ?? 'unknown'] = (byAction[doc.event.action ?? 'unknown'] ?? 0) + 1;
});
const exited = new Promise((resolve) => cli.once('exit', (code) => resolve(code)));
const read = new Promise((resolve) => lines.once('close', resolve));
Promise.all([exited, read]).then(([code]) => {
  console.log(JSON.stringify({ documents, byAction, collectorExit: code }));
  process.exitCode = code === 0 ? 0 : code === 3 ? 3 : 1;
});
