// The shape every output sink has: stdout, files, unix and TCP sockets.
import type { LineChunk } from '../format/line-target';
import type { SinkCloseReport, SinkStats } from './stats';

export interface Sink {
  /**
   * Takes a chunk of whole lines. Never blocks; a socket sink may drop lines (counted). Returns true
   * when the sink is done with chunk.bytes (written or dropped): the caller may reuse the buffer.
   */
  write(chunk: LineChunk): boolean;
  /**
   * Whether a write() now is done with its chunk before it returns, unless the kernel refuses (stdout and
   * files with nothing queued). The caller may then hand over its working buffer uncopied; a sink that
   * queues (sockets) says false, so that what it holds is the bytes it counts.
   */
  writesNow(): boolean;
  /**
   * Resolves when the sink wants more. stdout and files: after the stream drained (backpressure,
   * lossless). Sockets: at once (they queue or drop instead). Rejects once a stream has failed.
   */
  ready(): Promise<void>;
  /** Stop applying backpressure: a pending ready() resolves, later ones resolve at once (for shutdown). */
  stopWaiting(): void;
  /** Files: reopen the path (after log rotation). Others: nothing. Throws if the path cannot be opened. */
  reopen(): void;
  /** Writes what it can within deadlineMs, then gives up on the rest (counted) and releases the target. */
  close(deadlineMs: number): Promise<SinkCloseReport>;
  stats(): SinkStats;
}

export const DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024;
