// Every document — packet, flow, gap — says which gateway and which collector
// wrote it, checked against the ECS reference; and each has one definition:
// its line is JSON.stringify of its object.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConntrackDecoder } from '../../../src/conntrack/decode';
import { flowToEcs } from '../../../src/ecs/flow';
import { flowToEcsJson } from '../../../src/ecs/flow-json';
import { gapToEcs, gapToEcsJson } from '../../../src/ecs/gap';
import { AGENT_VERSION, agentIdFromFile, ECS_VERSION, machineAgentId } from '../../../src/ecs/identity';
import { packetToEcs, type EcsOptions } from '../../../src/ecs/packet';
import { packetToEcsJson } from '../../../src/ecs/packet-json';
import type { FlowRecord, GapRecord } from '../../../src/records';
import { parseArgs } from '../../../src/cli/args';
import { ecsOptions } from '../../../src/cli/formats';
import { parseCommandLine } from '../../../src/cli/config';
import { RECEIVED_US, SAMPLES } from '../conntrack/samples';
import { checkDocument, ecsReferenceVersion } from './ecs-reference';
import { ipv4, record, sampleRecords } from '../../helpers/packet-records';

const NETNS = { name: 'router', inode: 4026532281 };
const OPTIONS: EcsOptions = {
  observer: { hostname: 'gw-7.example', name: 'edge-7', ip: ['192.0.2.7', '2001:db8::7'] },
  agent: { id: '3f2c0f7e-0000-4000-8000-000000000007' },
};

function flows(): FlowRecord[] {
  const decoder = new ConntrackDecoder();
  return SAMPLES.map((s) => {
    const bytes = new Uint8Array(s.msg);
    return decoder.decode(bytes, new DataView(bytes.buffer), 0, bytes.length, RECEIVED_US, s.isDump) as FlowRecord;
  });
}

const GAPS: GapRecord[] = [
  { kind: 'gap', source: 'nflog', reason: 'sequence', count: 3, group: 1, fromSeq: 5, toSeq: 7, timestampUs: 1_700_000_000_000_001 },
  {
    kind: 'gap',
    source: 'conntrack',
    reason: 'enobufs',
    count: null,
    resynced: 12,
    detail: 'ENOBUFS "x"',
    timestampUs: 1_700_000_000_000_002 + 0.75,
    netns: NETNS,
  },
];

describe('observer and agent identity', () => {
  const packets = [...sampleRecords(), record({ network: ipv4('192.0.2.1', '192.0.2.2', 17) }, { prefix: '[WAN_IN-10-D]', netns: NETNS })];

  it('ecs.version is the release of the reference the schema tests check against', () => {
    expect(ecsReferenceVersion().replace(/-dev$/, '')).toBe(ECS_VERSION);
    expect(packetToEcs(packets[0]).ecs.version).toBe(ECS_VERSION);
  });

  it('every packet, flow and gap document carries observer and agent, as ECS fields', () => {
    const seen = new Set<string>();
    const docs = [
      ...packets.flatMap((r) => [packetToEcs(r), packetToEcs(r, OPTIONS)]),
      ...flows().flatMap((r) => [flowToEcs(r), flowToEcs({ ...r, netns: NETNS }, OPTIONS)]),
      ...GAPS.flatMap((g) => [gapToEcs(g), gapToEcs(g, OPTIONS)]),
    ];
    for (const doc of docs) {
      checkDocument(doc, seen);
      const d = doc as unknown as { ecs: { version: string }; observer: Record<string, unknown>; agent: Record<string, unknown> };
      expect(d.ecs.version).toBe(ECS_VERSION);
      expect(d.observer).toMatchObject({ type: 'firewall', product: 'netfilter' });
      expect(typeof d.observer.hostname).toBe('string');
      expect(d.agent).toMatchObject({ type: 'netfilter-collector', version: AGENT_VERSION });
      expect(typeof d.agent.name).toBe('string');
    }
    for (const p of [
      'observer.hostname',
      'observer.name',
      'observer.ip',
      'agent.type',
      'agent.version',
      'agent.name',
      'agent.id',
      'rule.ruleset',
      'rule.id',
      'rule.name',
    ]) {
      expect(seen.has(p), p).toBe(true);
    }
  });

  it('defaults: observer.hostname is os.hostname(), agent.name follows observer.name, else the host name', () => {
    const r = packets[0];
    expect(packetToEcs(r).observer.hostname).toBe(os.hostname());
    expect(packetToEcs(r).agent.name).toBe(os.hostname());
    expect(packetToEcs(r, { observer: { name: 'edge' } }).agent.name).toBe('edge');
    expect(packetToEcs(r, { observer: { name: 'edge' }, agent: { name: 'collector-1' } }).agent.name).toBe('collector-1');
    const doc = packetToEcs(r, OPTIONS);
    expect(doc.observer).toMatchObject({ hostname: 'gw-7.example', name: 'edge-7', ip: ['192.0.2.7', '2001:db8::7'] });
    expect(doc.agent).toEqual({ type: 'netfilter-collector', version: AGENT_VERSION, name: 'edge-7', id: OPTIONS.agent!.id });
  });

  it('rule.* from the verdict, netfilter.netns from the record', () => {
    const doc = packetToEcs(packets[packets.length - 1]);
    expect(doc.rule).toEqual({ name: 'WAN_IN-10-D', ruleset: 'WAN_IN', id: '10' });
    expect(doc.netfilter.netns).toEqual(NETNS);
    expect(flowToEcs({ ...flows()[0], netns: NETNS }).netfilter.netns).toEqual(NETNS);
    expect(gapToEcs(GAPS[1]).netfilter.netns).toEqual(NETNS);
  });

  it('gap documents: typed, integer microseconds, count null when unknown, the loss in words', () => {
    const doc = gapToEcs(GAPS[1]);
    expect(doc['@timestamp']).toBe('2023-11-14T22:13:20.000002Z');
    expect(doc.event).toEqual({
      kind: 'pipeline_error',
      module: 'netfilter',
      dataset: 'netfilter.gap',
      action: 'events-lost',
      reason: 'enobufs',
    });
    expect(doc.netfilter.gap).toEqual({ source: 'conntrack', reason: 'enobufs', count: null, resynced: 12, detail: 'ENOBUFS "x"' });
    expect(doc.error.message).toBe('lost an unknown number of events (conntrack in netns router, enobufs): ENOBUFS "x"');
  });

  it('each document has one definition: the line is JSON.stringify of the object', () => {
    for (const options of [undefined, OPTIONS]) {
      for (const r of packets) expect(packetToEcsJson(r, options)).toBe(JSON.stringify(packetToEcs(r, options)));
      for (const r of flows())
        expect(flowToEcsJson({ ...r, netns: NETNS }, options)).toBe(JSON.stringify(flowToEcs({ ...r, netns: NETNS }, options)));
      for (const g of GAPS) expect(gapToEcsJson(g, options)).toBe(JSON.stringify(gapToEcs(g, options)));
    }
  });

  it('agent.id from /etc/machine-id is stable, a UUID, and not the machine id', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-agent-'));
    try {
      const file = path.join(dir, 'machine-id');
      fs.writeFileSync(file, '0123456789abcdef0123456789abcdef\n');
      const id = machineAgentId(file);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(machineAgentId(file)).toBe(id);
      expect(id!.replace(/-/g, '')).not.toBe('0123456789abcdef0123456789abcdef');
      fs.writeFileSync(file, 'not an id\n');
      expect(machineAgentId(file)).toBeUndefined();
      expect(machineAgentId(path.join(dir, 'absent'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--agent-id-file: made with a new id when absent, read back after; a bad file is a clear error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-agent-'));
    try {
      const file = path.join(dir, 'state', 'agent-id');
      const made = agentIdFromFile(file);
      expect(made).toMatch(/^[0-9a-f-]{36}$/);
      expect(agentIdFromFile(file)).toBe(made);
      fs.writeFileSync(file, 'gateway-17\n');
      expect(agentIdFromFile(file)).toBe('gateway-17');
      fs.writeFileSync(file, '\n');
      expect(() => agentIdFromFile(file)).toThrow(/must hold an id/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CLI flags set the identity of every ECS document', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-agent-'));
    try {
      fs.writeFileSync(path.join(dir, 'id'), 'gw-id-1\n');
      const args = parseArgs([
        '--nflog',
        '1',
        '--observer-hostname',
        'gw1',
        '--observer-name',
        'edge',
        '--observer-ip',
        '192.0.2.1,2001:db8::1',
        '--agent-name',
        'nfc',
        '--agent-id-file',
        path.join(dir, 'id'),
      ]);
      const options = ecsOptions(args);
      expect(options.observer).toEqual({ hostname: 'gw1', name: 'edge', ip: ['192.0.2.1', '2001:db8::1'] });
      expect(options.agent).toEqual({ name: 'nfc', id: 'gw-id-1' });
      expect(gapToEcs(GAPS[0], options).agent.id).toBe('gw-id-1');
      // The config file's keys are the same flags.
      fs.writeFileSync(path.join(dir, 'config.yaml'), 'nflog: [1]\nobserver-name: edge-9\nobserver-ip: [192.0.2.9]\nagent-name: nfc-9\n');
      const fromFile = ecsOptions(parseCommandLine(['--config', path.join(dir, 'config.yaml')]));
      expect(fromFile.observer).toEqual({ name: 'edge-9', ip: ['192.0.2.9'] });
      expect(fromFile.agent).toEqual({ name: 'nfc-9' });
      expect(() => parseArgs(['--nflog', '1', '--observer-ip', 'gw'])).toThrow(/not an IPv4 or IPv6 address/);
      expect(() => parseArgs(['--nflog', '1', '--format', 'log', '--observer-name', 'x'])).toThrow(/applies to --format ecs/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
