#!/usr/bin/env node
'use strict';
// Fuzzing campaign over the decoders and formatters (issue #6).
//
//   node scripts/fuzz/run.js [--cases N] [--seed S] [--target X[,Y]] [--jobs J]
//                            [--slow-ms MS] [--hang-s S] [--no-guide] [--no-save] [--json FILE]
//
// Runs on the TypeScript sources directly (no build needed; the project's own
// typescript transpiles them on load). Each target runs in a worker thread
// that mirrors its current input into shared memory, so a case that never
// returns is caught by this thread, and saved, instead of hanging the run.
// Findings are saved to test/fixtures/fuzz-regressions/ (unless --no-save);
// the exit status is 1 when there are any.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
require('./ts-require').register();
const { TARGETS } = require('./targets.ts');
const { saveRegression } = require('./regressions.ts');

const HEADER_INTS = 4; // [caseIndex, inputLength, done, unused]

function parseArgs(argv) {
  const o = { cases: 100_000, seed: 1, targets: [], jobs: 1, slowMs: 100, hangS: 10, guided: true, save: true, json: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = (v, min) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${a} must be an integer >= ${min}, got '${v}'`);
      return n;
    };
    if (a === '--cases') o.cases = int(next(), 1);
    else if (a === '--seed') o.seed = int(next(), 0);
    else if (a === '--target') o.targets.push(...next().split(',').filter(Boolean));
    else if (a === '--jobs') o.jobs = int(next(), 1);
    else if (a === '--slow-ms') o.slowMs = int(next(), 1);
    else if (a === '--hang-s') o.hangS = int(next(), 1);
    else if (a === '--no-guide') o.guided = false;
    else if (a === '--no-save') o.save = false;
    else if (a === '--json') o.json = next();
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument '${a}' (try --help)`);
  }
  return o;
}

function help() {
  console.log(`usage: node scripts/fuzz/run.js [--cases N] [--seed S] [--target X[,Y]] [--jobs J]
                              [--slow-ms MS] [--hang-s S] [--no-guide] [--no-save] [--json FILE]
  --cases N    cases per target (default 100000)
  --seed S     campaign seed (default 1); the same seed replays the same cases
  --target X   only these targets (default all): ${TARGETS.map((t) => t.name).join(', ')}
  --jobs J     targets run at once (default 1)
  --slow-ms    a case slower than this is a finding (default 100)
  --hang-s     a case running longer than this is a hang: the worker is stopped (default 10)
  --no-guide   no coverage guidance (mutate the seeds only)
  --no-save    do not write findings to test/fixtures/fuzz-regressions/
  --json FILE  write the summaries as JSON`);
}

/** Runs one target in a worker; resolves with its summary (findings included). */
function runTarget(name, o) {
  return new Promise((resolve) => {
    const shared = new SharedArrayBuffer(HEADER_INTS * 4 + 8192);
    const header = new Int32Array(shared, 0, HEADER_INTS);
    const mirror = new Uint8Array(shared, HEADER_INTS * 4);
    const worker = new Worker(path.join(__dirname, 'worker.js'), {
      workerData: { target: name, cases: o.cases, seed: o.seed, slowMs: o.slowMs, guided: o.guided, shared },
    });
    let lastCase = -1;
    let stuckSince = Date.now();
    let settled = false;
    const settle = (summary) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(summary);
    };
    const watchdog = setInterval(() => {
      const current = Atomics.load(header, 0);
      if (current !== lastCase) {
        lastCase = current;
        stuckSince = Date.now();
        return;
      }
      if (Atomics.load(header, 2) === 0 && Date.now() - stuckSince > o.hangS * 1000) {
        const length = Atomics.load(header, 1);
        const input = mirror.slice(0, length);
        void worker.terminate();
        const finding = {
          target: name,
          kind: 'hang',
          message: `case ${current} ran for more than ${o.hangS} s`,
          signature: 'hang',
          input,
          caseIndex: current,
        };
        settle({
          target: name,
          cases: current,
          seconds: NaN,
          casesPerSecond: 0,
          errors: {},
          clean: 0,
          maxOutputSize: 0,
          maxRecords: 0,
          slowestMs: NaN,
          corpus: 0,
          features: 0,
          findings: [finding],
        });
      }
    }, 1000);
    worker.on('message', (m) => {
      if (m.type === 'progress') progress(m.summary);
      else if (m.type === 'done') settle(m.summary);
    });
    worker.on('error', (err) => {
      const finding = {
        target: name,
        kind: 'crash',
        message: `worker died: ${err?.stack}`,
        signature: 'worker',
        input: mirror.slice(0, Atomics.load(header, 1)),
        caseIndex: Atomics.load(header, 0),
      };
      settle({
        target: name,
        cases: Atomics.load(header, 0),
        seconds: NaN,
        casesPerSecond: 0,
        errors: {},
        clean: 0,
        maxOutputSize: 0,
        maxRecords: 0,
        slowestMs: NaN,
        corpus: 0,
        features: 0,
        findings: [finding],
      });
    });
  });
}

function progress(s) {
  const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
  console.log(
    `[fuzz] ${s.target.padEnd(10)} ${String(s.cases).padStart(9)} cases  ${String(s.casesPerSecond).padStart(7)}/s  ${errors} decode errors  corpus ${s.corpus}  features ${s.features}  findings ${s.findings.length}`,
  );
}

function printSummary(summaries, o, totalSeconds) {
  console.log(`\n[fuzz] summary (seed ${o.seed}, ${o.cases} cases per target, ${totalSeconds.toFixed(1)} s)`);
  console.log('target       cases     s    cases/s  clean%  max out  max rec  slowest ms  corpus  features  findings');
  for (const s of summaries) {
    const clean = s.cases ? ((100 * s.clean) / s.cases).toFixed(1) : '-';
    console.log(
      `${s.target.padEnd(10)} ${String(s.cases).padStart(8)} ${s.seconds.toFixed(1).padStart(6)} ${String(s.casesPerSecond).padStart(9)} ${String(clean).padStart(6)} ${String(s.maxOutputSize).padStart(8)} ${String(s.maxRecords).padStart(8)} ${s.slowestMs.toFixed(2).padStart(11)} ${String(s.corpus).padStart(7)} ${String(s.features).padStart(9)} ${String(s.findings.length).padStart(9)}`,
    );
  }
  for (const s of summaries) {
    const codes = Object.entries(s.errors).sort((a, b) => b[1] - a[1]);
    console.log(`\n[fuzz] ${s.target}: decode errors by code (${codes.length} codes)`);
    for (const [code, n] of codes) console.log(`  ${code.padEnd(40)} ${n}`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) return help();
  const names = o.targets.length ? o.targets : TARGETS.map((t) => t.name);
  for (const n of names) if (!TARGETS.some((t) => t.name === n)) throw new Error(`unknown target '${n}'`);
  const started = Date.now();
  const summaries = new Array(names.length);
  let nextIndex = 0;
  const lane = async () => {
    while (nextIndex < names.length) {
      const i = nextIndex++;
      summaries[i] = await runTarget(names[i], o);
      progress(summaries[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, names.length) }, lane));
  printSummary(summaries, o, (Date.now() - started) / 1000);

  const findings = summaries.flatMap((s) => s.findings);
  if (findings.length) console.log(`\n[fuzz] ${findings.length} finding(s):`);
  for (const f of findings) {
    const where = o.save ? saveRegression(f, o.seed) : '(not saved)';
    console.log(
      `  ${f.target} ${f.kind} at case ${f.caseIndex}: ${f.message.split('\n')[0]}\n    ${Buffer.from(f.input).toString('hex').slice(0, 160)}\n    -> ${where}`,
    );
  }
  if (o.json) {
    const plain = summaries.map((s) => ({
      ...s,
      findings: s.findings.map((f) => ({ ...f, input: Buffer.from(f.input).toString('hex') })),
    }));
    require('node:fs').writeFileSync(o.json, JSON.stringify({ seed: o.seed, cases: o.cases, summaries: plain }, null, 1));
  }
  console.log(findings.length ? '\n[fuzz] FAIL' : '\n[fuzz] PASS: no crash, hang, slow case or oracle failure');
  process.exitCode = findings.length ? 1 : 0;
}

main().catch((err) => {
  console.error(`[fuzz] ${err?.stack ? err.stack : err}`);
  process.exitCode = 2;
});
