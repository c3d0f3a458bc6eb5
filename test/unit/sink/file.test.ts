import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NdjsonOutput } from '../../../src/cli/output';
import { fileRotationOf, openSink } from '../../../src/sink';

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
  it('takes each flush uncopied (writesNow) and writes every line of many small flushes in order', async () => {
    const file = path.join(dir, 'out.ndjson');
    const sink = openSink({ kind: 'file', path: file });
    expect(sink.writesNow()).toBe(true);
    await sink.close(1000);
    const output = new NdjsonOutput(file);
    let seq = 0;
    for (let flush = 0; flush < 300; flush++) {
      for (let i = 0; i < 1 + (flush % 40); i++) output.line(line(seq++));
      await output.flush();
    }
    const report = await output.close(5000);
    expect(report.complete).toBe(true);
    expect(readSeqs(file)).toEqual(Array.from({ length: seq }, (_, i) => i));
  });

  it('a socket sink queues: it never takes a working buffer uncopied', async () => {
    const sink = openSink({ kind: 'tcp', host: '127.0.0.1', port: 9 }, { onError: () => undefined });
    expect(sink.writesNow()).toBe(false);
    await sink.close(0);
  });

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

describe('file sink rotating by size', () => {
  /** Writes lines from..from+count in batches of batch, flushing each. */
  async function write(output: NdjsonOutput, from: number, count: number, batch = 100): Promise<void> {
    for (let i = from; i < from + count; i += batch) {
      for (let j = i; j < Math.min(i + batch, from + count); j++) output.line(line(j));
      await output.flush();
    }
  }

  /** The files of the rotation, oldest first: PATH.keep … PATH.1, PATH. */
  function rotated(file: string): string[] {
    const names = fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith(path.basename(file)));
    const numbers = names.map((n) => Number(n.slice(path.basename(file).length + 1) || 0)).sort((a, b) => b - a);
    return numbers.map((n) => (n === 0 ? file : `${file}.${n}`));
  }

  it('rotates at a line boundary before the limit, names PATH.1 … PATH.keep, keeps keep files, loses nothing it keeps', async () => {
    const file = path.join(dir, 'size.ndjson');
    const maxBytes = 10_000;
    const output = new NdjsonOutput(file, { fileRotate: { maxBytes, keep: 3 } });
    const oneLine = Buffer.byteLength(line(100)) + 1;
    await write(output, 0, 2000);
    expect((await output.close(5000)).complete).toBe(true);
    const files = rotated(file);
    expect(files.map((f) => path.basename(f))).toEqual(['size.ndjson.3', 'size.ndjson.2', 'size.ndjson.1', 'size.ndjson']);
    const seqs = files.flatMap((f) => {
      expect(fs.statSync(f).size).toBeLessThanOrEqual(maxBytes);
      return readSeqs(f);
    });
    // The newest lines, in order, none missing between files; the full files hold as many lines as fit.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 2000 - seqs.length + i));
    for (const f of files.slice(0, -1)) expect(fs.statSync(f).size).toBeGreaterThan(maxBytes - 2 * oneLine);
    const stats = output.stats();
    expect(stats.writtenLines).toBe(2000);
    expect(stats.rotations).toBeGreaterThan(3);
    // Every file of the rotation is created with the file mode, whatever the umask.
    for (const f of files) expect(fs.statSync(f).mode & 0o777).toBe(0o640);
  });

  it('with enough files kept, every line is in one of them, in order, whole', async () => {
    const file = path.join(dir, 'all.ndjson');
    const output = new NdjsonOutput(file, { fileRotate: { maxBytes: 4096, keep: 1000 }, fileMode: 0o600 });
    // Batches of several sizes, so that chunks cross the limit anywhere.
    await write(output, 0, 1000, 7);
    await write(output, 1000, 1000, 333);
    await output.close(5000);
    const files = rotated(file);
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap(readSeqs)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    for (const f of files) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
  });

  it('after a restart, the file appended to counts with its size', async () => {
    const file = path.join(dir, 'restart.ndjson');
    fs.writeFileSync(file, `${line(-1)}\n`.repeat(100)); // about 7 KB
    const before = fs.statSync(file).size;
    const output = new NdjsonOutput(file, { fileRotate: { maxBytes: 10_000, keep: 2 } });
    await write(output, 0, 100);
    await output.close(5000);
    // The old lines and the first new ones that fitted are in PATH.1, the rest in PATH.
    const first = readSeqs(`${file}.1`);
    expect(first.slice(0, 100)).toEqual(Array(100).fill(-1));
    expect(fs.statSync(`${file}.1`).size).toBeLessThanOrEqual(10_000);
    expect(fs.statSync(`${file}.1`).size).toBeGreaterThan(before);
    expect([...first.slice(100), ...readSeqs(file)]).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a line longer than the limit has a file of its own', async () => {
    const file = path.join(dir, 'long.ndjson');
    const output = new NdjsonOutput(file, { fileRotate: { maxBytes: 1024, keep: 5 } });
    output.line(line(0));
    output.line(JSON.stringify({ seq: 1, pad: 'L'.repeat(3000) }));
    output.line(line(2));
    await output.flush();
    await output.close(5000);
    expect(readSeqs(`${file}.2`)).toEqual([0]);
    expect(readSeqs(`${file}.1`)).toEqual([1]);
    expect(readSeqs(file)).toEqual([2]);
  });

  it("an outside copytruncate leaves room: no early rotation; a rename with reopen (SIGHUP) starts a new file's count", async () => {
    const file = path.join(dir, 'outside.ndjson');
    const output = new NdjsonOutput(file, { fileRotate: { maxBytes: 10_000, keep: 3 } });
    await write(output, 0, 100); // about 7 KB
    // copytruncate: the file is copied, then emptied; the collector's descriptor appends at the new end.
    fs.copyFileSync(file, `${file}.copied`);
    fs.truncateSync(file, 0);
    await write(output, 100, 100);
    expect(fs.existsSync(`${file}.1`)).toBe(false);
    expect(readSeqs(file)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    // create + SIGHUP: renamed away, then reopened.
    fs.renameSync(file, `${file}.moved`);
    output.reopen();
    await write(output, 200, 100);
    await output.close(5000);
    expect(fs.existsSync(`${file}.1`)).toBe(false);
    expect(readSeqs(file)).toEqual(Array.from({ length: 100 }, (_, i) => 200 + i));
  });

  it('refuses to rotate what is not a regular file, and bad figures', () => {
    const fifo = path.join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      expect(() => new NdjsonOutput(fifo, { fileRotate: { maxBytes: 10_000, keep: 3 } })).toThrow(/not a regular file/);
    } finally {
      fs.closeSync(reader);
    }
    expect(() => fileRotationOf({ maxBytes: 100 })).toThrow(/≥ 1024/);
    expect(() => fileRotationOf({ maxBytes: 4096, keep: 0 })).toThrow(/1-1000/);
    expect(fileRotationOf({ maxBytes: 4096 })).toEqual({ maxBytes: 4096, keep: 5 });
  });
});
