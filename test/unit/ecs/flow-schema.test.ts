// Every field of every flow document against the ECS reference.
import { describe, expect, it } from 'vitest';
import { ConntrackDecoder } from '../../../src/conntrack/decode';
import { flowToEcs, type EcsFlowDocument } from '../../../src/ecs/flow';
import { checkDocument, loadFlatYaml } from './ecs-reference';
import { RECEIVED_US, SAMPLES } from '../conntrack/samples';

const yaml = loadFlatYaml(['event.kind', 'event.category', 'event.type']);

function documents(): EcsFlowDocument[] {
  const decoder = new ConntrackDecoder();
  const docs: EcsFlowDocument[] = [];
  for (const s of SAMPLES) {
    const bytes = new Uint8Array(s.msg);
    for (const isDump of [s.isDump, !s.isDump]) {
      const r = decoder.decode(bytes, new DataView(bytes.buffer), 0, bytes.length, RECEIVED_US, isDump);
      docs.push(flowToEcs(r));
      docs.push(flowToEcs(r, { communityIdSeed: 3, observer: { hostname: 'gw', name: 'edge' } }));
    }
  }
  return docs;
}

describe('flow documents: ECS schema conformance', () => {
  const docs = documents();

  it(`every field outside netfilter.* is an ECS field with a value of its type (${docs.length} documents)`, () => {
    const seen = new Set<string>();
    for (const doc of docs) checkDocument(doc, seen);
    for (const p of [
      '@timestamp',
      'event.start',
      'event.end',
      'event.duration',
      'event.created',
      'event.action',
      'source.ip',
      'source.port',
      'source.nat.ip',
      'source.nat.port',
      'source.bytes',
      'source.packets',
      'destination.nat.ip',
      'destination.nat.port',
      'destination.bytes',
      'destination.packets',
      'network.bytes',
      'network.packets',
      'network.community_id',
      'network.type',
      'network.transport',
      'network.iana_number',
      'related.ip',
      'observer.hostname',
    ]) {
      expect(seen.has(p), p).toBe(true);
    }
  });

  it('categorization values are allowed values, and types fit the category', () => {
    const kinds = yaml.get('event.kind')!.allowed;
    const categories = yaml.get('event.category')!;
    const types = yaml.get('event.type')!.allowed;
    const seenTypes = new Set<string>();
    for (const doc of docs) {
      expect(kinds).toContain(doc.event.kind);
      for (const c of doc.event.category) {
        expect(categories.allowed).toContain(c);
        for (const t of doc.event.type) {
          seenTypes.add(t);
          expect(types).toContain(t);
          expect(categories.expectedEventTypes.get(c), `${t} for category ${c}`).toContain(t);
        }
      }
    }
    expect([...seenTypes].sort()).toEqual(['connection', 'end', 'info', 'start']);
  });

  it('the project namespace holds the rest', () => {
    for (const doc of docs) {
      const top = Object.keys(doc).filter(
        (k) => !['@timestamp', 'ecs', 'event', 'source', 'destination', 'network', 'observer', 'agent', 'related', 'netfilter'].includes(k),
      );
      expect(top).toEqual([]);
    }
  });
});
