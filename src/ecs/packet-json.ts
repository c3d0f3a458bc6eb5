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
import type { LineTarget } from '../format/line-target';
import { COMMUNITY_ID_LENGTH, writeCommunityId } from './community-id';
import { JsonWriter, TemplateWriter, writeJsonNumber, writeJsonString } from './doc-writer';
import { ecsIdentity, type EcsIdentity } from './identity';
import { type EcsOptions, PACKET_SLOT_KINDS, readSlots, type SlotKind, SlotValues, writePacketDocument } from './packet';
import { packetEndpoints } from './packet-facts';
import { MAX_TIMESTAMP_BYTES, writeTimestampUs } from './timestamp';

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

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || ArrayBuffer.isView(x)) return false;
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameValue(x[i], y[i])) return false;
    return true;
  }
  return sameFields(x as Obj, y as Obj, undefined);
}

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

function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
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
  const body = `return function (r) {
  const p = r.packet, n = p.network, t = p.transport;
  return ${tests.join(' && ')};
};`;
  return new Function('V', 'same', 'keys', body)(nested, sameValue, keyCount);
}

/** A line split at its slots: parts[0] slot[0] parts[1] … parts[n]. */
interface Template {
  record: PacketRecord;
  /** Whether a record is of the template's shape (shapeCheck). */
  matches: (r: PacketRecord) => boolean;
  /** Which slots the record has (slotValues()). */
  present: number;
  parts: Buffer[];
  /** SLOT index of each slot, in line order. */
  slots: number[];
  /** The parts' bytes and the most every number and time slot takes. */
  fixedBytes: number;
  /** The string slots (and 'ips' ones), whose room depends on their values. */
  textSlots: number[];
}

// Which slots a record has, as bits.
if (PACKET_SLOT_KINDS.length > 31) throw new Error('packet-json: too many slots for the presence bits');

// The slots' kinds as small numbers: fill() switches on them per slot.
const TIME = 0;
const NUMBER = 1;
const STRING = 2;
const COMMUNITY_ID = 3;
const IPS = 4;
const KIND_CODES: Record<SlotKind, number> = {
  time: TIME,
  number: NUMBER,
  string: STRING,
  communityId: COMMUNITY_ID,
  ips: IPS,
  second: -1,
};
const SLOT_KIND_CODES = Uint8Array.from(PACKET_SLOT_KINDS, (kind) => KIND_CODES[kind]);

/** Packets in a row of one shape before its template is made. */
const TEMPLATE_AFTER = 16;
/** Templates kept, the last used first: a few floods or flows interleaved in runs each keep theirs. */
const MAX_TEMPLATES = 4;

/** ECS lines of packet records for one set of options. */
export class EcsPacketLines {
  private readonly json = new JsonWriter();
  private readonly templateWriter = new TemplateWriter();
  private readonly identity: EcsIdentity;
  private last: PacketRecord | undefined;
  /** Packets in a row of the last one's shape. */
  private run = 0;
  private readonly templates: Template[] = [];
  /** The current record's slot values (readSlots). */
  private readonly values = new SlotValues();
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);

  constructor(private readonly options?: EcsOptions) {
    this.identity = ecsIdentity(options);
  }

  /** JSON.stringify(packetToEcs(record, options)). */
  line(record: PacketRecord): string {
    const t = this.matching(record);
    if (t !== undefined) {
      const end = this.fill(t, this.room(t), 0);
      return this.scratch.toString('utf8', 0, end);
    }
    const end = this.write(record);
    return this.json.bytes().toString('utf8', 0, end);
  }

  /** The same line, UTF-8, into the target's buffer (no string made). */
  writeLine(record: PacketRecord, to: LineTarget): void {
    const t = this.matching(record);
    if (t !== undefined) {
      const buffer = to.reserve(this.maxBytes(t));
      to.commit(this.fill(t, buffer, to.offset));
      return;
    }
    const end = this.write(record);
    const buffer = to.reserve(end);
    const at = to.offset;
    this.json.bytes().copy(buffer, at, 0, end);
    to.commit(at + end);
  }

  /** The template that writes this record's line (its slot values are in this.values then), or undefined. */
  private matching(record: PacketRecord): Template | undefined {
    const templates = this.templates;
    let present = -1;
    for (let i = 0; i < templates.length; i++) {
      const t = templates[i];
      if (!t.matches(record)) continue;
      if (present === -1) present = this.slotValues(record);
      if (present !== t.present) continue;
      if (i > 0) {
        templates[i] = templates[0];
        templates[0] = t;
      }
      return t;
    }
    return undefined;
  }

  /** Reads the record's slot values into this.values; returns which are present, as bits. */
  private slotValues(record: PacketRecord): number {
    readSlots(record, packetEndpoints(record, this.options), this.values);
    return this.values.present;
  }

  /**
   * Writes the line in full. A run of TEMPLATE_AFTER packets of one shape makes
   * its template (making one costs a few lines: short runs of interleaved shapes
   * never pay for it).
   */
  private write(record: PacketRecord): number {
    const last = this.last;
    this.last = record;
    if (last !== undefined && sameShape(last, record)) {
      if (++this.run === TEMPLATE_AFTER) {
        const t = this.makeTemplate(record);
        if (t !== undefined && this.templates.unshift(t) > MAX_TEMPLATES) this.templates.pop();
      }
    } else {
      this.run = 0;
    }
    const w = this.json;
    w.begin();
    writePacketDocument(w, record, this.options, this.identity);
    return w.end();
  }

  /** The template of the record's shape, or undefined when filling it does not give the record's own line. */
  private makeTemplate(record: PacketRecord): Template | undefined {
    const w = this.templateWriter;
    w.begin();
    writePacketDocument(w, record, this.options, this.identity);
    const end = w.end();
    const line = Buffer.from(w.bytes().subarray(0, end));
    const parts: Buffer[] = [];
    const slots: number[] = [];
    let from = 0;
    for (let i = 0; i < w.marks.length; i += 3) {
      slots.push(w.marks[i]);
      parts.push(line.subarray(from, w.marks[i + 1]));
      from = w.marks[i + 2];
    }
    parts.push(line.subarray(from));
    let fixedBytes = 0;
    for (const p of parts) fixedBytes += p.length;
    const textSlots: number[] = [];
    for (const id of slots) {
      const kind = PACKET_SLOT_KINDS[id];
      if (kind === 'string' || kind === 'ips') textSlots.push(id);
      // A date, a number or a Community ID, and its quotes.
      else fixedBytes += Math.max(MAX_TIMESTAMP_BYTES, COMMUNITY_ID_LENGTH) + 2;
    }
    const present = this.slotValues(record);
    const t: Template = { record, matches: shapeCheck(record), present, parts, slots, fixedBytes, textSlots };
    // Kept only if it gives this very record its own line (a slot written from anything but its value would not).
    const filled = this.fill(t, this.room(t), 0);
    if (filled !== end || this.scratch.compare(line, 0, end, 0, filled) !== 0) return undefined;
    return t;
  }

  private room(t: Template): Buffer {
    const need = this.maxBytes(t);
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafeSlow(need);
    return this.scratch;
  }

  /** The most bytes fill() writes with the current slot values. */
  private maxBytes(t: Template): number {
    const values = this.values.texts;
    let bytes = t.fixedBytes;
    const text = t.textSlots;
    for (let i = 0; i < text.length; i++) {
      const id = text[i];
      // An 'ips' slot: its value, the next slot's (its second address) and the brackets.
      const second = PACKET_SLOT_KINDS[id] === 'ips' ? values[id + 1] : undefined;
      bytes += 6 * ((values[id] as string).length + (second === undefined ? 0 : (second as string).length)) + 5;
    }
    return bytes;
  }

  /** The template's line with the current slot values, into out at `at`; returns the end. */
  private fill(t: Template, out: Buffer, at: number): number {
    const { parts, slots } = t;
    const { numbers, texts } = this.values;
    at = copy(out, at, parts[0]);
    for (let i = 0; i < slots.length; i++) {
      const id = slots[i];
      switch (SLOT_KIND_CODES[id]) {
        case TIME:
          out[at] = 0x22;
          at = writeTimestampUs(out, at + 1, numbers[id]);
          out[at++] = 0x22;
          break;
        case NUMBER:
          at = writeJsonNumber(out, at, numbers[id]);
          break;
        case STRING:
          at = writeJsonString(out, at, texts[id] as string);
          break;
        case COMMUNITY_ID:
          out[at] = 0x22;
          at = writeCommunityId(this.values.communityId as Int32Array, out, at + 1);
          out[at++] = 0x22;
          break;
        case IPS: {
          // The slot after an 'ips' one is its second address.
          out[at++] = 0x5b; // [
          at = writeJsonString(out, at, texts[id] as string);
          const second = texts[id + 1];
          if (second !== undefined) {
            out[at++] = 0x2c;
            at = writeJsonString(out, at, second);
          }
          out[at++] = 0x5d;
          break;
        }
      }
      at = copy(out, at, parts[i + 1]);
    }
    return at;
  }
}

function copy(out: Buffer, at: number, bytes: Buffer): number {
  const n = bytes.length;
  // A short part is copied faster by hand than by a call into the runtime.
  if (n < 16) for (let i = 0; i < n; i++) out[at + i] = bytes[i];
  else out.set(bytes, at);
  return at + n;
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
