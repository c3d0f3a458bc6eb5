// The collector's counters as Prometheus metrics (text exposition format
// 0.0.4): what was delivered and lost, by source, reason, NFLOG group,
// conntrack event and namespace; the reader's and the ring's counters; each
// output's lines written, dropped by reason, and queue; delivery latency.
// Names follow Prometheus conventions: netfilter_collector_ prefix, _total
// for counters, units (_bytes, _seconds) in the name.
import type { CollectorRecord } from '../records';
import type { SinkStats } from '../sink';
import type { LatencyHistogram } from './latency';

/** Latency buckets, seconds: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;

/** Counts per record, keyed without allocating: namespace name (or '') → key → count. */
class KeyedCounts<K> {
  readonly byNetns = new Map<string, Map<K, number>>();

  add(netns: string, key: K, n: number): void {
    let counts = this.byNetns.get(netns);
    if (counts === undefined) {
      counts = new Map();
      this.byNetns.set(netns, counts);
    }
    counts.set(key, (counts.get(key) ?? 0) + n);
  }
}

/** What the records themselves say: events by group and event type, and losses by source and reason. */
export class RecordCounts {
  readonly packets = new KeyedCounts<number>();
  readonly flows = new KeyedCounts<string>();
  /** Key: source \0 reason \0 group ('' without one). */
  readonly lost = new KeyedCounts<string>();
  readonly gaps = new KeyedCounts<string>();

  count(record: CollectorRecord): void {
    const netns = record.netns?.name ?? '';
    if (record.kind === 'packet') this.packets.add(netns, record.group, 1);
    else if (record.kind === 'flow') this.flows.add(netns, record.event, 1);
    else {
      const key = `${record.source}\0${record.reason}\0${record.group ?? ''}`;
      this.gaps.add(netns, key, 1);
      // A gap of unknown size is counted as a gap, not as events.
      if (record.count !== null) this.lost.add(netns, key, record.count);
    }
  }
}

/** What one scrape shows. */
export interface MetricsSnapshot {
  /** The collector's stats() (CollectorStats), or a capture's counters. */
  collector: Record<string, unknown>;
  records: RecordCounts;
  outputs: SinkStats[];
  latency: { fromReader: LatencyHistogram; fromKernel: LatencyHistogram };
  startTimeSeconds: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  return String(n);
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: Array<[Labels, number]>): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${numberText(value)}`);
  }

  histogram(name: string, help: string, series: Array<[Labels, ReturnType<LatencyHistogram['cumulative']>]>): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [labels, h] of series) {
      LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
        this.lines.push(`${name}_bucket${labelText({ ...labels, le: String(bound) })} ${h.le[i]}`);
      });
      this.lines.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${h.count}`);
      this.lines.push(`${name}_sum${labelText(labels)} ${numberText(h.sumSeconds)}`);
      this.lines.push(`${name}_count${labelText(labels)} ${h.count}`);
    }
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const PREFIX = 'netfilter_collector_';

function withNetns(netns: string, labels: Labels): Labels {
  return netns === '' ? labels : { netns, ...labels };
}

/** The exposition text for one scrape. */
export function renderMetrics(snapshot: MetricsSnapshot): string {
  const out = new Exposition();
  const c = snapshot.collector;
  const num = (key: string): number | undefined => (typeof c[key] === 'number' ? (c[key] as number) : undefined);
  const counter = (name: string, help: string, key: string): void => {
    const value = num(key);
    if (value !== undefined) out.family(PREFIX + name, 'counter', help, [[{}, value]]);
  };
  const gauge = (name: string, help: string, key: string): void => {
    const value = num(key);
    if (value !== undefined) out.family(PREFIX + name, 'gauge', help, [[{}, value]]);
  };

  const packets: Array<[Labels, number]> = [];
  for (const [netns, counts] of snapshot.records.packets.byNetns)
    for (const [group, n] of counts) packets.push([withNetns(netns, { group: String(group) }), n]);
  out.family(`${PREFIX}packets_total`, 'counter', 'Packet events (NFLOG entries) delivered, by group.', packets);
  const flows: Array<[Labels, number]> = [];
  for (const [netns, counts] of snapshot.records.flows.byNetns)
    for (const [event, n] of counts) flows.push([withNetns(netns, { event }), n]);
  out.family(`${PREFIX}flows_total`, 'counter', 'Flow records (conntrack events) delivered, by event type.', flows);
  counter('delivered_events_total', 'Events (packets and flows) delivered to the outputs.', 'delivered');

  const lossSamples = (counts: KeyedCounts<string>): Array<[Labels, number]> => {
    const samples: Array<[Labels, number]> = [];
    for (const [netns, byKey] of counts.byNetns) {
      for (const [key, n] of byKey) {
        const [source, reason, group] = key.split('\0');
        samples.push([withNetns(netns, group === '' ? { source, reason } : { source, reason, group }), n]);
      }
    }
    return samples;
  };
  out.family(
    `${PREFIX}lost_events_total`,
    'counter',
    'Events known lost before the outputs, by source, reason and group.',
    lossSamples(snapshot.records.lost),
  );
  out.family(
    `${PREFIX}gaps_total`,
    'counter',
    'Losses noticed (gap records), by source, reason and group; some have no known size.',
    lossSamples(snapshot.records.gaps),
  );
  counter('kernel_enobufs_total', 'Times the kernel reported a socket receive buffer overflow (ENOBUFS).', 'enobufs');
  counter('truncated_datagrams_total', 'Netlink datagrams cut because they were longer than the reader slot.', 'truncated');
  counter('ring_full_total', 'Times the reader thread found the ring full and waited.', 'ringFull');
  counter('decode_errors_total', 'Entries delivered with a decode fault.', 'decodeErrors');
  counter('received_datagrams_total', 'Netlink datagrams the reader thread received.', 'datagrams');
  counter('received_bytes_total', 'Bytes the reader thread received.', 'bytes');
  gauge('ring_pending_bytes', 'Bytes in the ring waiting to be decoded.', 'ringPending');
  gauge('ring_size_bytes', 'Capacity of the ring.', 'ringSize');
  const uncounted = c.lossUncounted;
  if (typeof uncounted === 'boolean') {
    out.family(
      `${PREFIX}loss_uncounted`,
      'gauge',
      '1 while the kernel reported drops that no sequence number has counted yet (lost is a lower bound).',
      [[{}, uncounted ? 1 : 0]],
    );
  }

  const perOutput = (pick: (s: SinkStats) => number | undefined): Array<[Labels, number]> =>
    snapshot.outputs.flatMap((s) => {
      const v = pick(s);
      return v === undefined ? [] : [[{ output: s.target }, v] as [Labels, number]];
    });
  out.family(
    `${PREFIX}output_written_lines_total`,
    'counter',
    'Lines (messages) an output handed to the kernel.',
    perOutput((s) => s.writtenLines),
  );
  out.family(
    `${PREFIX}output_written_bytes_total`,
    'counter',
    'Bytes of those lines.',
    perOutput((s) => s.writtenBytes),
  );
  const dropped = (field: 'lines' | 'bytes'): Array<[Labels, number]> =>
    snapshot.outputs.flatMap((s) =>
      Object.entries(s.dropped).map(([reason, count]) => [{ output: s.target, reason }, count[field]] as [Labels, number]),
    );
  out.family(`${PREFIX}output_dropped_lines_total`, 'counter', 'Lines an output could not deliver, by reason.', dropped('lines'));
  out.family(`${PREFIX}output_dropped_bytes_total`, 'counter', 'Bytes of those lines, by reason.', dropped('bytes'));
  out.family(
    `${PREFIX}output_truncated_lines_total`,
    'counter',
    'Syslog datagrams cut to the maximum message size.',
    perOutput((s) => s.truncatedLines),
  );
  out.family(
    `${PREFIX}output_queued_bytes`,
    'gauge',
    'Bytes accepted by an output and not yet written.',
    perOutput((s) => s.queuedBytes),
  );
  out.family(
    `${PREFIX}output_queue_limit_bytes`,
    'gauge',
    'Bound of an output queue.',
    perOutput((s) => s.queueLimitBytes),
  );
  out.family(
    `${PREFIX}output_connected`,
    'gauge',
    '1 while an output is connected (files and stdout: open and not failed).',
    perOutput((s) => (s.connected ? 1 : 0)),
  );
  out.family(
    `${PREFIX}output_reconnects_total`,
    'counter',
    'Connections an output made after its first.',
    perOutput((s) => s.reconnects),
  );
  out.family(
    `${PREFIX}output_rotations_total`,
    'counter',
    'Times a file output rotated by size (--file-max-size).',
    perOutput((s) => s.rotations),
  );
  out.family(
    `${PREFIX}output_connect_failures_total`,
    'counter',
    'Connection attempts that failed (refused, TLS handshake or verification).',
    perOutput((s) => s.connectFailures),
  );

  out.histogram(
    `${PREFIX}delivery_latency_seconds`,
    'From the reader thread receiving an event (from="reader") or the kernel timestamping a packet (from="kernel") to its line reaching the outputs.',
    [
      [{ from: 'reader' }, snapshot.latency.fromReader.cumulative(LATENCY_BUCKETS_SECONDS)],
      [{ from: 'kernel' }, snapshot.latency.fromKernel.cumulative(LATENCY_BUCKETS_SECONDS)],
    ],
  );
  out.family(`${PREFIX}start_time_seconds`, 'gauge', 'When the collector started, seconds since the epoch.', [
    [{}, snapshot.startTimeSeconds],
  ]);
  return out.text();
}
