// Collects records from a running collector in the background, so a test can
// send traffic and then wait (bounded) for what it expects.
import type { Collector } from '../../src/collector';
import type { CollectorRecord, GapRecord, PacketRecord } from '../../src/records';

export class Gatherer {
  readonly records: CollectorRecord[] = [];
  private readonly done: Promise<void>;

  constructor(private readonly collector: Collector) {
    this.done = (async () => {
      for await (const batch of collector.batches()) this.records.push(...batch);
    })();
  }

  packets(): PacketRecord[] {
    return this.records.filter((r): r is PacketRecord => r.kind === 'packet');
  }

  gaps(): GapRecord[] {
    return this.records.filter((r): r is GapRecord => r.kind === 'gap');
  }

  interfaces(): Map<number, string> {
    return this.collector.interfaces();
  }

  /** Waits until `predicate` holds or `timeoutMs` passes; returns whether it held. */
  async until(predicate: () => boolean, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Closes the collector and waits for the last records. */
  async close(): Promise<void> {
    this.collector.close();
    await this.done;
  }
}
