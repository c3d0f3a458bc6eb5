// A sink over a Node Writable (stdout, a file): lossless, with backpressure.
// Lines wait in the stream's buffer; ready() waits for 'drain', which pushes
// back on the collector's ring (the kernel then drops, and the collector
// counts it). Written means the stream's callback said the bytes reached the kernel.
import type { Writable } from 'node:stream';
import type { LineChunk } from '../format/line-target';
import type { Sink } from './sink';
import { DropCounter, type SinkCloseReport, type SinkStats } from './stats';

const RESOLVED = Promise.resolve();

export abstract class StreamSink implements Sink {
  protected stream: Writable;
  protected failure: Error | null = null;
  protected closed = false;
  protected reopens = 0;
  private writtenLines = 0;
  private writtenBytes = 0;
  private pendingLines = 0;
  private pendingBytes = 0;
  private readonly drops = new DropCounter();
  private waitingOff = false;
  // The one ready() waiting for 'drain', and who to call when nothing is pending.
  private wake: (() => void) | null = null;
  private onIdle: (() => void) | null = null;

  protected constructor(
    private readonly name: string,
    stream: Writable,
  ) {
    this.stream = stream;
    this.watch(stream);
  }

  /** Listens for the errors of a stream this sink writes to (the current one, or one being closed). */
  protected watch(stream: Writable): void {
    stream.on('error', (err: Error) => {
      if (stream !== this.stream) return; // an old file's late error; its writes' callbacks count the loss
      this.failure ??= err;
      this.wakeWaiter();
    });
  }

  write(chunk: LineChunk): void {
    if (this.failure || this.closed) {
      this.drops.add(this.closed ? 'closeDeadline' : 'writeError', chunk.lines, chunk.bytes.length);
      return;
    }
    const { lines } = chunk;
    const bytes = chunk.bytes.length;
    this.pendingLines += lines;
    this.pendingBytes += bytes;
    this.stream.write(chunk.bytes, (err) => this.written(lines, bytes, err));
  }

  private written(lines: number, bytes: number, err: Error | null | undefined): void {
    if (this.closed) return; // close() has already counted these
    this.pendingLines -= lines;
    this.pendingBytes -= bytes;
    if (err) {
      this.failure ??= err;
      this.drops.add('writeError', lines, bytes);
    } else {
      this.writtenLines += lines;
      this.writtenBytes += bytes;
    }
    if (this.pendingBytes === 0 && this.onIdle) this.onIdle();
  }

  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waitingOff || !this.stream.writableNeedDrain) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      const stream = this.stream;
      const done = (): void => {
        stream.off('drain', done);
        this.wake = null;
        if (this.failure) reject(this.failure);
        else resolve();
      };
      this.wake = done;
      stream.on('drain', done);
    });
  }

  protected wakeWaiter(): void {
    if (this.wake) this.wake();
  }

  stopWaiting(): void {
    this.waitingOff = true;
    this.wakeWaiter();
  }

  reopen(): void {}

  /** Ends the stream when it is this sink's own (a file); stdout is left open. */
  protected abstract finish(): Promise<void>;

  async close(deadlineMs: number): Promise<SinkCloseReport> {
    this.stopWaiting();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, deadlineMs));
    });
    const idle = new Promise<void>((resolve) => {
      if (this.pendingBytes === 0) resolve();
      else this.onIdle = resolve;
    });
    const outcome = await Promise.race([idle.then(() => this.finish()).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    this.onIdle = null;
    const report: SinkCloseReport = {
      complete: outcome === 'done' && this.pendingBytes === 0,
      droppedLines: 0,
      droppedBytes: 0,
      writeStuck: false,
    };
    if (this.pendingBytes > 0) {
      report.droppedLines = this.pendingLines;
      report.droppedBytes = this.pendingBytes;
      this.drops.add('closeDeadline', this.pendingLines, this.pendingBytes);
      this.pendingLines = 0;
      this.pendingBytes = 0;
      report.writeStuck = this.abandon();
    }
    this.closed = true;
    return report;
  }

  /** Gives up on a stream that did not finish in time; says whether a write stays stuck in the kernel. */
  protected abstract abandon(): boolean;

  stats(): SinkStats {
    return {
      target: this.name,
      connected: !this.closed && !this.failure,
      writtenLines: this.writtenLines,
      writtenBytes: this.writtenBytes,
      queuedBytes: this.pendingBytes,
      droppedLines: this.drops.lines,
      droppedBytes: this.drops.bytes,
      dropped: this.drops.snapshot(),
      reconnects: 0,
      connectFailures: 0,
      reopens: this.reopens,
      lastError: this.failure?.message,
    };
  }
}
