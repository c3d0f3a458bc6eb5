#!/usr/bin/env node
// Lines per second through each output sink (stdout, file, unix, tcp, tcp6)
// to a fast receiver on loopback: a separate process that reads and counts.
// Usage: node scripts/bench/sinks.js [LINES] [LINE_BYTES]
// The sinks as built (dist/); SINKS_DIST=DIR takes another build (to compare
// two versions in one run), SINKS=stdout,file runs only those. CPU seconds per
// million lines are the writer's own (process.cpuUsage), robust to load.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const LINES = Number(process.argv[2] ?? 2_000_000);
const LINE_BYTES = Number(process.argv[3] ?? 200);
const BATCH = 1000;

// The sinks as built (npm run build), with the line target they take.
function loadSinks() {
  const dist = process.env.SINKS_DIST ?? path.join(root, 'dist');
  return { ...require(path.join(dist, 'sink')), ...require(path.join(dist, 'format/line-target')) };
}

// Pushes LINES lines through a sink the way the CLI does (encode, flush per batch, await ready), then closes.
async function produce(sinks, target, options) {
  const sink = sinks.openSink(sinks.parseSinkTarget(target), options);
  const encoder = new sinks.LineEncoder();
  const pad = 'x'.repeat(Math.max(0, LINE_BYTES - 30));
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < LINES; i += BATCH) {
    for (let j = i; j < i + BATCH && j < LINES; j++) encoder.line(`{"seq":${j},"pad":"${pad}"}`);
    for (const chunk of encoder.take()) sink.write(chunk);
    await sink.ready();
    // A socket sink never pushes back: yield as the collector does between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const report = await sink.close(60_000);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, report, stats: sink.stats() };
}

// A receiver process: listens, reads and counts bytes, prints the count when the sender closes.
function startReceiver(listen) {
  const code = `
const net = require('node:net');
const server = net.createServer((s) => { let n = 0; s.on('data', (d) => { n += d.length; }); s.on('end', () => { process.stdout.write(String(n) + '\\n'); server.close(); }); });
server.listen(${JSON.stringify(listen)}, () => process.stdout.write('ready ' + (server.address().port ?? 0) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  /** @type {number | undefined} */
  let port;
  return new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^ready (\d+)\n/.exec(out);
      if (m && port === undefined) {
        port = Number(m[1]);
        resolve({
          port,
          received: () => new Promise((done) => child.on('exit', () => done(Number(out.split('\n')[1])))),
        });
      }
    });
  });
}

function report(name, { seconds, cpuSeconds, stats }, receivedBytes) {
  const rate = stats.writtenLines / seconds;
  const mb = stats.writtenBytes / seconds / 1048576;
  const check =
    receivedBytes === undefined
      ? ''
      : `, receiver got ${receivedBytes === stats.writtenBytes ? 'every byte' : `${receivedBytes} of ${stats.writtenBytes} bytes`}`;
  const perMillion = (cpuSeconds / stats.writtenLines) * 1e6;
  console.log(
    `${name.padEnd(7)} ${(rate / 1e6).toFixed(2)} M lines/s  ${mb.toFixed(0)} MiB/s  ${perMillion.toFixed(2)} CPU-s/M lines  (${stats.writtenLines} lines in ${seconds.toFixed(2)} s, dropped ${stats.droppedLines}${check})`,
  );
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-bench-'));
  try {
    const sinks = loadSinks();
    if (process.argv[4] === '--child-stdout') {
      const result = await produce(sinks, '-', {});
      process.stderr.write(JSON.stringify(result) + '\n');
      return;
    }
    console.log(`${LINES} lines of ${LINE_BYTES} bytes, batches of ${BATCH}; node ${process.version}, ${os.cpus().length} CPUs`);

    const only = process.env.SINKS ? process.env.SINKS.split(',') : null;
    const wanted = (name) => only === null || only.includes(name);
    // stdout: a child process writes, this one reads and counts.
    if (wanted('stdout')) {
      const child = spawn(process.execPath, [__filename, String(LINES), String(LINE_BYTES), '--child-stdout'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let bytes = 0;
      let err = '';
      child.stdout.on('data', (d) => (bytes += d.length));
      child.stderr.on('data', (d) => (err += d));
      await new Promise((resolve) => child.on('exit', resolve));
      report('stdout', JSON.parse(err), bytes);
    }

    // file (tmpfs or disk, wherever os.tmpdir() is).
    if (wanted('file')) {
      const file = path.join(dir, 'out.ndjson');
      const result = await produce(sinks, file, {});
      report('file', result, fs.statSync(file).size);
    }

    /** @type {[string, object, (port: number) => string][]} */
    const sockets = [
      ['unix', { path: path.join(dir, 'bench.sock') }, () => `unix:${path.join(dir, 'bench.sock')}`],
      ['tcp', { host: '127.0.0.1', port: 0 }, (port) => `tcp:127.0.0.1:${port}`],
      ['tcp6', { host: '::1', port: 0 }, (port) => `tcp:[::1]:${port}`],
    ];
    for (const [name, listen, target] of sockets) {
      if (!wanted(name)) continue;
      const receiver = await startReceiver(listen);
      const received = receiver.received();
      const result = await produce(sinks, target(receiver.port), {});
      report(name, result, await received);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
