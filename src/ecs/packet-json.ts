// The ECS packet document as one JSON line: packet.ts's definition written
// through a JsonWriter, straight into bytes (doc-writer.ts). The line is
// JSON.stringify(packetToEcs(record, options)), byte for byte.
//
// The packets of one flow differ only in a few numbers (timestamps, sequence
// numbers, lengths, IP id, TCP seq/ack/window/options, ICMP sequence: the
// slots below). When a packet is the same as the one before it but for its
// slots, its line is the last shape's line with the slots filled in, instead
// of walking the whole definition again. The template is derived from the
// definition itself: the line is written once with a sentinel in each slot,
// split at the sentinels, and checked against the line written in full.
// Which fields are slots is the one thing listed here; nothing else about
// the document is.
import type { PacketRecord } from '../records';
import type { LineTarget } from '../format/line-target';
import { JsonWriter, writeJsonNumber } from './doc-writer';
import { ecsIdentity, type EcsIdentity } from './identity';
import { jsonString } from './json-string';
import { type EcsOptions, writePacketDocument } from './packet';
import { formatTimestampUs, MAX_TIMESTAMP_BYTES, writeTimestampUs } from './timestamp';

/** How a slot is written: a date from µs, a number, a JSON string; 'skip': not in the document (compared by nobody). */
type SlotKind = 'time' | 'number' | 'string' | 'skip';
type Slots = Readonly<Record<string, SlotKind>>;

// The per-packet fields, by where they are in the record. A slot's value is written verbatim (and only there).
const RECORD_SLOTS: Slots = {
  timestampUs: 'time',
  receivedUs: 'time',
  seq: 'number',
  seqGlobal: 'number',
  payloadLength: 'number',
  payload: 'skip',
  packet: 'skip',
};
const PACKET_SLOTS: Slots = { network: 'skip', transport: 'skip' };
const NETWORK_SLOTS: Readonly<Record<string, Slots>> = { ipv4: { id: 'number', totalLength: 'number', checksum: 'skip' } };
const ICMP_SLOTS: Slots = { sequence: 'number', checksum: 'skip' };
const UDP_SLOTS: Slots = { length: 'number', checksum: 'skip' };
const TRANSPORT_SLOTS: Readonly<Record<string, Slots>> = {
  tcp: { seq: 'number', ack: 'number', window: 'number', options: 'string', checksum: 'skip' },
  udp: UDP_SLOTS,
  udplite: UDP_SLOTS,
  icmp: ICMP_SLOTS,
  icmpv6: ICMP_SLOTS,
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

/** The same fields with the same values, but for slots (which need only be present in both, or absent in both). */
function sameFields(x: Obj, y: Obj, slots: Slots | undefined): boolean {
  let keys = 0;
  for (const k in x) {
    keys++;
    const slot = slots?.[k];
    const a = x[k];
    const b = y[k];
    if (slot === undefined) {
      if (!sameValue(a, b)) return false;
    } else if (slot !== 'skip') {
      if ((a === undefined) !== (b === undefined)) return false;
      // An empty string is left out of the document: only a non-empty one is a slot.
      if (slot === 'string' && (a === '') !== (b === '')) return false;
    }
  }
  for (const _ in y) keys--;
  return keys === 0;
}

function sameLayer(x: { kind: string } | undefined, y: { kind: string } | undefined, slots: Readonly<Record<string, Slots>>): boolean {
  if (x === undefined || y === undefined) return x === y;
  return x.kind === y.kind && sameFields(x as unknown as Obj, y as unknown as Obj, slots[x.kind]);
}

/** Whether two records have the same line but for their slots. */
function sameShape(a: PacketRecord, b: PacketRecord): boolean {
  const pa = a.packet;
  const pb = b.packet;
  return (
    sameLayer(pa.network, pb.network, NETWORK_SLOTS) &&
    sameLayer(pa.transport, pb.transport, TRANSPORT_SLOTS) &&
    sameFields(pa as unknown as Obj, pb as unknown as Obj, PACKET_SLOTS) &&
    sameFields(a as unknown as Obj, b as unknown as Obj, RECORD_SLOTS)
  );
}

/** Where a slot's value is in a record. */
interface SlotRef {
  layer: 'record' | 'network' | 'transport';
  field: string;
  kind: 'time' | 'number' | 'string';
}

function holder(r: PacketRecord, layer: SlotRef['layer']): Obj {
  return (layer === 'record' ? r : layer === 'network' ? r.packet.network : r.packet.transport) as unknown as Obj;
}

/** The slots a record has (present, and a non-empty string where a string). */
function slotsOf(r: PacketRecord): SlotRef[] {
  const out: SlotRef[] = [];
  const add = (layer: SlotRef['layer'], slots: Slots | undefined): void => {
    if (slots === undefined) return;
    const h = holder(r, layer);
    for (const field in slots) {
      const kind = slots[field];
      if (kind === 'skip' || h[field] === undefined || h[field] === '') continue;
      out.push({ layer, field, kind });
    }
  };
  add('record', RECORD_SLOTS);
  if (r.packet.network !== undefined) add('network', NETWORK_SLOTS[r.packet.network.kind]);
  if (r.packet.transport !== undefined) add('transport', TRANSPORT_SLOTS[r.packet.transport.kind]);
  return out;
}

/** A value no real packet has, distinct per slot, and its text in a line. */
function sentinel(ref: SlotRef, k: number): { value: number | string; text: string } {
  if (ref.kind === 'time') {
    const us = -(3e16 + k * 1e15 + 123457);
    return { value: us, text: `"${formatTimestampUs(us)}"` };
  }
  if (ref.kind === 'number') {
    const n = -(1234500.25 + k);
    return { value: n, text: String(n) };
  }
  const s = `\u0001\u0002slot${String(k).padStart(2, '0')}`;
  return { value: s, text: jsonString(s) };
}

/** A line split at its slots: parts[0] slot[0] parts[1] … parts[n]. */
interface Template {
  record: PacketRecord;
  parts: Buffer[];
  slots: SlotRef[];
  partBytes: number;
}

/** Packets in a row of one shape before its template is made. */
const TEMPLATE_AFTER = 16;

/** ECS lines of packet records for one set of options. */
export class EcsPacketLines {
  private readonly json = new JsonWriter();
  private readonly identity: EcsIdentity;
  private last: PacketRecord | undefined;
  /** Packets in a row of the last one's shape. */
  private run = 0;
  private template: Template | undefined;
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);

  constructor(private readonly options?: EcsOptions) {
    this.identity = ecsIdentity(options);
  }

  /** JSON.stringify(packetToEcs(record, options)). */
  line(record: PacketRecord): string {
    const t = this.template;
    if (t !== undefined && sameShape(t.record, record)) {
      const end = this.fill(t, record, this.room(t, record), 0);
      return this.scratch.toString('utf8', 0, end);
    }
    const end = this.write(record);
    return this.json.bytes().toString('utf8', 0, end);
  }

  /** The same line, UTF-8, into the target's buffer (no string made). */
  writeLine(record: PacketRecord, to: LineTarget): void {
    const t = this.template;
    if (t !== undefined && sameShape(t.record, record)) {
      const buffer = to.reserve(maxBytes(t, record));
      to.commit(this.fill(t, record, buffer, to.offset));
      return;
    }
    const end = this.write(record);
    const buffer = to.reserve(end);
    const at = to.offset;
    this.json.bytes().copy(buffer, at, 0, end);
    to.commit(at + end);
  }

  /**
   * Writes the line in full. A run of TEMPLATE_AFTER packets of one shape makes
   * its template (making one costs a few lines: short runs of interleaved flows
   * never pay for it).
   */
  private write(record: PacketRecord): number {
    const last = this.last;
    this.last = record;
    if (last !== undefined && sameShape(last, record)) {
      if (++this.run === TEMPLATE_AFTER) this.template = this.makeTemplate(record);
    } else {
      this.run = 0;
    }
    return this.writeFull(record);
  }

  private writeFull(record: PacketRecord): number {
    const w = this.json;
    w.begin();
    writePacketDocument(w, record, this.options, this.identity);
    return w.end();
  }

  /** The template of the record's shape, or undefined when its line cannot be split at its slots. */
  private makeTemplate(record: PacketRecord): Template | undefined {
    const refs = slotsOf(record);
    const marked = structuredClone(record);
    const texts: Buffer[] = [];
    refs.forEach((ref, k) => {
      const s = sentinel(ref, k);
      holder(marked, ref.layer)[ref.field] = s.value;
      texts.push(Buffer.from(s.text, 'utf8'));
    });
    const end = this.writeFull(marked);
    const line = Buffer.from(this.json.bytes().subarray(0, end));
    // Every occurrence of every sentinel, in order.
    const found: Array<{ at: number; length: number; ref: SlotRef }> = [];
    texts.forEach((text, k) => {
      for (let at = line.indexOf(text); at >= 0; at = line.indexOf(text, at + text.length))
        found.push({ at, length: text.length, ref: refs[k] });
    });
    found.sort((a, b) => a.at - b.at);
    const parts: Buffer[] = [];
    let from = 0;
    for (const f of found) {
      if (f.at < from) return undefined; // overlapping: not a clean split
      parts.push(line.subarray(from, f.at));
      from = f.at + f.length;
    }
    parts.push(line.subarray(from));
    let partBytes = 0;
    for (const p of parts) partBytes += p.length;
    const t: Template = { record, parts, slots: found.map((f) => f.ref), partBytes };
    // Only a template that gives this very record its own line is kept.
    const fullEnd = this.writeFull(record);
    const filledEnd = this.fill(t, record, this.room(t, record), 0);
    if (filledEnd !== fullEnd || this.scratch.compare(this.json.bytes(), 0, fullEnd, 0, filledEnd) !== 0) return undefined;
    return t;
  }

  private room(t: Template, record: PacketRecord): Buffer {
    const need = maxBytes(t, record);
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafeSlow(need);
    return this.scratch;
  }

  /** The template's line with the record's slot values, into out at `at`; returns the end. */
  private fill(t: Template, record: PacketRecord, out: Buffer, at: number): number {
    const { parts, slots } = t;
    at = copy(out, at, parts[0]);
    for (let i = 0; i < slots.length; i++) {
      const ref = slots[i];
      const value = holder(record, ref.layer)[ref.field];
      if (ref.kind === 'time') {
        out[at] = 0x22;
        at = writeTimestampUs(out, at + 1, value as number);
        out[at++] = 0x22;
      } else if (ref.kind === 'number') at = writeJsonNumber(out, at, value as number);
      else at += out.write(jsonString(value as string), at, 'utf8');
      at = copy(out, at, parts[i + 1]);
    }
    return at;
  }
}

/** The most bytes fill() writes for this record. */
function maxBytes(t: Template, record: PacketRecord): number {
  let n = t.partBytes;
  for (const ref of t.slots) {
    if (ref.kind === 'string') n += 6 * (holder(record, ref.layer)[ref.field] as string).length + 2;
    else n += MAX_TIMESTAMP_BYTES + 2;
  }
  return n;
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
