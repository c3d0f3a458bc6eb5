// Where NDJSON goes: stdout, a file, a unix socket or a TCP peer (src/sink/).
// Lines are encoded into a buffer as they are made (so each document's string
// dies young) and handed to the sink once per batch. stdout and files push
// back on the ring (flush() waits); sockets never do: they queue up to a
// bound and drop whole lines beyond it, counted in stats().
import {
  LineEncoder,
  openSink,
  parseSinkTarget,
  type LineTarget,
  type Sink,
  type SinkCloseReport,
  type SinkOptions,
  type SinkStats,
} from '../sink';

/** How long close() gives a slow output when the caller names no deadline. */
const DEFAULT_CLOSE_DEADLINE_MS = 5000;

export class NdjsonOutput {
  private readonly sink: Sink;
  private readonly encoder = new LineEncoder();

  /** target as --output takes it: -, FILE, unix:PATH, tcp:HOST:PORT, tls:…, syslog:…. Throws on a bad target or an unopenable file. */
  constructor(target: string = '-', options: SinkOptions = {}) {
    this.sink = openSink(parseSinkTarget(target), options);
  }

  /** Adds one line (without its newline). */
  line(text: string): void {
    this.encoder.line(text);
  }

  /** Where formatters put lines (as text or as bytes); flush() hands them to the sink. */
  get lines(): LineTarget {
    return this.encoder;
  }

  /** Hands the lines added so far to the sink; resolves when it can take more (stdout/file backpressure). */
  async flush(): Promise<void> {
    // A buffer the sink is done with is the encoder's next (fresh buffers cost page faults, and the dead
    // ones waited for a GC: tens of MiB in a burst). A sink that writes now gets even a small chunk
    // uncopied: a copy was a fresh buffer a batch (mmap and page faults: 0.16 CPU-s per million
    // 670-byte record lines).
    for (const chunk of this.encoder.take(this.sink.writesNow())) if (this.sink.write(chunk)) this.encoder.recycle(chunk.bytes);
    await this.sink.ready();
  }

  /** Log rotation: a file output reopens its path (call on SIGHUP). Throws if the path cannot be opened. */
  reopen(): void {
    this.sink.reopen();
  }

  /** Shutdown: a flush() waiting on a stalled stdout/file returns now, and later ones do not wait. */
  stopWaiting(): void {
    this.sink.stopWaiting();
  }

  /** Flushes what it can within deadlineMs, then gives up on the rest (counted) and closes. */
  async close(deadlineMs: number = DEFAULT_CLOSE_DEADLINE_MS): Promise<SinkCloseReport> {
    this.sink.stopWaiting();
    for (const chunk of this.encoder.take()) this.sink.write(chunk);
    return this.sink.close(deadlineMs);
  }

  stats(): SinkStats {
    const stats = this.sink.stats();
    // Lines encoded but not yet flushed are queued too.
    stats.queuedBytes += this.encoder.pendingBytes;
    return stats;
  }
}
