import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/cli/latency';
import { RecordCounts, renderMetrics } from '../../src/cli/metrics';
import type { CollectorRecord } from '../../src/records';
import type { SinkStats } from '../../src/sink';

describe('renderMetrics', () => {
  it('counts by group, event, namespace and loss reason, per output and reason, with a latency histogram', () => {
    const counts = new RecordCounts();
    const records = [
      { kind: 'packet', group: 1 },
      { kind: 'packet', group: 1 },
      { kind: 'packet', group: 2, netns: { name: 'router', inode: 4026532000 } },
      { kind: 'flow', event: 'new' },
      { kind: 'gap', source: 'nflog', reason: 'sequence', count: 7, group: 1 },
      { kind: 'gap', source: 'conntrack', reason: 'enobufs', count: null },
    ] as unknown as CollectorRecord[];
    for (const record of records) counts.count(record);
    const fromReader = new LatencyHistogram();
    fromReader.record(300); // 0.3 ms
    fromReader.record(20_000); // 20 ms
    const output = {
      target: 'syslog:tls:logs:6514',
      connected: true,
      writtenLines: 10,
      writtenBytes: 1000,
      queuedBytes: 5,
      queueLimitBytes: 100,
      droppedLines: 2,
      droppedBytes: 20,
      dropped: {
        noReceiver: { lines: 2, bytes: 20 },
        queueFull: { lines: 0, bytes: 0 },
        connectionLost: { lines: 0, bytes: 0 },
        closeDeadline: { lines: 0, bytes: 0 },
        writeError: { lines: 0, bytes: 0 },
      },
      reconnects: 1,
      connectFailures: 3,
      reopens: 0,
    } as SinkStats;
    const file = { ...output, target: '/var/log/nf.ndjson', rotations: 4 } as SinkStats;
    const text = renderMetrics({
      collector: { delivered: 4, enobufs: 1, ringPending: 0, ringSize: 1024, lossUncounted: true },
      records: counts,
      outputs: [output, file],
      latency: { fromReader, fromKernel: new LatencyHistogram() },
      startTimeSeconds: 1,
    });
    const lines = text.split('\n');
    for (const expected of [
      'netfilter_collector_packets_total{group="1"} 2',
      'netfilter_collector_packets_total{netns="router",group="2"} 1',
      'netfilter_collector_flows_total{event="new"} 1',
      'netfilter_collector_delivered_events_total 4',
      'netfilter_collector_lost_events_total{source="nflog",reason="sequence",group="1"} 7',
      'netfilter_collector_gaps_total{source="conntrack",reason="enobufs"} 1',
      'netfilter_collector_kernel_enobufs_total 1',
      'netfilter_collector_loss_uncounted 1',
      'netfilter_collector_output_dropped_lines_total{output="syslog:tls:logs:6514",reason="noReceiver"} 2',
      'netfilter_collector_output_connect_failures_total{output="syslog:tls:logs:6514"} 3',
      'netfilter_collector_output_rotations_total{output="/var/log/nf.ndjson"} 4',
      'netfilter_collector_delivery_latency_seconds_bucket{from="reader",le="0.0005"} 1',
      'netfilter_collector_delivery_latency_seconds_bucket{from="reader",le="0.025"} 2',
      'netfilter_collector_delivery_latency_seconds_bucket{from="reader",le="+Inf"} 2',
      'netfilter_collector_delivery_latency_seconds_sum{from="reader"} 0.0203',
      'netfilter_collector_delivery_latency_seconds_count{from="reader"} 2',
      '# TYPE netfilter_collector_delivery_latency_seconds histogram',
    ]) {
      expect(lines).toContain(expected);
    }
    // Rotations only for the file that rotates by size.
    expect(text).not.toMatch(/output_rotations_total\{output="syslog/);
    // An unknown-size gap is a gap, not events.
    expect(text).not.toMatch(/lost_events_total\{source="conntrack"/);
    expect(text.endsWith('\n')).toBe(true);
  });
});
