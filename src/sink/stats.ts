// What a sink reports: lines and bytes written, queued, and dropped by reason.

/**
 * Why lines were dropped.
 * - noReceiver: a socket sink's queue was full while no receiver was connected;
 * - queueFull: a socket sink's queue was full while connected (the receiver is slower than the collector);
 * - connectionLost: lines handed to a connection that then broke (some of them may have arrived whole:
 *   an upper bound of what the receiver missed);
 * - closeDeadline: still unwritten when close(deadlineMs) ran out of time;
 * - writeError: the file or stdout failed (EPIPE, ENOSPC …).
 */
export type DropReason = 'noReceiver' | 'queueFull' | 'connectionLost' | 'closeDeadline' | 'writeError';

export interface LineCount {
  lines: number;
  bytes: number;
}

export interface SinkStats {
  /** The target as --output names it. */
  target: string;
  /** Socket sinks: a connection is up. stdout and files: open and not failed. */
  connected: boolean;
  writtenLines: number;
  writtenBytes: number;
  /** Bytes accepted but not yet written to the kernel (socket: queue and in flight; stdout/file: the stream's buffer). */
  queuedBytes: number;
  /** Socket sinks: the bound of queuedBytes. */
  queueLimitBytes?: number;
  droppedLines: number;
  droppedBytes: number;
  dropped: Record<DropReason, LineCount>;
  /** Syslog datagrams (UDP, unix): messages cut to the maximum size (delivered, shortened). */
  truncatedLines?: number;
  /** Socket sinks: connections made after the first one. */
  reconnects: number;
  /** Socket sinks: connection attempts that failed. */
  connectFailures: number;
  /** Files: times the path was reopened. */
  reopens: number;
  /** Files rotated by size: rotations so far. */
  rotations?: number;
  /** The last error the sink saw (connect refused, EPIPE …), if any. */
  lastError?: string;
}

/** What close(deadlineMs) could not deliver. */
export interface SinkCloseReport {
  /** Everything accepted was written before the deadline. */
  complete: boolean;
  /** Lines and bytes given up at close (also counted in stats().dropped). */
  droppedLines: number;
  droppedBytes: number;
  /**
   * A write to stdout is still stuck in the kernel (a stalled pipe): Node keeps the process
   * alive until it finishes, so a CLI that must exit calls process.exit().
   */
  writeStuck: boolean;
  /**
   * 1 when the reader had taken part of a line and took nothing more within a second
   * deadline (the line is torn; it is counted in droppedLines). 0 otherwise.
   */
  tornLines?: number;
}

export function emptyDrops(): Record<DropReason, LineCount> {
  return {
    noReceiver: { lines: 0, bytes: 0 },
    queueFull: { lines: 0, bytes: 0 },
    connectionLost: { lines: 0, bytes: 0 },
    closeDeadline: { lines: 0, bytes: 0 },
    writeError: { lines: 0, bytes: 0 },
  };
}

/** Counts drops by reason, with totals. */
export class DropCounter {
  readonly byReason = emptyDrops();
  lines = 0;
  bytes = 0;

  add(reason: DropReason, lines: number, bytes: number): void {
    if (lines === 0 && bytes === 0) return;
    const count = this.byReason[reason];
    count.lines += lines;
    count.bytes += bytes;
    this.lines += lines;
    this.bytes += bytes;
  }

  snapshot(): Record<DropReason, LineCount> {
    const copy = emptyDrops();
    for (const reason of Object.keys(copy) as DropReason[]) {
      copy[reason].lines = this.byReason[reason].lines;
      copy[reason].bytes = this.byReason[reason].bytes;
    }
    return copy;
  }
}
