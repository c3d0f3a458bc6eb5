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
//
// Rotation by size (rotate option): before a line would take the file past
// maxBytes, PATH.1 … PATH.(keep-1) become PATH.2 … PATH.keep (the oldest is
// replaced), PATH becomes PATH.1 and a new PATH is created, as logrotate names
// them; a line is never split between two files, and none is lost (renaming
// keeps the open file, whose last line is complete). A file appended to after
// a restart counts with its size. The size is checked against the file itself
// before rotating, so an outside rotation (logrotate's copytruncate, or create
// with SIGHUP) simply leaves more room.
import * as fs from 'node:fs';
import { FdSink, openAppendFd } from './fd';
import type { SinkStats } from './stats';

/** How far back to look for the last newline of a partial line. */
const TAIL_SEARCH_BYTES = 16 << 20;
/** Errors that pass when space is freed: pause and retry instead of failing. */
const RETRYABLE: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const RETRY_MS = 1000;

export const DEFAULT_FILE_MODE = 0o640;

/** Rotation by size: a file never grows past maxBytes (but for a single longer line); keep files PATH.1 … PATH.keep. */
export interface FileRotation {
  maxBytes: number;
  keep: number;
}

export const DEFAULT_ROTATE_KEEP = 5;
/** The smallest maxBytes: a limit smaller than a line or two rotates at every write. */
export const MIN_ROTATE_BYTES = 1024;

/** Checks a rotation's figures (the one definition the CLI and the API share); throws a RangeError saying what is wrong. */
export function fileRotationOf(options: { maxBytes: number; keep?: number }): FileRotation {
  const { maxBytes, keep = DEFAULT_ROTATE_KEEP } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < MIN_ROTATE_BYTES)
    throw new RangeError(`the maximum file size must be a whole number of bytes ≥ ${MIN_ROTATE_BYTES}, got ${maxBytes}`);
  if (!Number.isInteger(keep) || keep < 1 || keep > 1000)
    throw new RangeError(`the number of rotated files kept must be 1-1000, got ${keep}`);
  return { maxBytes, keep };
}

/** PATH.(keep-1) … PATH.1 move one up (PATH.keep is replaced), then PATH becomes PATH.1. */
function shiftRotated(path: string, keep: number): void {
  for (let i = keep - 1; i >= 1; i--) {
    try {
      fs.renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  fs.renameSync(path, `${path}.1`);
}

export interface FileSinkOptions {
  /** Permissions of a file the sink creates (an existing file keeps its own). Default 0640. */
  mode?: number;
  /** Rotate by size (see fileRotationOf); default: never (reopen() on SIGHUP for an outside rotation). */
  rotate?: FileRotation;
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
  private readonly rotation: FileRotation | undefined;
  /** With rotation: the current file's size, and the size at which it rotates. */
  private size = 0;
  private rotateAt = Number.POSITIVE_INFINITY;
  private rotations = 0;
  private rotateFailed = false;

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
    this.rotation = options.rotate;
    if (this.rotation) {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) {
        fs.closeSync(fd);
        throw new Error(`${path} is not a regular file: it cannot be rotated by size`);
      }
      this.size = st.size;
      this.rotateAt = this.rotation.maxBytes;
    }
  }

  protected override roomLeft(): number {
    return this.rotateAt - this.size;
  }

  protected override rotate(): boolean {
    const rotation = this.rotation;
    if (!rotation || this.closed) return false;
    // The file itself says how big it is: an outside rotation (copytruncate) may have emptied it.
    const before = this.size;
    this.size = fs.fstatSync(this.fd).size;
    if (this.size < before) return true;
    if (this.size === 0) return false;
    try {
      shiftRotated(this.path, rotation.keep);
      const next = openAppendFd(this.path, this.mode);
      fs.closeSync(this.switchFd(next.fd, next.atomicBytes));
      this.size = fs.fstatSync(next.fd).size;
      this.rotateAt = rotation.maxBytes;
      this.rotations++;
      if (this.rotateFailed) this.say(`${this.path}: rotated again`);
      this.rotateFailed = false;
    } catch (err) {
      // Writing goes on in this file; the next try after another maxBytes.
      if (!this.rotateFailed) this.say(`${this.path}: cannot rotate: ${(err as Error).message}; writing on in it, trying again later`);
      this.rotateFailed = true;
      this.rotateAt = this.size + rotation.maxBytes;
    }
    return true;
  }

  override stats(): SinkStats {
    const stats = super.stats();
    if (this.rotation) stats.rotations = this.rotations;
    return stats;
  }

  override reopen(): void {
    if (this.closed) return;
    const next = openAppendFd(this.path, this.mode);
    if (next.atomicBytes === 0) cutAndSay(next.fd, this.path, this.say, 'an interrupted write left');
    const previous = this.switchFd(next.fd, next.atomicBytes);
    this.reopens++;
    fs.closeSync(previous);
    if (this.rotation) this.size = fs.fstatSync(next.fd).size;
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

  protected override wrote(n: number): void {
    this.size += n;
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
