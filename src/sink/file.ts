// NDJSON appended to a file, reopened on request (SIGHUP after logrotate has
// renamed it). Each write is a chunk of whole lines, so a reopen never splits
// a line: lines written before it finish in the old (renamed) file, lines after
// it go to a new file at the path.
//
// The file holds whole lines only. A collector killed in the middle of a write
// (SIGKILL, power loss) can leave a partial last line: opening cuts it off
// (and says so), so the next line does not run into it. A full filesystem
// (ENOSPC, EDQUOT, EFBIG) does not stop collection: the lines are dropped and
// counted, the partial line the failed write left is cut off, and the file is
// tried again every second. A file the collector creates gets mode 0640
// (firewall logs name hosts and users) unless told otherwise.
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { StreamSink } from './stream';

const HIGH_WATER_BYTES = 1 << 20;
/** How far back to look for the last newline of a partial line. */
const TAIL_SEARCH_BYTES = 16 << 20;
/** Errors that pass when space is freed: pause and retry instead of failing. */
const RETRYABLE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const RETRY_MS = 1000;

export const DEFAULT_FILE_MODE = 0o640;

export interface FileSinkOptions {
  /** Permissions of a file the sink creates (an existing file keeps its own). Default 0640. */
  mode?: number;
  /** Told when writing stops or starts again, or when a partial line was cut off. */
  onError?: (message: string) => void;
}

/**
 * Cuts a partial last line off a regular file; returns the bytes cut. The file must be open for
 * reading and writing. A file with no newline at all is emptied: it holds no whole line.
 */
export function cutPartialLine(fd: number): number {
  const st = fs.fstatSync(fd);
  if (!st.isFile() || st.size === 0) return 0;
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, st.size - 1);
  if (last[0] === 0x0a) return 0;
  const block = Buffer.alloc(64 * 1024);
  let end = st.size - 1;
  const stop = Math.max(0, st.size - TAIL_SEARCH_BYTES);
  while (end > stop) {
    const start = Math.max(stop, end - block.length);
    const n = fs.readSync(fd, block, 0, end - start, start);
    const at = block.subarray(0, n).lastIndexOf(0x0a);
    if (at >= 0) {
      fs.ftruncateSync(fd, start + at + 1);
      return st.size - (start + at + 1);
    }
    end = start;
  }
  fs.ftruncateSync(fd, stop);
  return st.size - stop;
}

function openAppend(path: string, mode: number, say: (message: string) => void): Writable {
  // Opened synchronously so that a bad path fails here, with its error, not later on the stream.
  // Read and write: cutting a partial line needs to read the tail.
  const { O_RDWR, O_APPEND, O_CREAT, O_EXCL } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, mode);
    // The process's umask must neither widen nor narrow what was asked for.
    fs.fchmodSync(fd, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fd = fs.openSync(path, O_RDWR | O_APPEND);
  }
  try {
    const cut = cutPartialLine(fd);
    if (cut > 0)
      say(`${path}: cut off a partial last line (${cut} bytes) an interrupted write left, so new lines start on a line of their own`);
  } catch (err) {
    // Not fatal: a file that cannot be read back (a device, a FIFO) is appended to as it is.
    if (!['ESPIPE', 'EINVAL', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? ''))
      say(`${path}: cannot check the last line: ${(err as Error).message}`);
  }
  return fs.createWriteStream(path, { fd, highWaterMark: HIGH_WATER_BYTES });
}

export class FileSink extends StreamSink {
  private readonly mode: number;
  private readonly say: (message: string) => void;
  private retry: NodeJS.Timeout | null = null;
  /** Set from the first failed write until one goes through again: say each once. */
  private troubled = false;
  private droppedBefore = 0;

  constructor(
    private readonly path: string,
    options: FileSinkOptions = {},
  ) {
    const say = options.onError ?? (() => undefined);
    const mode = options.mode ?? DEFAULT_FILE_MODE;
    super(path, openAppend(path, mode, say));
    this.mode = mode;
    this.say = say;
  }

  override reopen(): void {
    if (this.closed) return;
    const next = openAppend(this.path, this.mode, this.say);
    const previous = this.stream;
    this.stream = next;
    this.watch(next);
    this.reopens++;
    // The old file takes the lines it already has, then closes.
    previous.end();
    // A ready() waiting on the old file's 'drain' would wait forever: the new file takes lines now.
    this.wakeWaiter();
  }

  protected override paused(): boolean {
    return this.retry !== null;
  }

  protected override fail(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!RETRYABLE.has(code) || this.closed) {
      super.fail(err);
      return;
    }
    if (this.retry) return;
    this.failureMessage = err.message;
    if (!this.troubled) {
      this.troubled = true;
      this.droppedBefore = this.writeErrorLines();
      this.say(`${this.path}: ${err.message}: dropping lines (counted) and trying again every ${RETRY_MS / 1000} s; collection goes on`);
    }
    this.stream.destroy();
    this.retry = setInterval(() => this.tryAgain(), RETRY_MS);
    this.retry.unref();
    this.wakeWaiter();
  }

  /** Reopens after a retryable failure; the next write says whether there is room again. */
  private tryAgain(): void {
    if (this.closed) return this.stopRetrying();
    let next: Writable;
    try {
      next = openAppend(this.path, this.mode, () => undefined);
    } catch {
      return; // still failing: keep dropping
    }
    this.stopRetrying();
    this.stream = next;
    this.watch(next);
  }

  protected override succeeded(): void {
    if (!this.troubled) return;
    this.troubled = false;
    this.failureMessage = undefined;
    this.say(`${this.path}: writing again; ${this.writeErrorLines() - this.droppedBefore} lines were dropped meanwhile`);
  }

  private stopRetrying(): void {
    if (this.retry) clearInterval(this.retry);
    this.retry = null;
  }

  protected finish(): Promise<void> {
    this.stopRetrying();
    const stream = this.stream;
    return new Promise<void>((resolve) => {
      if (stream.closed || stream.destroyed) return resolve();
      stream.once('close', () => resolve());
      stream.end();
    });
  }

  protected abandon(): boolean {
    this.stopRetrying();
    this.stream.destroy();
    return false;
  }
}
