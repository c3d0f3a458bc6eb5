#!/usr/bin/env node
'use strict';
// Entry point of `npm run bench`: the NFLOG burst benchmark (all contenders,
// 1,000,000 packets unless told otherwise). Arguments pass through:
//   npm run bench -- --packets 3000000 --runs 3
// See scripts/bench/nflog-burst.js --help.
const { spawn } = require('node:child_process');
const path = require('node:path');

const child = spawn(process.execPath, [path.join(__dirname, 'nflog-burst.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
// The benchmark deletes its namespace on SIGINT/SIGTERM: pass them on and wait for it.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(/** @type {NodeJS.Signals} */ (sig)));
child.on('error', (err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = 1;
});
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
