// Completed-flow mode: one record per flow, at DESTROY. The kernel's
// timestamp extension puts start and stop on the DESTROY event itself; without
// it, the start is when NEW arrived, kept in a bounded table by flow id.
import type { FlowRecord } from '../records';

export class CompletedFlows {
  private readonly starts = new Map<number, number>();
  /** Start times dropped because the table was full (their flows end without a start). */
  evicted = 0;

  constructor(private readonly maxSize: number) {}

  /** Flows whose start is remembered. */
  get size(): number {
    return this.starts.size;
  }

  /** Returns the record to deliver, or null when it only feeds the table (NEW, UPDATE, dump). */
  take(record: FlowRecord): FlowRecord | null {
    if (record.event !== 'destroy') {
      if ((record.event === 'new' || record.event === 'dump') && record.startUs === undefined && record.id !== undefined) {
        if (this.starts.size >= this.maxSize) {
          // Maps iterate in insertion order: the first key is the oldest flow.
          const oldest = this.starts.keys().next().value as number;
          this.starts.delete(oldest);
          this.evicted++;
        }
        this.starts.set(record.id, record.receivedUs);
      }
      return null;
    }
    if (record.id !== undefined) {
      const start = this.starts.get(record.id);
      if (start !== undefined) {
        this.starts.delete(record.id);
        if (record.startUs === undefined) {
          record.startUs = start;
          record.stopUs = record.receivedUs;
          record.timesFromCollector = true;
        }
      }
    }
    return record;
  }
}
