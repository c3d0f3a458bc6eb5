// NDJSON appended to a file, reopened on request (SIGHUP after logrotate has
// renamed it). A reopen switches files at a line boundary: lines written
// before it finish in the old (renamed) file, lines after it go to a new file
// at the path. A FIFO is opened non-blocking (see fd.ts).
//
// The file holds whole lines only. A collector killed in the middle of a write
// (SIGKILL, power loss) can leave a partial last line: opening cuts it off (and
// says so), so the next line does not run into it. A full file system (ENOSPC,
// EDQUOT, EFBIG) does not stop collection: it is said once, the lines are
// dropped and counted, the partial line the failed write left is cut off, and
// writing is tried again every second. A file the collector creates gets mode
// 0640 (firewall logs name hosts and users) unless told otherwise.
import * as fs from 'node:fs';
import { FdSink, openAppendFd } from './fd';

/** How far back to look for the last newline of a partial line. */
const TAIL_SEARCH_BYTES = 16 << 20;
/** Errors that pass when space is freed: pause and retry instead of failing. */
const RETRYABLE: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
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

/** cutPartialLine, said when it cut something; a file that cannot be read back is left as it is. */
function cutAndSay(fd: number, path: string, say: (message: string) => void, why: string): void {
  try {
    const cut = cutPartialLine(fd);
    if (cut > 0) say(`${path}: cut off a partial last line (${cut} bytes) ${why}, so new lines start on a line of their own`);
  } catch (err) {
    // EBADF: opened write-only (a file we may not read); EINVAL/ESPIPE: not a seekable file.
    if (!['EBADF', 'EINVAL', 'ESPIPE'].includes((err as NodeJS.ErrnoException).code ?? '')) {
      say(`${path}: cannot check the last line: ${(err as Error).message}`);
    }
  }
}

export class FileSink extends FdSink {
  private readonly mode: number;
  private readonly say: (message: string) => void;
  private retry: NodeJS.Timeout | null = null;
  /** From the first failed write until one goes through again: each said once. */
  private troubled = false;
  private droppedBefore = 0;

  constructor(
    private readonly path: string,
    options: FileSinkOptions = {},
  ) {
    const mode = options.mode ?? DEFAULT_FILE_MODE;
    const say = options.onError ?? (() => undefined);
    // Opened synchronously so that a bad path fails here, with its error.
    const { fd, atomicBytes } = openAppendFd(path, mode);
    super(path, fd, atomicBytes);
    this.mode = mode;
    this.say = say;
    this.pauseOn = RETRYABLE;
    if (atomicBytes === 0) cutAndSay(fd, path, say, 'an interrupted write left');
  }

  override reopen(): void {
    if (this.closed) return;
    const next = openAppendFd(this.path, this.mode);
    if (next.atomicBytes === 0) cutAndSay(next.fd, this.path, this.say, 'an interrupted write left');
    const previous = this.switchFd(next.fd, next.atomicBytes);
    this.reopens++;
    fs.closeSync(previous);
  }

  protected override paused(err: Error): void {
    if (!this.troubled) {
      this.troubled = true;
      this.droppedBefore = this.writeErrorLines();
      this.say(`${this.path}: ${err.message}: dropping lines (counted) and trying again every ${RETRY_MS / 1000} s; collection goes on`);
    }
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.closed) return;
      // The failed write may have left part of a line.
      cutAndSay(this.fd, this.path, () => undefined, '');
      this.resume();
    }, RETRY_MS);
    this.retry.unref();
  }

  protected override wrote(): void {
    if (!this.troubled) return;
    this.troubled = false;
    this.say(`${this.path}: writing again; ${this.writeErrorLines() - this.droppedBefore} lines were dropped meanwhile`);
  }

  protected release(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    // Closed while the file system was full: no partial line stays behind.
    if (this.troubled) cutAndSay(this.fd, this.path, () => undefined, '');
    fs.closeSync(this.fd);
  }
}
