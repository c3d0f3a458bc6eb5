// A gap record as an ECS document: the collection pipeline lost events.
import type { GapRecord } from '../records';
import { isoTimestamp } from './timestamp';

export function gapToEcs(gap: GapRecord): Record<string, unknown> {
  const detail: Record<string, unknown> = { source: gap.source, reason: gap.reason, count: gap.count };
  if (gap.group !== undefined) detail.group = gap.group;
  if (gap.fromSeq !== undefined) detail.from_seq = gap.fromSeq;
  if (gap.toSeq !== undefined) detail.to_seq = gap.toSeq;
  const netfilter: Record<string, unknown> = { gap: detail };
  if (gap.netns) netfilter.netns = { name: gap.netns.name, inode: gap.netns.inode };
  const what = gap.count === null ? 'an unknown number of events' : `${gap.count} events`;
  return {
    '@timestamp': isoTimestamp(gap.timestampUs),
    event: { kind: 'pipeline_error', module: 'netfilter', dataset: 'netfilter.gap', action: 'events-lost', reason: gap.reason },
    error: { type: gap.reason, message: `lost ${what} (${gap.source}, ${gap.reason})${gap.detail ? `: ${gap.detail}` : ''}` },
    netfilter,
  };
}
