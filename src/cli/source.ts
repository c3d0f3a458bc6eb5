// Where the CLI's records come from: the live collector, or a pcap file
// (--read). Both hand out batches and say what they lost.
import { createCollector, type Collector } from '../collector';
import type { NamespaceChange } from '../options';
import type { CollectorRecord } from '../records';
import { type CliArgs, collectorOptionsOf } from './args';

export interface SourceCounters {
  /** Events known lost before the output (kernel, ring, unreadable capture records). */
  lost: number;
  /** The kernel reported drops that no later entry has counted yet. */
  lossUncounted: boolean;
  /** Bytes waiting to be decoded. */
  pending: number;
}

export interface RecordSource {
  batches(): AsyncIterable<CollectorRecord[]>;
  /** Stops: batches() ends once what was already received is delivered. */
  close(): void;
  counters(): SourceCounters;
  /** Everything the source counts, for --stats. */
  summary(): Record<string, unknown>;
  /** Why a capture could not be read to its end (--read); null when it could, and for live collection. */
  failure(): string | null;
}

/** One line on stderr per namespace attached, detached, or that could not be attached. */
export function namespaceNote(c: NamespaceChange): string {
  const what = `network namespace ${c.name}${c.inode ? ` (inode ${c.inode})` : ''}`;
  if (c.change === 'attached') return `netfilter-collector: collecting in ${what}`;
  if (c.change === 'detached') return `netfilter-collector: no longer collecting in ${what}: ${c.reason ?? 'detached'}`;
  return `netfilter-collector: cannot collect in ${what}: ${c.reason ?? 'unknown error'}`;
}

export class LiveSource implements RecordSource {
  readonly collector: Collector;

  constructor(args: CliArgs, note: (line: string) => void = () => undefined) {
    this.collector = createCollector({
      ...collectorOptionsOf(args),
      // Attaching is news only where namespaces come and go; a detach or a failure is always said.
      onNamespace: (c) => (c.change !== 'attached' || args.allNetns ? note(namespaceNote(c)) : undefined),
    });
  }

  batches(): AsyncIterable<CollectorRecord[]> {
    return this.collector.batches();
  }

  close(): void {
    this.collector.close();
  }

  counters(): SourceCounters {
    const s = this.collector.stats();
    return { lost: s.lost, lossUncounted: s.lossUncounted, pending: s.ringPending };
  }

  summary(): Record<string, unknown> {
    return { ...this.collector.stats() };
  }

  failure(): null {
    return null;
  }
}
