// Every field of every produced document against the ECS reference.
import { describe, expect, it } from 'vitest';
import { createActionMapper } from '../../../src/verdict/action';
import { packetToEcs, type EcsDocument } from '../../../src/ecs/packet';
import type { PacketRecord } from '../../../src/records';
import { checkDocument, loadFields, loadFlatYaml } from './ecs-reference';
import { sampleRecords } from '../../helpers/packet-records';
import { decodeFixture } from '../../helpers/fixtures';
import { gapToEcs } from '../../../src/ecs/gap';

const fields = loadFields();
const yaml = loadFlatYaml([
  'event.kind',
  'event.category',
  'event.type',
  'event.outcome',
  'network.direction',
  'source.mac',
  'destination.mac',
]);

function documents(): EcsDocument[] {
  const mapper = createActionMapper({ rules: [{ match: 'log only', action: 'log' }] });
  const docs: EcsDocument[] = [];
  // Records decoded from datagrams recorded on the real kernel, beside the hand-built ones.
  const recorded = ['nflog-inbound.json', 'nflog-outbound-uid.json'].flatMap((name) =>
    decodeFixture(name).filter((r): r is PacketRecord => r.kind === 'packet'),
  );
  for (const rec of [...sampleRecords(), ...recorded]) {
    docs.push(packetToEcs(rec));
    docs.push(
      packetToEcs(rec, {
        actionMapper: mapper,
        groupLabels: { 1: 'lan-drop' },
        observer: { hostname: 'h', name: 'n' },
        communityIdSeed: 7,
      }),
    );
  }
  return docs;
}

describe('ECS schema conformance', () => {
  it('reads the reference', () => {
    expect(fields.size).toBeGreaterThan(1000);
    expect(fields.get('source.ip')).toEqual({ name: 'source.ip', type: 'ip', array: false });
    expect(fields.get('related.ip')?.array).toBe(true);
    expect(yaml.get('event.kind')?.allowed).toContain('event');
    expect(yaml.get('event.type')?.allowed).toContain('denied');
    expect(yaml.get('event.category')?.expectedEventTypes.get('network')).toContain('connection');
    expect(yaml.get('network.direction')?.expected).toContain('ingress');
    expect(yaml.get('source.mac')?.pattern).toBeDefined();
    // The project namespace must not collide with ECS.
    expect([...fields.keys()].some((f) => f === 'netfilter' || f.startsWith('netfilter.'))).toBe(false);
  });

  const docs = documents();

  it(`every field outside netfilter.* is an ECS field with a value of its type (${docs.length} documents)`, () => {
    const seen = new Set<string>();
    for (const doc of docs) checkDocument(doc, seen);
    // The samples exercise the whole document shape.
    for (const p of [
      'source.mac',
      'destination.mac',
      'network.community_id',
      'network.direction',
      'network.vlan.id',
      'observer.ingress.interface.id',
      'observer.egress.interface.id',
      'rule.name',
      'event.sequence',
      'event.action',
      'event.outcome',
      'observer.hostname',
    ]) {
      expect(seen.has(p), p).toBe(true);
    }
  });

  it('gap documents use ECS fields with values of their type, and an allowed event.kind', () => {
    const seen = new Set<string>();
    for (const count of [3, null]) {
      const doc = gapToEcs({
        kind: 'gap',
        source: 'nflog',
        reason: count ? 'sequence' : 'enobufs',
        count,
        group: 1,
        fromSeq: 5,
        toSeq: 7,
        timestampUs: 1_700_000_000_000_001,
      });
      checkDocument(doc, seen);
      expect(yaml.get('event.kind')!.allowed).toContain((doc.event as { kind: string }).kind);
    }
  });

  it('categorization values are allowed values, and types fit the category', () => {
    const kinds = yaml.get('event.kind')!.allowed;
    const categories = yaml.get('event.category')!;
    const types = yaml.get('event.type')!.allowed;
    const outcomes = yaml.get('event.outcome')!.allowed;
    for (const doc of docs) {
      expect(kinds).toContain(doc.event.kind);
      for (const c of doc.event.category) {
        expect(categories.allowed).toContain(c);
        for (const t of doc.event.type) {
          expect(types).toContain(t);
          expect(categories.expectedEventTypes.get(c), `${t} for category ${c}`).toContain(t);
        }
      }
      if (doc.event.outcome !== undefined) expect(outcomes).toContain(doc.event.outcome);
    }
  });

  it('network.direction is an expected value; MACs match the ECS pattern', () => {
    const directions = yaml.get('network.direction')!.expected;
    const srcPattern = new RegExp(yaml.get('source.mac')!.pattern!);
    const dstPattern = new RegExp(yaml.get('destination.mac')!.pattern!);
    for (const doc of docs) {
      if (doc.network.direction !== undefined) expect(directions).toContain(doc.network.direction);
      if (doc.source?.mac !== undefined) expect(doc.source.mac).toMatch(srcPattern);
      if (doc.destination?.mac !== undefined) expect(doc.destination.mac).toMatch(dstPattern);
    }
  });
});
