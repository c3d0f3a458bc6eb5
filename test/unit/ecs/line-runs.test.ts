// Line templates and their variants hold values a run of records kept, and
// rewrite dates and the Community ID inside their fixed bytes. Runs of records
// whose values change at random moments (addresses, ports, lengths now and
// then; ids, sequence numbers and times at every record; a second boundary, a
// year the template cannot hold) must still give, line after line, exactly
// JSON.stringify() of the document: for packets and for flows.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConntrackDecoder } from '../../../src/conntrack/decode';
import { DatagramDecoder } from '../../../src/datagram';
import { flowToEcs } from '../../../src/ecs/flow';
import { EcsFlowLines } from '../../../src/ecs/flow-json';
import { packetToEcs } from '../../../src/ecs/packet';
import { EcsPacketLines } from '../../../src/ecs/packet-json';
import { LineEncoder } from '../../../src/format/line-target';
import type { FlowRecord, FlowTuple, PacketRecord } from '../../../src/records';
import { RECEIVED_US, SAMPLES } from '../conntrack/samples';

/** xorshift32: the same runs every time. */
function random(seed: number): (n: number) => number {
  let s = seed | 0;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

/** The values a run varies; each record of a run changes some of them. */
interface Values {
  host: number;
  port: number;
  length: number;
  id: number;
  us: number;
}

function step(v: Values, rnd: (n: number) => number): void {
  if (rnd(12) === 0) v.host = rnd(6);
  if (rnd(40) === 0) v.port = 1 + rnd(60000);
  if (rnd(25) === 0) v.length = 40 + 100 * rnd(3);
  v.id = (v.id + 1) & 0xffff;
  // Mostly within the second, sometimes into the next one; rarely a year beyond 9999, then back.
  v.us += rnd(4) === 0 ? 1_000_000 + rnd(7) : rnd(3000);
  if (rnd(5000) === 0) v.us = 253_402_300_800_000_000 + rnd(1e7);
  else if (v.us > 1e17) v.us = RECEIVED_US + rnd(1e9);
}

/** Writes each record through line() and writeLine(), and returns the lines that differ from the document. */
function mismatches<R>(
  records: Iterable<R>,
  lines: { line(r: R): string; writeLine(r: R, to: LineEncoder): void },
  doc: (r: R) => unknown,
) {
  const encoder = new LineEncoder();
  const wrong: string[] = [];
  let count = 0;
  for (const r of records) {
    count++;
    const want = JSON.stringify(doc(r));
    lines.writeLine(r, encoder);
    const written = Buffer.concat(encoder.take().map((c) => c.bytes)).toString('utf8');
    const text = lines.line(r);
    if (written !== `${want}\n` || text !== want) wrong.push(`${want}\n${written}${text}`);
  }
  return { count, wrong };
}

function packetBases(): PacketRecord[] {
  const fixtures = join(__dirname, '..', '..', 'fixtures');
  const bases: PacketRecord[] = [];
  for (const name of readdirSync(fixtures).filter((n) => n.startsWith('nflog-'))) {
    for (const d of JSON.parse(readFileSync(join(fixtures, name), 'utf8')).datagrams) {
      if (d.source !== 1) continue;
      const bytes = new Uint8Array(Buffer.from(d.hex, 'hex'));
      const out: PacketRecord[] = [];
      new DatagramDecoder().decode(bytes, new DataView(bytes.buffer), 0, bytes.length, 1, 0, d.receivedUs, out as never[]);
      for (const r of out) if (r.kind === 'packet' && r.decodeError === undefined) bases.push(r);
    }
  }
  return bases;
}

/** Runs of records made from bases picked at random: long runs and short ones in turn, each record from `make` with the values of its step. */
function* runs<B, R>(bases: B[], count: number, rnd: (n: number) => number, make: (base: B, v: Values) => R): Generator<R> {
  const v: Values = { host: 0, port: 1, length: 40, id: 0, us: RECEIVED_US };
  for (let run = 0; run < count; run++) {
    const base = bases[rnd(bases.length)];
    const length = 1 + rnd(run % 2 === 0 ? 2000 : 40);
    for (let i = 0; i < length; i++) {
      step(v, rnd);
      yield make(base, v);
    }
  }
}

function packet(base: PacketRecord, v: Values): PacketRecord {
  const net = base.packet.network;
  const tr = base.packet.transport;
  const network = net === undefined ? undefined : { ...net };
  if (network?.kind === 'ipv4') Object.assign(network, { dst: `10.0.0.${v.host}`, id: v.id, totalLength: v.length });
  if (network?.kind === 'ipv6') Object.assign(network, { dst: `2001:db8::${v.host + 1}`, flowLabel: v.id, payloadLength: v.length });
  const transport = tr === undefined ? undefined : { ...tr };
  if (transport !== undefined && 'dstPort' in transport) transport.dstPort = v.port;
  if (transport?.kind === 'udp') transport.length = v.length - 20;
  if (transport?.kind === 'tcp') Object.assign(transport, { seq: v.id * 7919, window: v.port });
  return { ...base, packet: { ...base.packet, network, transport }, timestampUs: v.us, receivedUs: v.us + 40, seq: v.id };
}

function flow(base: FlowRecord, v: Values): FlowRecord {
  const tuple = (t: FlowTuple | undefined): FlowTuple | undefined =>
    t === undefined ? undefined : { ...t, ...(t.srcPort === undefined ? {} : { srcPort: v.port }) };
  const r: FlowRecord = { ...base, original: tuple(base.original), reply: tuple(base.reply), timestampUs: v.us, receivedUs: v.us + 40 };
  if (base.id !== undefined) r.id = v.id;
  if (base.originalPackets !== undefined) Object.assign(r, { originalPackets: v.host, originalBytes: v.length * v.host });
  if (base.stopUs !== undefined) r.stopUs = v.us;
  return r;
}

describe('lines from templates, over runs of records whose values change at random', () => {
  it('packets: every line is JSON.stringify(packetToEcs(record))', () => {
    const { count, wrong } = mismatches(runs(packetBases(), 150, random(0x9e3779b9), packet), new EcsPacketLines(), (r) => packetToEcs(r));
    expect(count).toBeGreaterThan(50_000);
    expect(wrong.slice(0, 2)).toEqual([]);
  }, 30_000);

  it('flows: every line is JSON.stringify(flowToEcs(record))', () => {
    const decoder = new ConntrackDecoder();
    const bases = SAMPLES.map((s) => {
      const bytes = new Uint8Array(s.msg);
      return decoder.decode(bytes, new DataView(bytes.buffer), 0, bytes.length, RECEIVED_US, s.isDump);
    });
    const { count, wrong } = mismatches(runs(bases, 150, random(0x85ebca6b), flow), new EcsFlowLines(), (r) => flowToEcs(r));
    expect(count).toBeGreaterThan(50_000);
    expect(wrong.slice(0, 2)).toEqual([]);
  }, 30_000);
});
