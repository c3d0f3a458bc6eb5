// The periodic one-line summary on stderr: rates since the last line and
// totals, so an operator watching a long run sees that events flow, what was
// lost and whether the output keeps up. Pure formatting over counters; the
// caller decides when (a timer) and where (stderr).

export interface ProgressCounters {
  /** Events written (packets and flows). */
  events: number;
  /** Events known lost in the kernel or the ring (the collector's gap counts). */
  lost: number;
  /** True when the kernel reported drops not yet counted. */
  lossUncounted: boolean;
  /** Lines the output dropped (socket sinks with a full queue or no receiver). */
  outputDropped: number;
  /** Bytes waiting in the output's queue, and in the collector's ring. */
  outputQueued: number;
  ringPending: number;
}

function compact(n: number): string {
  if (n < 10_000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export class ProgressLine {
  private last: ProgressCounters | null = null;
  private lastMs = 0;

  constructor(private readonly startMs: number) {
    this.lastMs = startMs;
  }

  /** The line for `now`, with rates since the previous call (or since the start). */
  line(now: number, counters: ProgressCounters): string {
    const seconds = Math.max(0.001, (now - this.lastMs) / 1000);
    const previous = this.last ?? { events: 0, lost: 0, outputDropped: 0 };
    const rate = (counters.events - previous.events) / seconds;
    const lostNow = counters.lost - previous.lost;
    const elapsed = Math.round((now - this.startMs) / 1000);
    this.last = { ...counters };
    this.lastMs = now;
    return (
      `netfilter-collector: ${elapsed}s ${compact(rate)} events/s, ${compact(counters.events)} total, ` +
      `lost ${compact(counters.lost)}${counters.lossUncounted ? '+' : ''} (+${compact(lostNow)}), ` +
      `output dropped ${compact(counters.outputDropped)}, queued ${bytes(counters.outputQueued)}, ring ${bytes(counters.ringPending)}`
    );
  }
}
