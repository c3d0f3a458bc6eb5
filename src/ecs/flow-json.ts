// The ECS flow document as one JSON line: flow.ts's definition written through
// a JsonWriter, straight into bytes (doc-writer.ts). The line is
// JSON.stringify(flowToEcs(record, options)), byte for byte.
//
// The flows of a burst share most of their line: keys, event, protocol,
// status, state, identity. They differ in the definition's slots (flow.ts's
// FLOW_SLOT: times, addresses, ports, NAT translation, counters, id, timeout,
// Community ID, related IPs). As for packets (packet-json.ts), a line template
// is the line written once through a TemplateWriter, which notes where each
// slot's value is: the fixed byte runs between slots are copied for the next
// flows, and only the slots are written. What is listed here is which record
// fields reach the line only through slots (or not at all), so that two
// records equal in every other field, with the same slots present, have the
// same fixed bytes.
import type { FlowRecord } from '../records';
import type { LineTarget } from '../format/line-target';
import { JsonWriter, TemplateWriter, writeJsonNumber, writeJsonString } from './doc-writer';
import { FLOW_SLOT_KINDS, type FlowEcsOptions, type FlowSlotKind, FlowSlotValues, readFlowSlots, writeFlowDocument } from './flow';
import { COMMUNITY_ID_LENGTH, writeCommunityId } from './community-id';
import { ecsIdentity, type EcsIdentity } from './identity';
import { MAX_TIMESTAMP_BYTES, writeTimestampUs } from './timestamp';

type Obj = Record<string, unknown>;

/** Fields skipped by the shape check (true), or objects whose own fields are (a nested Skip). */
interface Skip {
  readonly [field: string]: true | Skip;
}

const TUPLE_SKIP: Skip = { src: true, dst: true, srcPort: true, dstPort: true, icmpId: true };
// The NAT sides' untranslated ends are the original tuple's (not written again).
const NAT_SIDE_SKIP: Skip = { ip: true, port: true, translatedIp: true, translatedPort: true };
const FLOW_SKIP: Skip = {
  timestampUs: true,
  receivedUs: true,
  startUs: true,
  stopUs: true,
  id: true,
  timeout: true,
  originalBytes: true,
  originalPackets: true,
  replyBytes: true,
  replyPackets: true,
  original: TUPLE_SKIP,
  reply: TUPLE_SKIP,
  nat: { source: NAT_SIDE_SKIP, destination: NAT_SIDE_SKIP },
};

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || ArrayBuffer.isView(x)) return false;
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  let keys = 0;
  for (const k in x) {
    keys++;
    if (!sameValue((x as Obj)[k], (y as Obj)[k])) return false;
  }
  for (const _ in y) keys--;
  return keys === 0;
}

/** Whether two records are equal but for the skipped fields (present or absent in both): the generic walk, to tell a run. */
function sameFields(x: Obj, y: Obj, skip: Skip): boolean {
  let keys = 0;
  for (const k in x) {
    keys++;
    const a = x[k];
    const b = y[k];
    const sk = skip[k];
    if (sk === undefined) {
      if (!sameValue(a, b)) return false;
    } else if ((a === undefined) !== (b === undefined)) return false;
    else if (sk !== true && a !== undefined) {
      if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
      if (!sameFields(a as Obj, b as Obj, sk)) return false;
    }
  }
  for (const _ in y) keys--;
  return keys === 0;
}

function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

/**
 * Whether a record equals the model in every field but those skipped (which
 * must be present, or absent, as in the model): a function compiled once per
 * template from the model's own fields, a few loads and compares of
 * constants each.
 */
function shapeCheck(model: FlowRecord): (r: FlowRecord) => boolean {
  const nested: unknown[] = [];
  const tests: string[] = [];
  let names = 0;
  const fields = (expr: string, o: Obj, skip: Skip): void => {
    let count = 0;
    for (const k in skip) if (!(k in o)) tests.push(`${expr}[${JSON.stringify(k)}] === undefined`);
    for (const k in o) {
      count++;
      const at = `${expr}[${JSON.stringify(k)}]`;
      const v = o[k];
      const sk = skip[k];
      if (v === undefined) tests.push(`${at} === undefined`);
      else if (sk === true) tests.push(`${at} !== undefined`);
      else if (sk !== undefined && typeof v === 'object' && v !== null) {
        // A nested object with skipped fields of its own: its fields checked through a local.
        const local = `o${names++}`;
        tests.push(`(${local} = ${at}) !== undefined && ${local} !== null`);
        fields(local, v as Obj, sk);
      } else if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
        tests.push(`${at} === ${JSON.stringify(v)}`);
      } else tests.push(`same(${at}, V[${nested.push(v) - 1}])`);
    }
    tests.push(`keys(${expr}) === ${count}`);
  };
  fields('r', model as unknown as Obj, FLOW_SKIP);
  const locals = Array.from({ length: names }, (_, i) => `o${i}`);
  const body = `return function (r) {
  ${locals.length > 0 ? `let ${locals.join(', ')};` : ''}
  return ${tests.join(' && ')};
};`;
  return new Function('V', 'same', 'keys', body)(nested, sameValue, keyCount);
}

/** A line split at its slots: parts[0] slot[0] parts[1] … parts[n]. */
interface Template {
  /** Whether a record is of the template's shape (shapeCheck). */
  matches: (r: FlowRecord) => boolean;
  /** Which slots the record has (FlowSlotValues.present). */
  present: number;
  parts: Buffer[];
  /** FLOW_SLOT index of each slot, in line order. */
  slots: number[];
  /** The parts' bytes and the most every number and time slot takes. */
  fixedBytes: number;
  /** The text slots, whose room depends on their values. */
  textSlots: number[];
}

const TIME = 0;
const NUMBER = 1;
const STRING = 2;
const STRINGS = 3;
const COMMUNITY_ID = 4;
const KIND_CODES: Record<FlowSlotKind, number> = {
  time: TIME,
  number: NUMBER,
  string: STRING,
  strings: STRINGS,
  communityId: COMMUNITY_ID,
};
const SLOT_KIND_CODES = Uint8Array.from(FLOW_SLOT_KINDS, (kind) => KIND_CODES[kind]);

/** Flows in a row of one shape before its template is made. */
const TEMPLATE_AFTER = 16;
/** Templates kept, the last used first: NEW and DESTROY of a few kinds of flows interleave. */
const MAX_TEMPLATES = 4;

/** ECS lines of flow records for one set of options. */
export class EcsFlowLines {
  private readonly json = new JsonWriter();
  private readonly templateWriter = new TemplateWriter();
  private readonly identity: EcsIdentity;
  private last: FlowRecord | undefined;
  /** Flows in a row of the last one's shape. */
  private run = 0;
  private readonly templates: Template[] = [];
  /** The current record's slot values (readFlowSlots). */
  private readonly values = new FlowSlotValues();
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);

  constructor(private readonly options?: FlowEcsOptions) {
    this.identity = ecsIdentity(options);
  }

  /** JSON.stringify(flowToEcs(record, options)). */
  line(record: FlowRecord): string {
    const t = this.matching(record);
    if (t !== undefined) {
      const end = this.fill(t, this.room(t), 0);
      return this.scratch.toString('utf8', 0, end);
    }
    const end = this.write(record);
    return this.json.bytes().toString('utf8', 0, end);
  }

  /** The same line, UTF-8, copied into the target's buffer (no string made). */
  writeLine(record: FlowRecord, to: LineTarget): void {
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
  private matching(record: FlowRecord): Template | undefined {
    const templates = this.templates;
    let read = false;
    for (let i = 0; i < templates.length; i++) {
      const t = templates[i];
      if (!t.matches(record)) continue;
      if (!read) {
        readFlowSlots(record, this.options, this.values);
        read = true;
      }
      if (this.values.present !== t.present) continue;
      if (i > 0) {
        templates[i] = templates[0];
        templates[0] = t;
      }
      return t;
    }
    return undefined;
  }

  /**
   * Writes the line in full. A run of TEMPLATE_AFTER flows of one shape makes
   * its template (making one costs a few lines: short runs of interleaved
   * shapes never pay for it).
   */
  private write(record: FlowRecord): number {
    const last = this.last;
    this.last = record;
    if (last !== undefined && sameFields(last as unknown as Obj, record as unknown as Obj, FLOW_SKIP)) {
      if (++this.run === TEMPLATE_AFTER) {
        const t = this.makeTemplate(record);
        if (t !== undefined && this.templates.unshift(t) > MAX_TEMPLATES) this.templates.pop();
      }
    } else {
      this.run = 0;
    }
    const w = this.json;
    w.begin();
    writeFlowDocument(w, record, this.options, this.identity);
    return w.end();
  }

  /** The template of the record's shape, or undefined when filling it does not give the record's own line. */
  private makeTemplate(record: FlowRecord): Template | undefined {
    // network.type of a family other than IPv4 and IPv6 is read from an address (flowNetworkType): not a slot.
    if (record.family !== 2 && record.family !== 10) return undefined;
    const w = this.templateWriter;
    w.begin();
    writeFlowDocument(w, record, this.options, this.identity);
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
      const code = SLOT_KIND_CODES[id];
      if (code === STRING || code === STRINGS) textSlots.push(id);
      // A date, a number or a Community ID, and its quotes.
      else fixedBytes += Math.max(MAX_TIMESTAMP_BYTES, COMMUNITY_ID_LENGTH) + 2;
    }
    readFlowSlots(record, this.options, this.values);
    const t: Template = { matches: shapeCheck(record), present: this.values.present, parts, slots, fixedBytes, textSlots };
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
    const { texts, related } = this.values;
    let bytes = t.fixedBytes;
    const text = t.textSlots;
    for (let i = 0; i < text.length; i++) {
      const id = text[i];
      if (SLOT_KIND_CODES[id] === STRING) bytes += 6 * (texts[id] as string).length + 2;
      else {
        bytes += 2;
        for (let j = 0; j < related.length; j++) bytes += 6 * related[j].length + 3;
      }
    }
    return bytes;
  }

  /** The template's line with the current slot values, into out at `at`; returns the end. */
  private fill(t: Template, out: Buffer, at: number): number {
    const { parts, slots } = t;
    const { numbers, texts, related } = this.values;
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
          at = writeCommunityId(this.values.communityId, out, at + 1);
          out[at++] = 0x22;
          break;
        case STRINGS:
          out[at++] = 0x5b; // [
          for (let j = 0; j < related.length; j++) {
            if (j > 0) out[at++] = 0x2c;
            at = writeJsonString(out, at, related[j]);
          }
          out[at++] = 0x5d;
          break;
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

const LINES = new WeakMap<FlowEcsOptions, EcsFlowLines>();
let noOptionsLines: EcsFlowLines | undefined;

/**
 * JSON.stringify(flowToEcs(record, options)), faster. Pass the same options
 * object each time. Records must not change after they are written (the last
 * one is kept to compare the next with).
 */
export function flowToEcsJson(record: FlowRecord, options?: FlowEcsOptions): string {
  if (options === undefined) return (noOptionsLines ??= new EcsFlowLines()).line(record);
  let lines = LINES.get(options);
  if (lines === undefined) LINES.set(options, (lines = new EcsFlowLines(options)));
  return lines.line(record);
}
