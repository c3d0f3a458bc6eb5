import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NdjsonOutput } from '../../../src/cli/output';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h4-file-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function line(i: number): string {
  return JSON.stringify({ seq: i, pad: 'f'.repeat(50) });
}

function readSeqs(file: string): number[] {
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
}

describe('file sink', () => {
  it('appends to an existing file and counts what it wrote', async () => {
    const file = path.join(dir, 'out.ndjson');
    fs.writeFileSync(file, '{"seq":-1}\n');
    const output = new NdjsonOutput(file);
    for (let i = 0; i < 1000; i++) output.line(line(i));
    await output.flush();
    const report = await output.close(5000);
    expect(report).toEqual({ complete: true, droppedLines: 0, droppedBytes: 0, writeStuck: false, tornLines: 0 });
    expect(readSeqs(file)).toEqual([-1, ...Array.from({ length: 1000 }, (_, i) => i)]);
    const stats = output.stats();
    expect(stats.writtenLines).toBe(1000);
    expect(stats.writtenBytes).toBe(fs.statSync(file).size - '{"seq":-1}\n'.length);
    expect(stats.queuedBytes).toBe(0);
    expect(stats.target).toBe(file);
  });

  it('reopen after a rename (logrotate): older lines end in the renamed file, newer in a new one; none split or lost', async () => {
    const file = path.join(dir, 'rot.ndjson');
    const output = new NdjsonOutput(file);
    const total = 200_000;
    const rotations = [50_000, 120_000, 121_000];
    let rotated = 0;
    for (let i = 0; i < total; i += 1000) {
      for (let j = i; j < i + 1000; j++) output.line(line(j));
      if (rotations.includes(i)) {
        // Rotate while this batch's write is still pending in the old stream.
        const flushing = output.flush();
        fs.renameSync(file, `${file}.${++rotated}`);
        output.reopen();
        await flushing;
      } else {
        await output.flush();
      }
    }
    expect((await output.close(5000)).complete).toBe(true);
    const parts = [1, 2, 3].map((n) => readSeqs(`${file}.${n}`));
    parts.push(readSeqs(file));
    // Each file holds whole lines, a contiguous run; together they are every line once, in order.
    expect(parts.map((p) => p[0])).toEqual([0, 51_000, 121_000, 122_000]);
    expect(parts.flat()).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(output.stats().reopens).toBe(3);
    expect(output.stats().writtenLines).toBe(total);
  });

  it('a path that cannot be opened fails at once, naming it; a failed reopen keeps the old file', async () => {
    expect(() => new NdjsonOutput(path.join(dir, 'missing', 'x.ndjson'))).toThrow(/ENOENT.*missing/);
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    const file = path.join(sub, 'x.ndjson');
    const output = new NdjsonOutput(file);
    output.line(line(0));
    await output.flush();
    fs.renameSync(sub, path.join(dir, 'moved'));
    expect(() => output.reopen()).toThrow(/ENOENT/);
    output.line(line(1));
    await output.flush();
    expect((await output.close(5000)).complete).toBe(true);
    expect(readSeqs(path.join(dir, 'moved', 'x.ndjson'))).toEqual([0, 1]);
  });

  it('a FIFO nobody reads: flush waits (backpressure), stopWaiting releases it, close gives up at its deadline', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // A reader that never reads, so the writer can open the FIFO.
    const readerFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const output = new NdjsonOutput(fifo);
      for (let i = 0; i < 40_000; i++) output.line(line(i)); // ~2.7 MB, more than the pipe and the stream take
      let flushed = false;
      const flushing = output.flush().then(() => {
        flushed = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(flushed).toBe(false);
      output.stopWaiting();
      await flushing;
      const started = Date.now();
      const report = await output.close(300);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(report.complete).toBe(false);
      expect(report.droppedLines).toBeGreaterThan(0);
      const stats = output.stats();
      expect(stats.dropped.closeDeadline.lines).toBe(report.droppedLines);
      expect(stats.writtenLines + stats.droppedLines).toBe(40_000);
    } finally {
      // Closing the reader fails the write stuck in the thread pool (EPIPE), freeing it.
      fs.closeSync(readerFd);
    }
  });
});
