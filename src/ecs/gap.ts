// A gap record as an ECS document: the collection pipeline lost events. One
// definition (writeGapDocument) for the object (gapToEcs) and the line
// (gapToEcsJson), with the same identity (ecs.version, observer, agent) as
// packet and flow documents, so a SIEM sees which gateway lost what.
import type { GapRecord, NetnsLabel } from '../records';
import { JsonWriter, ObjectWriter, type DocWriter } from './doc-writer';
import { ecsIdentity, openObserver, writeAgent, writeEcsVersion, type EcsIdentity, type EcsIdentityOptions } from './identity';
import type { EcsAgent, EcsObserver } from './packet';

/** The options of packetToEcs that apply to gaps (the same object can be passed to all three). */
export type GapEcsOptions = EcsIdentityOptions;

export interface EcsGapDocument {
  '@timestamp': string;
  ecs: { version: string };
  event: { kind: 'pipeline_error'; module: 'netfilter'; dataset: 'netfilter.gap'; action: 'events-lost'; reason: GapRecord['reason'] };
  error: { type: GapRecord['reason']; message: string };
  observer: EcsObserver;
  agent: EcsAgent;
  netfilter: {
    netns?: NetnsLabel;
    gap: {
      source: GapRecord['source'];
      reason: GapRecord['reason'];
      /** null: the kernel did not say how many. */
      count: number | null;
      group?: number;
      from_seq?: number;
      to_seq?: number;
      resynced?: number;
      detail?: string;
    };
  };
}

/** The loss in words, as error.message (and the CLI's stderr) says it. */
export function gapText(gap: GapRecord): string {
  const what = gap.count === null ? 'an unknown number of events' : `${gap.count} events`;
  const where = gap.group !== undefined ? `${gap.source} group ${gap.group}` : gap.source;
  const ns = gap.netns !== undefined ? ` in netns ${gap.netns.name}` : '';
  return `lost ${what} (${where}${ns}, ${gap.reason})${gap.detail ? `: ${gap.detail}` : ''}`;
}

/** The gap document, field by field in document order. */
export function writeGapDocument(w: DocWriter, gap: GapRecord, identity: EcsIdentity): void {
  w.time('@timestamp', gap.timestampUs);
  writeEcsVersion(w);
  w.open('event');
  w.str('kind', 'pipeline_error');
  w.str('module', 'netfilter');
  w.str('dataset', 'netfilter.gap');
  w.str('action', 'events-lost');
  w.str('reason', gap.reason);
  w.close();
  w.open('error');
  w.str('type', gap.reason);
  w.str('message', gapText(gap));
  w.close();
  openObserver(w, identity);
  w.close();
  writeAgent(w, identity);
  w.open('netfilter');
  if (gap.netns !== undefined) {
    w.open('netns');
    w.str('name', gap.netns.name);
    w.num('inode', gap.netns.inode);
    w.close();
  }
  w.open('gap');
  w.str('source', gap.source);
  w.str('reason', gap.reason);
  if (gap.count === null) w.nil('count');
  else w.num('count', gap.count);
  if (gap.group !== undefined) w.num('group', gap.group);
  if (gap.fromSeq !== undefined) w.num('from_seq', gap.fromSeq);
  if (gap.toSeq !== undefined) w.num('to_seq', gap.toSeq);
  if (gap.resynced !== undefined) w.num('resynced', gap.resynced);
  if (gap.detail !== undefined) w.str('detail', gap.detail);
  w.close();
  w.close();
}

/** A gap record as an ECS document. */
export function gapToEcs(gap: GapRecord, options?: GapEcsOptions): EcsGapDocument {
  const w = new ObjectWriter();
  const doc = w.begin();
  writeGapDocument(w, gap, ecsIdentity(options));
  return doc as unknown as EcsGapDocument;
}

const JSON_WRITER = new JsonWriter();

/** JSON.stringify(gapToEcs(gap, options)). */
export function gapToEcsJson(gap: GapRecord, options?: GapEcsOptions): string {
  const w = JSON_WRITER;
  w.begin();
  writeGapDocument(w, gap, ecsIdentity(options));
  return w.bytes().toString('utf8', 0, w.end());
}
