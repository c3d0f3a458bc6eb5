// The stdout sink in a child process (it writes to the process's own stdout):
// one whose pipe is read, one whose pipe nobody reads.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
let dir: string;
let script: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h4-stdout-'));
  // The sinks as built (dist/, like the native-load tests): the child writes to its own stdout.
  script = path.join(dir, 'child.js');
  // argv: lines, and ms after which to stop waiting (as a SIGTERM handler would) and close with a 300 ms deadline.
  fs.writeFileSync(
    script,
    `const { openSink, LineEncoder } = require(${JSON.stringify(path.join(root, 'dist/sink'))});
const sink = openSink({ kind: 'stdout' });
const encoder = new LineEncoder();
const lines = Number(process.argv[2]);
setTimeout(() => sink.stopWaiting(), Number(process.argv[3])).unref();
(async () => {
  for (let i = 0; i < lines; i++) {
    encoder.line(JSON.stringify({ seq: i, pad: 'o'.repeat(100) }));
    if (i % 1000 === 999 || i === lines - 1) {
      for (const chunk of encoder.take()) sink.write(chunk);
      await sink.ready();
    }
  }
  const started = Date.now();
  const report = await sink.close(300);
  process.stderr.write(JSON.stringify({ report, stats: sink.stats(), closeMs: Date.now() - started }) + '\\n');
  if (report.writeStuck) process.exit(0);
})();
`,
  );
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface ChildResult {
  stdout: string;
  result: { report: { complete: boolean; droppedLines: number; writeStuck: boolean }; stats: { writtenLines: number; droppedLines: number; dropped: { closeDeadline: { lines: number } } }; closeMs: number };
  ms: number;
}

function runChild(lines: number, stopAfterMs: number, readStdout: boolean): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [script, String(lines), String(stopAfterMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    if (readStdout) child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      child.stdout.destroy();
      const text = Buffer.concat(err).toString();
      if (code !== 0) return reject(new Error(`child exited ${code ?? signal}: ${text}`));
      resolve({ stdout: Buffer.concat(out).toString(), result: JSON.parse(text), ms: Date.now() - started });
    });
  });
}

describe('stdout sink', () => {
  it('a reader that reads: every line, complete', async () => {
    const { stdout, result } = await runChild(50_000, 60_000, true);
    expect(result.report).toEqual({ complete: true, droppedLines: 0, droppedBytes: 0, writeStuck: false });
    expect(result.stats.writtenLines).toBe(50_000);
    const lines = stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(50_000);
    expect(JSON.parse(lines[49_999]).seq).toBe(49_999);
  });

  it('a pipe nobody reads: backpressure until released, then close gives up at its deadline and says a write is stuck', async () => {
    const { result, ms } = await runChild(100_000, 300, false);
    expect(result.report.complete).toBe(false);
    expect(result.report.writeStuck).toBe(true);
    expect(result.report.droppedLines).toBeGreaterThan(0);
    expect(result.stats.dropped.closeDeadline.lines).toBe(result.report.droppedLines);
    expect(result.stats.writtenLines + result.stats.droppedLines).toBe(100_000);
    expect(result.closeMs).toBeGreaterThanOrEqual(290);
    expect(result.closeMs).toBeLessThan(1500);
    expect(ms).toBeLessThan(10_000);
  });
});
