// EcsFlowLines writes lines through one JsonWriter, reused from line to line,
// and fills the template of a run of one shape for the next flows of that
// shape. Nothing of one line may leak into the next, and a template may serve
// only records of its shape: change every field of a record in turn, right
// after a run of its original made the template, and the line must still
// equal JSON.stringify(flowToEcs()).
import { describe, expect, it } from 'vitest';
import { ConntrackDecoder } from '../../../src/conntrack/decode';
import { type FlowEcsOptions, flowToEcs } from '../../../src/ecs/flow';
import { EcsFlowLines } from '../../../src/ecs/flow-json';
import { LineEncoder } from '../../../src/format/line-target';
import type { FlowRecord } from '../../../src/records';
import {
  RECEIVED_US,
  type Sample,
  dumpEntry,
  icmpEcho,
  ipv6Udp,
  kitchenSink,
  tcpEstablishedUpdate,
  tcpSnatNew,
  udpDnatDestroy,
} from '../conntrack/samples';
import { changedAt, leafVariants } from '../../helpers/record-variants';

type Json = Record<string, unknown>;

const decoder = new ConntrackDecoder();
function record(sample: Sample): FlowRecord {
  const bytes = new Uint8Array(sample.msg);
  return decoder.decode(bytes, new DataView(bytes.buffer), 0, bytes.length, RECEIVED_US, sample.isDump);
}

const TUPLE = { src: '198.51.100.7', dst: '198.51.100.8', protocol: 17, srcPort: 5, dstPort: 6 };

/** Optional fields a record may lack, with a value to give them. */
const ADDED_FIELDS: Json = {
  id: 77,
  status: 0x18e,
  state: 3,
  stateName: 'ESTABLISHED',
  timeout: 30,
  mark: 5,
  zone: 2,
  use: 1,
  helper: 'ftp',
  secctx: 'system_u',
  labels: '0f',
  originalPackets: 3,
  originalBytes: 300,
  replyPackets: 4,
  replyBytes: 400,
  startUs: RECEIVED_US - 5_000_000,
  stopUs: RECEIVED_US,
  timesFromCollector: true,
  tcpFlagsOriginal: 3,
  tcpFlagsReply: 4,
  tcpWscaleOriginal: 7,
  tcpWscaleReply: 8,
  seqAdjOriginal: { position: 1, offsetBefore: 2, offsetAfter: 3 },
  master: TUPLE,
  reply: TUPLE,
  nat: { source: { ip: '10.0.0.1', port: 1, translatedIp: '192.0.2.9', translatedPort: 9 } },
  netns: { name: 'ns1', inode: 4026532000 },
  decodeError: 'conntrack.truncated',
};

/** Every variant of a record that changes one leaf, adds one optional field or takes one away. */
function variants(base: FlowRecord): FlowRecord[] {
  const out = leafVariants(base);
  for (const [field, value] of Object.entries(ADDED_FIELDS)) {
    if ((base as unknown as Json)[field] === undefined) out.push(changedAt(base, [field], value));
    else out.push(changedAt(base, [field], undefined), { ...structuredClone(base), [field]: undefined } as FlowRecord);
  }
  // Values that change what is written around them: a duration that cannot be, a tuple whose ends are one address.
  out.push(changedAt(base, ['stopUs'], (base.startUs ?? RECEIVED_US) - 1));
  if (base.original !== undefined) {
    out.push(changedAt(base, ['original', 'dst'], base.original.src));
    out.push(changedAt(base, ['original', 'protocol'], 1));
    out.push(changedAt(base, ['original', 'srcPort'], undefined), {
      ...structuredClone(base),
      original: { ...base.original, srcPort: undefined },
    });
  }
  return out;
}

/** The next flow of a burst: new id, times, ports and addresses, the rest as `r`. */
function nextFlow(r: FlowRecord, i: number): FlowRecord {
  const n = structuredClone(r);
  const at = (t: FlowRecord['original']): void => {
    if (t === undefined) return;
    t.dst = t.dst.includes(':') ? `2001:db8::${(i % 65535).toString(16)}` : `127.0.${(i >> 8) & 255}.${i & 255}`;
    if (t.srcPort !== undefined) t.srcPort = 1024 + (i % 60000);
  };
  at(n.original);
  at(n.reply);
  n.id = (r.id ?? 0) + i;
  n.timestampUs = r.timestampUs + i;
  n.receivedUs = r.receivedUs + i + 0.25;
  if (n.timeout !== undefined) n.timeout = 30 - (i % 3);
  if (n.nat?.source !== undefined) n.nat.source.translatedPort = 2000 + (i % 1000);
  if (n.originalBytes !== undefined) n.originalBytes += i;
  if (n.startUs !== undefined) n.startUs += i;
  if (n.stopUs !== undefined) n.stopUs += 2 * i;
  return n;
}

/** The line EcsFlowLines.writeLine() puts into an output buffer. */
function written(lines: EcsFlowLines, r: FlowRecord): string {
  const encoder = new LineEncoder();
  lines.writeLine(r, encoder);
  const text = Buffer.concat(encoder.take().map((c) => c.bytes)).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1);
}

interface Internals {
  templates: unknown[];
  matching(r: FlowRecord): unknown;
}

const OPTION_SETS: Array<FlowEcsOptions | undefined> = [
  undefined,
  { observer: { hostname: 'gw' }, communityIdSeed: 3 },
  { communityId: false },
];
const SAMPLES = [tcpSnatNew, udpDnatDestroy, icmpEcho, ipv6Udp, kitchenSink, dumpEntry, tcpEstablishedUpdate];

describe('ECS flow lines', () => {
  it('follows every change of a field after its original went through the same writer', () => {
    let checked = 0;
    for (const options of OPTION_SETS) {
      const lines = new EcsFlowLines(options);
      const internals = lines as unknown as Internals;
      let templated = 0;
      for (const base of SAMPLES.map(record)) {
        // A run of one shape: its template is made, and the variants below are compared with it.
        for (let k = 0; k < 20; k++) lines.line(base);
        if (internals.matching(base) !== undefined) templated++;
        const expected = JSON.stringify(flowToEcs(base, options));
        for (const variant of variants(base)) {
          expect(lines.line(base)).toBe(expected);
          expect(written(lines, base)).toBe(expected);
          const expectedVariant = JSON.stringify(flowToEcs(variant, options));
          if (checked % 2 === 0) expect(lines.line(variant)).toBe(expectedVariant);
          else expect(written(lines, variant)).toBe(expectedVariant);
          checked++;
        }
      }
      // Every sample gets a template.
      expect(templated).toBe(SAMPLES.length);
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('fills one template per kind of flow in a burst: NEW then DESTROY, every flow new', () => {
    for (const options of OPTION_SETS) {
      const lines = new EcsFlowLines(options);
      const internals = lines as unknown as Internals;
      let filled = 0;
      let total = 0;
      for (const sample of [tcpSnatNew, udpDnatDestroy, ipv6Udp]) {
        const base = record(sample);
        for (let i = 0; i < 300; i++) {
          const r = nextFlow(base, i);
          if (internals.matching(r) !== undefined) filled++;
          total++;
          const expected = JSON.stringify(flowToEcs(r, options));
          if (i % 2 === 0) expect(lines.line(r)).toBe(expected);
          else expect(written(lines, r)).toBe(expected);
        }
      }
      // After each kind's first run of 16, every line comes from its template.
      expect(filled).toBeGreaterThan(total - 3 * 20);
      expect(internals.templates.length).toBe(3);
    }
  });

  it('does not take a record that differs only in a field the line leaves out of the slots', () => {
    const lines = new EcsFlowLines();
    const base = record(kitchenSink);
    for (let k = 0; k < 20; k++) lines.line(base);
    // The same number of keys, one of them holding another value than the template's own.
    const other = { ...structuredClone(base), helper: 'sip' };
    expect(lines.line(other)).toBe(JSON.stringify(flowToEcs(other)));
    const noTuple = { ...structuredClone(base), reply: undefined };
    expect(lines.line(noTuple)).toBe(JSON.stringify(flowToEcs(noTuple)));
  });
});
