// A sink over a file descriptor (stdout, a file, a FIFO): lossless, with
// backpressure, and exact about what the reader got.
//
// Writes are synchronous and, on pipes and sockets, non-blocking: each one
// says how many bytes the kernel took, so the sink always knows which lines
// are complete on the other side. A Node stream cannot say that (a chunk is
// "written" only when all of it is, and a pipe takes part of one), which is
// how a shutdown used to leave half a line in the pipe and miscount the rest.
// When the pipe is full (EAGAIN), the sink retries on a short timer; ready()
// waits meanwhile, which pushes back on the collector's ring.
//
// To a pipe or a socket, whole lines go in writes the kernel takes all or
// nothing: up to PIPE_BUF (4096) bytes to a pipe (POSIX), up to 32 KiB to a
// Unix stream socket (Linux sends one buffer of that size whole, or refuses
// it; node's stdio "pipes" are socketpairs). So the reader never holds part of
// a line, whenever the process stops. A longer line is written on its own and
// may be taken in part (then close finishes it).
//
// close(deadline): what is not written by the deadline is dropped, but never
// half a line: a line the kernel took part of is finished first (within a
// second deadline as long again; a reader that takes nothing more in that
// time gets a torn line, and the report says so).
import * as fs from 'node:fs';
import { countLines, type LineChunk } from '../format/line-target';
import { Progress, RESOLVED } from './progress';
import type { Sink } from './sink';
import { DropCounter, type SinkCloseReport, type SinkStats } from './stats';

/** ready() resolves while less than this is waiting to be written. */
const HIGH_WATER_BYTES = 1 << 20;
/** Retry delays while the pipe is full: from 1 ms, doubling up to 16 ms. */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 16;
/** The largest write a pipe takes whole or not at all (PIPE_BUF). */
export const PIPE_ATOMIC_BYTES = 4096;
/** The largest write a Unix stream socket takes whole or not at all (one skb: 32 KiB of pages and a head). */
export const SOCKET_ATOMIC_BYTES = 32 * 1024;

interface Pending {
  bytes: Buffer;
  lines: number;
}

/**
 * Opens `path` for appending; a FIFO is opened non-blocking (and needs a reader already). A file it
 * creates gets `mode` exactly (whatever the umask); anything else is opened for reading too, so that
 * a partial last line can be found and cut off (see file.ts).
 */
export function openAppendFd(path: string, mode = 0o640): { fd: number; atomicBytes: number } {
  const { O_WRONLY, O_RDWR, O_APPEND, O_CREAT, O_EXCL, O_NONBLOCK } = fs.constants;
  let pipe = false;
  try {
    pipe = fs.statSync(path).isFIFO();
  } catch {
    // Does not exist yet: a regular file is created.
  }
  if (pipe) return { fd: fs.openSync(path, O_WRONLY | O_APPEND | O_NONBLOCK), atomicBytes: PIPE_ATOMIC_BYTES };
  try {
    const fd = fs.openSync(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, mode);
    fs.fchmodSync(fd, mode);
    return { fd, atomicBytes: 0 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // An existing file keeps its mode; one we may not read is appended to as it is.
  try {
    return { fd: fs.openSync(path, O_RDWR | O_APPEND), atomicBytes: 0 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    return { fd: fs.openSync(path, O_WRONLY | O_APPEND), atomicBytes: 0 };
  }
}

export abstract class FdSink implements Sink {
  protected fd: number;
  protected closed = false;
  protected reopens = 0;
  private failure: Error | null = null;
  /** A write error the sink waits out (a full file system): lines are dropped and counted meanwhile. */
  private pausedBy: Error | null = null;
  /** Error codes that pause rather than fail (a file's: ENOSPC …); none for stdout. */
  protected pauseOn: ReadonlySet<string> = new Set();
  private readonly queue: Pending[] = [];
  /** Bytes of queue[0] already written. */
  private offset = 0;
  private pendingBytes = 0;
  /** Lines of the chunks in the queue, whole (the head's written part included). */
  private queuedLines = 0;
  /** Lines of the chunks written to their end. */
  private completedLines = 0;
  private writtenBytes = 0;
  private readonly drops = new DropCounter();
  private waitingOff = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  /** At shutdown: write no further than this offset of the head chunk (the end of a started line). */
  private limit = Number.POSITIVE_INFINITY;
  /** Who waits for the queue to shrink (ready) or empty (close). */
  private readonly progress = new Progress();

  /** `atomicBytes`: a pipe's or socket's all-or-nothing write size (see above); 0 for a file or a terminal. */
  protected constructor(
    private readonly name: string,
    fd: number,
    protected atomicBytes: number,
  ) {
    this.fd = fd;
  }

  write(chunk: LineChunk): boolean {
    if (this.failure || this.closed || this.pausedBy) {
      this.drops.add(this.closed ? 'closeDeadline' : 'writeError', chunk.lines, chunk.bytes.length);
      return true;
    }
    this.queue.push({ bytes: chunk.bytes, lines: chunk.lines });
    this.pendingBytes += chunk.bytes.length;
    this.queuedLines += chunk.lines;
    if (this.retryTimer === undefined) this.pump();
    // Written (or dropped) in full when nothing waits: usually the case, as writes are synchronous.
    return this.queue.length === 0;
  }

  writesNow(): boolean {
    return this.queue.length === 0;
  }

  /** Writes what the kernel takes now; on EAGAIN, tries again shortly. */
  private pump(): void {
    this.retryTimer = undefined;
    while (this.queue.length > 0 && !this.failure) {
      const head = this.queue[0];
      let end = this.pieceEnd(head.bytes);
      if (this.offset >= end) break;
      const room = this.roomLeft();
      if (end - this.offset > room && this.atLineBoundary()) {
        // A file with a size limit: the whole lines that fit, else the next file.
        const fit = room > 0 ? head.bytes.lastIndexOf(0x0a, this.offset + room - 1) + 1 : 0;
        if (fit > this.offset) end = fit;
        else if (this.rotate()) continue;
        // An empty file takes one line, however long.
        else end = Math.min(end, head.bytes.indexOf(0x0a, this.offset) + 1 || end);
      }
      let n: number;
      try {
        n = fs.writeSync(this.fd, head.bytes, this.offset, end - this.offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (code === 'EAGAIN') {
          this.retryTimer = setTimeout(() => this.pump(), this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
          return;
        }
        if (this.pauseOn.has(code)) {
          this.pausedBy = err as Error;
          this.dropQueue('writeError');
          this.paused(err as Error);
          break;
        }
        this.fail(err as Error);
        break;
      }
      this.retryMs = RETRY_MIN_MS;
      this.wrote(n);
      // Lines are counted when a chunk is done (cheap); a chunk in progress is counted on demand.
      this.offset += n;
      this.pendingBytes -= n;
      this.writtenBytes += n;
      if (this.offset === head.bytes.length) {
        this.queue.shift();
        this.offset = 0;
        this.queuedLines -= head.lines;
        this.completedLines += head.lines;
      }
    }
    this.wakeWaiters();
  }

  /** Where the next write of the head chunk ends. */
  private pieceEnd(bytes: Buffer): number {
    const end = Math.min(bytes.length, this.limit);
    const atomic = this.atomicBytes;
    if (atomic === 0 || end - this.offset <= atomic) return end;
    // Whole lines up to the atomic size; a longer line alone.
    const last = bytes.lastIndexOf(0x0a, this.offset + atomic - 1);
    if (last >= this.offset) return last + 1;
    const next = bytes.indexOf(0x0a, this.offset);
    return next < 0 ? end : Math.min(end, next + 1);
  }

  /** Writing stopped on a pauseOn error; call resume() to try again. */
  protected paused(_err: Error): void {}

  /** Takes lines again after a pause (the next write says whether the trouble is over). */
  protected resume(): void {
    this.pausedBy = null;
  }

  /** Lines dropped for write errors so far. */
  protected writeErrorLines(): number {
    return this.drops.snapshot().writeError.lines;
  }

  /** A write of n bytes went through. */
  protected wrote(_n: number): void {}

  /** Bytes the current file may still take before rotate() (a file with a size limit); otherwise Infinity. */
  protected roomLeft(): number {
    return Number.POSITIVE_INFINITY;
  }

  /** The file is full: go on in the next one, at a line boundary. False when the file is empty (it takes a line anyway). */
  protected rotate(): boolean {
    return false;
  }

  private fail(err: Error): void {
    this.failure = err;
    // What was not written is lost: EPIPE (the reader went away), ENOSPC …
    this.dropQueue('writeError');
  }

  /** Lines of the head chunk written to their newline. */
  private headLinesWritten(): number {
    return this.offset === 0 ? 0 : countLines(this.queue[0].bytes, 0, this.offset);
  }

  /** Lines not yet written to their newline. */
  private pendingLines(): number {
    return this.queuedLines - this.headLinesWritten();
  }

  private dropQueue(reason: 'writeError' | 'closeDeadline'): void {
    const headWritten = this.headLinesWritten();
    this.drops.add(reason, this.queuedLines - headWritten, this.pendingBytes);
    this.completedLines += headWritten;
    this.queue.length = 0;
    this.offset = 0;
    this.pendingBytes = 0;
    this.queuedLines = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private wakeWaiters(): void {
    this.progress.tell();
  }

  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    // Paused: lines are dropped and counted, and collection goes on.
    if (this.waitingOff || this.pausedBy || this.pendingBytes < HIGH_WATER_BYTES) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      this.progress.watch(() => {
        if (!this.failure && !this.waitingOff && this.pendingBytes >= HIGH_WATER_BYTES) return false;
        if (this.failure) reject(this.failure);
        else resolve();
        return true;
      });
    });
  }

  stopWaiting(): void {
    this.waitingOff = true;
    this.wakeWaiters();
  }

  reopen(): void {}

  /** Whether the bytes written so far end at a line boundary. */
  private atLineBoundary(): boolean {
    if (this.offset === 0) return true;
    return this.queue[0].bytes[this.offset - 1] === 0x0a;
  }

  async close(deadlineMs: number): Promise<SinkCloseReport> {
    const report: SinkCloseReport = { complete: true, droppedLines: 0, droppedBytes: 0, writeStuck: false, tornLines: 0 };
    if (this.closed) return report;
    this.stopWaiting();
    await this.progress.until(() => this.pendingBytes === 0 || this.failure !== null, deadlineMs);
    if (this.pendingBytes > 0 && !this.failure && !this.atLineBoundary()) {
      // The reader has part of a line: finish that line, and only that line.
      const head = this.queue[0];
      const lineEnd = head.bytes.indexOf(0x0a, this.offset) + 1;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.limit = lineEnd;
      this.pump();
      await this.progress.until(() => this.offset === 0 || this.offset >= lineEnd || this.failure !== null, deadlineMs);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      if (this.queue[0] === head && this.offset > 0 && this.offset < lineEnd) report.tornLines = 1;
    }
    if (this.pendingBytes > 0) {
      report.complete = false;
      report.droppedLines = this.pendingLines();
      report.droppedBytes = this.pendingBytes;
      this.dropQueue('closeDeadline');
    }
    this.closed = true;
    this.release();
    return report;
  }

  /** Gives the descriptor back (a file's own; stdout stays open). */
  protected abstract release(): void;

  stats(): SinkStats {
    return {
      target: this.name,
      connected: !this.closed && !this.failure && !this.pausedBy,
      writtenLines: this.completedLines + this.headLinesWritten(),
      writtenBytes: this.writtenBytes,
      queuedBytes: this.pendingBytes,
      droppedLines: this.drops.lines,
      droppedBytes: this.drops.bytes,
      dropped: this.drops.snapshot(),
      reconnects: 0,
      connectFailures: 0,
      reopens: this.reopens,
      lastError: this.failure?.message ?? this.pausedBy?.message,
    };
  }

  /** For a file's reopen: finish the line in progress on the old descriptor, then switch. */
  protected switchFd(next: number, atomicBytes: number): number {
    if (!this.atLineBoundary()) {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.limit = this.queue[0].bytes.indexOf(0x0a, this.offset) + 1;
      this.pump();
      this.limit = Number.POSITIVE_INFINITY;
      if (this.retryTimer === undefined) this.retryTimer = setTimeout(() => this.pump(), RETRY_MIN_MS);
    }
    const previous = this.fd;
    this.fd = next;
    this.atomicBytes = atomicBytes;
    return previous;
  }
}
