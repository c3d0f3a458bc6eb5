// The ECS packet document as one JSON line: packet.ts's definition written
// through a JsonWriter, straight into bytes (doc-writer.ts). The line is
// JSON.stringify(packetToEcs(record, options)), byte for byte.
//
// Packets of one flow, and the packets of a scan or flood (every packet a new
// flow, from one rule), share most of their line: keys, prefix, rule, group,
// interfaces, identity. They differ in the definition's slots (packet.ts's SLOT:
// timestamps, sequence numbers, lengths, IP id, TCP seq/ack/window/options,
// ICMP sequence, addresses, ports, Community ID). A line template is the line
// written once through a TemplateWriter, which notes where each slot's value
// is: the fixed byte runs between slots are copied for the next packets, and
// only the slots are written. So the template comes from the definition
// itself; what is listed here is which record fields reach the line only
// through slots (or not at all), so that two records equal in every other
// field, with the same slots present, have the same fixed bytes.
import type { PacketRecord } from '../records';
import { type DocWriter, writeJsonString } from './doc-writer';
import { ecsIdentity } from './identity';
import { compileShapeCheck, sameValue, TemplatedLines, type TemplatedDocument } from './line-templates';
import { type EcsOptions, PACKET_SLOT_KINDS, readSlots, SlotValues, writePacketDocument } from './packet';
import { packetEndpoints } from './packet-facts';
import { COMMUNITY_ID, NUMBER, OWN_KIND, PART_OF_ANOTHER, STRING, TIME } from './slots';

type Fields = Readonly<Record<string, true>>;

// Record fields that reach the line only through slots (readSlots()), or not at all
// (checksums, the payload): the shape check skips them. The layers are compared one by one.
const RECORD_SKIP: Fields = {
  timestampUs: true,
  receivedUs: true,
  seq: true,
  seqGlobal: true,
  payloadLength: true,
  payload: true,
  packet: true,
};
const PACKET_SKIP: Fields = { network: true, transport: true };
const PORTS = { srcPort: true, dstPort: true, checksum: true } as const;
const NETWORK_SKIP: Readonly<Record<string, Fields>> = {
  ipv4: { src: true, dst: true, id: true, totalLength: true, checksum: true },
  ipv6: { src: true, dst: true, payloadLength: true, flowLabel: true },
};
const TRANSPORT_SKIP: Readonly<Record<string, Fields>> = {
  tcp: { ...PORTS, seq: true, ack: true, window: true, options: true },
  udp: { ...PORTS, length: true },
  udplite: { ...PORTS, length: true },
  sctp: PORTS,
  icmp: { sequence: true, checksum: true },
  icmpv6: { sequence: true, checksum: true },
};

type Obj = Record<string, unknown>;

/** The same fields with the same values, but for those skipped. */
function sameFields(x: Obj, y: Obj, skip: Fields | undefined): boolean {
  let keys = 0;
  for (const k in x) {
    keys++;
    if (skip?.[k] === undefined && !sameValue(x[k], y[k])) return false;
  }
  for (const _ in y) keys--;
  return keys === 0;
}

function sameLayer(x: { kind: string } | undefined, y: { kind: string } | undefined, skip: Readonly<Record<string, Fields>>): boolean {
  if (x === undefined || y === undefined) return x === y;
  return x.kind === y.kind && sameFields(x as unknown as Obj, y as unknown as Obj, skip[x.kind]);
}

/** Whether two records are equal but for the fields that reach the line through slots. */
function sameShape(a: PacketRecord, b: PacketRecord): boolean {
  const pa = a.packet;
  const pb = b.packet;
  return (
    sameLayer(pa.network, pb.network, NETWORK_SKIP) &&
    sameLayer(pa.transport, pb.transport, TRANSPORT_SKIP) &&
    sameFields(pa as unknown as Obj, pb as unknown as Obj, PACKET_SKIP) &&
    sameFields(a as unknown as Obj, b as unknown as Obj, RECORD_SKIP)
  );
}

/**
 * sameShape(model, r) as a function compiled for one model: a few loads and
 * compares of constants per field, where the generic walk above cost as much
 * as writing the line. Made once per template, from the model's own fields.
 */
function shapeCheck(model: PacketRecord): (r: PacketRecord) => boolean {
  const nested: unknown[] = [];
  const tests: string[] = [];
  // The same keys as the model (so that no field the model lacks can hide behind its count): each of
  // the model's keys, and each skipped one present or absent as in the model, then the count.
  const fields = (expr: string, o: Obj, skip: Fields | undefined): void => {
    let count = 0;
    for (const k in skip ?? {}) if (!(k in o)) tests.push(`!(${JSON.stringify(k)} in ${expr})`);
    for (const k in o) {
      count++;
      const key = JSON.stringify(k);
      if (skip?.[k] !== undefined) {
        tests.push(`${key} in ${expr}`);
        continue;
      }
      const v = o[k];
      const at = `${expr}[${key}]`;
      if (v === undefined) tests.push(`${at} === undefined && ${key} in ${expr}`);
      else if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
        tests.push(`${at} === ${JSON.stringify(v)}`);
      else tests.push(`same(${at}, V[${nested.push(v) - 1}])`);
    }
    tests.push(`keys(${expr}) === ${count}`);
  };
  const layer = (expr: string, o: { kind: string } | undefined, skip: Readonly<Record<string, Fields>>): void => {
    if (o === undefined) tests.push(`${expr} === undefined`);
    else {
      tests.push(`${expr} !== undefined`);
      fields(expr, o as unknown as Obj, skip[o.kind]);
    }
  };
  layer('n', model.packet.network, NETWORK_SKIP);
  layer('t', model.packet.transport, TRANSPORT_SKIP);
  fields('p', model.packet as unknown as Obj, PACKET_SKIP);
  fields('r', model as unknown as Obj, RECORD_SKIP);
  return compileShapeCheck('const p = r.packet, n = p.network, t = p.transport;', tests, nested);
}

// The slots' kinds as line-templates.ts writes them: related.ip's array ([first] or [first,second]) is
// the packet document's own.
const IPS = OWN_KIND;
const SLOT_KIND_CODES = Uint8Array.from(PACKET_SLOT_KINDS, (kind) => {
  switch (kind) {
    case 'time':
      return TIME;
    case 'number':
      return NUMBER;
    case 'string':
      return STRING;
    case 'communityId':
      return COMMUNITY_ID;
    case 'ips':
      return IPS;
    case 'second':
      return PART_OF_ANOTHER;
  }
});

/** The packet document as line-templates.ts needs it, for one set of options. */
class PacketDocument implements TemplatedDocument<PacketRecord> {
  readonly values = new SlotValues();
  readonly kinds = SLOT_KIND_CODES;
  private readonly identity;

  constructor(private readonly options: EcsOptions | undefined) {
    this.identity = ecsIdentity(options);
  }

  write(w: DocWriter, record: PacketRecord): void {
    writePacketDocument(w, record, this.options, this.identity);
  }

  readSlots(record: PacketRecord): void {
    readSlots(record, packetEndpoints(record, this.options), this.values);
  }

  sameShape(a: PacketRecord, b: PacketRecord): boolean {
    return sameShape(a, b);
  }

  shapeCheck(model: PacketRecord): (r: PacketRecord) => boolean {
    return shapeCheck(model);
  }

  ownRoom(id: number): number {
    // related.ip: the slot after an 'ips' one is its second address.
    const { texts } = this.values;
    const second = texts[id + 1];
    return 6 * ((texts[id] as string).length + (second === undefined ? 0 : second.length)) + 5;
  }

  writeOwn(id: number, out: Buffer, at: number): number {
    const { texts } = this.values;
    out[at++] = 0x5b; // [
    at = writeJsonString(out, at, texts[id] as string);
    const second = texts[id + 1];
    if (second !== undefined) {
      out[at++] = 0x2c;
      at = writeJsonString(out, at, second);
    }
    out[at++] = 0x5d;
    return at;
  }
}

/** ECS lines of packet records for one set of options: JSON.stringify(packetToEcs(record, options)), as bytes or text. */
export class EcsPacketLines extends TemplatedLines<PacketRecord> {
  constructor(options?: EcsOptions) {
    super(new PacketDocument(options));
  }
}

// One writer per options object (the identity is resolved once per options object too).
const LINES = new WeakMap<EcsOptions, EcsPacketLines>();
let noOptionsLines: EcsPacketLines | undefined;

/**
 * JSON.stringify(packetToEcs(record, options)), faster. Pass the same options
 * object each time: what it implies (observer and agent identity) is resolved
 * once per options object. Records must not change after they are written (the
 * last one is kept to compare the next with).
 */
export function packetToEcsJson(record: PacketRecord, options?: EcsOptions): string {
  if (options === undefined) return (noOptionsLines ??= new EcsPacketLines()).line(record);
  let lines = LINES.get(options);
  if (lines === undefined) LINES.set(options, (lines = new EcsPacketLines(options)));
  return lines.line(record);
}
