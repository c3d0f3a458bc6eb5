'use strict';
// One fuzz target in a worker thread (see run.js). Mirrors each case's input
// into shared memory before running it, so the main thread can save it if the
// case never returns.
const { parentPort, workerData } = require('node:worker_threads');
require('./ts-require').register();
process.setSourceMapsEnabled?.(true);
const { targetByName } = require('./targets.ts');
const { fuzzTarget } = require('./engine.ts');

const { target, cases, seed, slowMs, guided, shared } = workerData;
const header = new Int32Array(shared, 0, 4);
const mirror = new Uint8Array(shared, 16);

const summary = fuzzTarget(targetByName(target), {
  cases,
  seed,
  slowMs,
  guided,
  beforeCase(input, caseIndex) {
    mirror.set(input.bytes.subarray(0, input.length));
    Atomics.store(header, 1, input.length);
    Atomics.store(header, 0, caseIndex);
  },
  onProgress: (s) => parentPort.postMessage({ type: 'progress', summary: s }),
});
Atomics.store(header, 2, 1);
parentPort.postMessage({ type: 'done', summary });
