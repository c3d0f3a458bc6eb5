// Delivery latency of packet events: from the kernel's timestamp to the
// moment the line is handed to the output, in a fixed histogram of 0.1 ms
// buckets up to 10 s (no allocation per event).

const BUCKET_US = 100;
const BUCKETS = 100_000;

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  private total = 0;
  private maxUs = 0;
  private sumUs = 0;

  record(latencyUs: number): void {
    if (!(latencyUs >= 0)) latencyUs = 0; // clock steps backwards: count as 0
    const bucket = Math.min(BUCKETS, Math.floor(latencyUs / BUCKET_US));
    this.counts[bucket]++;
    this.total++;
    this.sumUs += latencyUs;
    if (latencyUs > this.maxUs) this.maxUs = latencyUs;
  }

  /** p50, p99 (bucket upper bounds, never above the max) and max in milliseconds, or null without samples. */
  summary(): { samples: number; p50Ms: number; p99Ms: number; maxMs: number } | null {
    if (this.total === 0) return null;
    const maxMs = Math.round(this.maxUs / 100) / 10;
    return {
      samples: this.total,
      p50Ms: Math.min(this.quantile(0.5), maxMs),
      p99Ms: Math.min(this.quantile(0.99), maxMs),
      maxMs,
    };
  }

  /**
   * For a Prometheus histogram: samples at or below each bound (seconds, ascending; to the
   * 0.1 ms resolution of the buckets), the count and the sum in seconds.
   */
  cumulative(boundsSeconds: readonly number[]): { le: number[]; count: number; sumSeconds: number } {
    const le: number[] = [];
    let seen = 0;
    let bucket = 0;
    for (const bound of boundsSeconds) {
      const end = Math.min(BUCKETS + 1, Math.floor((bound * 1e6) / BUCKET_US));
      for (; bucket < end; bucket++) seen += this.counts[bucket];
      le.push(seen);
    }
    return { le, count: this.total, sumSeconds: this.sumUs / 1e6 };
  }

  private quantile(q: number): number {
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return ((i + 1) * BUCKET_US) / 1000;
    }
    return (BUCKETS * BUCKET_US) / 1000;
  }
}
