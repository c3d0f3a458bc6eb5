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
  result: {
    report: { complete: boolean; droppedLines: number; writeStuck: boolean; tornLines?: number };
    stats: { writtenLines: number; droppedLines: number; dropped: { closeDeadline: { lines: number } } };
    closeMs: number;
  };
  ms: number;
}

/** How the parent reads the child's stdout: all of it as it comes, slowly (64 KiB per 100 ms), or only after the child exited. */
type Reader = 'read' | 'slow' | 'after-exit';

function runChild(lines: number, stopAfterMs: number, reader: Reader): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [script, String(lines), String(stopAfterMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stdout = child.stdout;
    stdout.on('data', (d: Buffer) => {
      out.push(d);
      if (reader === 'slow') {
        stdout.pause();
        setTimeout(() => stdout.resume(), 100);
      }
    });
    if (reader === 'after-exit') stdout.pause();
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      exit = { code, signal };
      // What the child left in the pipe is still there to read.
      stdout.resume();
    });
    // 'close': exited and both pipes read to their end.
    child.on('close', () => {
      const text = Buffer.concat(err).toString();
      if (exit?.code !== 0) return reject(new Error(`child exited ${exit?.code ?? exit?.signal}: ${text}`));
      resolve({ stdout: Buffer.concat(out).toString(), result: JSON.parse(text), ms: Date.now() - started });
    });
  });
}

/** The complete lines a reader got, and what follows the last newline. */
function framing(stdout: string): { complete: string[]; rest: string } {
  const complete = stdout.split('\n');
  const rest = complete.pop() as string;
  return { complete, rest };
}

describe('stdout sink', () => {
  it('a reader that reads: every line, complete', async () => {
    const { stdout, result } = await runChild(50_000, 60_000, 'read');
    expect(result.report).toEqual({ complete: true, droppedLines: 0, droppedBytes: 0, writeStuck: false, tornLines: 0 });
    expect(result.stats.writtenLines).toBe(50_000);
    const { complete, rest } = framing(stdout);
    expect(rest).toBe('');
    expect(complete.length).toBe(50_000);
    expect(JSON.parse(complete[49_999]).seq).toBe(49_999);
  });

  for (const reader of ['slow', 'after-exit'] as const) {
    it(`a ${reader === 'slow' ? 'slow reader' : 'pipe read only after exit'}: close stops at a line boundary at its deadline, and the counts are what the reader got`, async () => {
      const { stdout, result, ms } = await runChild(100_000, 300, reader);
      const { complete, rest } = framing(stdout);
      // Never half a line, and exactly the lines counted written.
      expect(rest).toBe('');
      expect(result.report.tornLines).toBe(0);
      for (const line of [complete[0], complete[complete.length - 1]]) expect(JSON.parse(line).pad).toHaveLength(100);
      expect(complete.length).toBe(result.stats.writtenLines);
      expect(result.report.complete).toBe(false);
      expect(result.report.writeStuck).toBe(false);
      expect(result.report.droppedLines).toBe(100_000 - complete.length);
      expect(result.stats.dropped.closeDeadline.lines).toBe(result.report.droppedLines);
      expect(result.closeMs).toBeGreaterThanOrEqual(290);
      expect(result.closeMs).toBeLessThan(1500);
      expect(ms).toBeLessThan(15_000);
    });
  }
});
