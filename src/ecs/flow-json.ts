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
import { type DocWriter, writeJsonString } from './doc-writer';
import { FLOW_SLOT_KINDS, type FlowEcsOptions, type FlowSlotKind, FlowSlotValues, readFlowSlots, writeFlowDocument } from './flow';
import { ecsIdentity } from './identity';
import { compileShapeCheck, sameValue, TemplatedLines, type TemplatedDocument } from './line-templates';
import { COMMUNITY_ID, NUMBER, OWN_KIND, STRING, TIME } from './slots';

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
  return compileShapeCheck(locals.length > 0 ? `let ${locals.join(', ')};` : '', tests, nested);
}

// The slots' kinds as line-templates.ts writes them: related.ip's array is the flow document's own.
const STRINGS = OWN_KIND;
const KIND_CODES: Record<FlowSlotKind, number> = {
  time: TIME,
  number: NUMBER,
  string: STRING,
  communityId: COMMUNITY_ID,
  strings: STRINGS,
};
const SLOT_KIND_CODES = Uint8Array.from(FLOW_SLOT_KINDS, (kind) => KIND_CODES[kind]);

/** The flow document as line-templates.ts needs it, for one set of options. */
class FlowDocument implements TemplatedDocument<FlowRecord> {
  readonly values = new FlowSlotValues();
  readonly kinds = SLOT_KIND_CODES;
  private readonly identity;

  constructor(private readonly options: FlowEcsOptions | undefined) {
    this.identity = ecsIdentity(options);
  }

  write(w: DocWriter, record: FlowRecord): void {
    writeFlowDocument(w, record, this.options, this.identity);
  }

  readSlots(record: FlowRecord): void {
    readFlowSlots(record, this.options, this.values);
  }

  sameShape(a: FlowRecord, b: FlowRecord): boolean {
    return sameFields(a as unknown as Obj, b as unknown as Obj, FLOW_SKIP);
  }

  shapeCheck(model: FlowRecord): ((r: FlowRecord) => boolean) | undefined {
    // network.type of a family other than IPv4 and IPv6 is read from an address (flowNetworkType): not a slot.
    if (model.family !== 2 && model.family !== 10) return undefined;
    return shapeCheck(model);
  }

  ownRoom(): number {
    // related.ip: the brackets, and each address quoted, escaped at most 6 bytes a unit, after a comma.
    const related = this.values.related;
    let bytes = 2;
    for (let j = 0; j < related.length; j++) bytes += 6 * related[j].length + 3;
    return bytes;
  }

  writeOwn(_id: number, out: Buffer, at: number): number {
    const related = this.values.related;
    out[at++] = 0x5b; // [
    for (let j = 0; j < related.length; j++) {
      if (j > 0) out[at++] = 0x2c;
      at = writeJsonString(out, at, related[j]);
    }
    out[at++] = 0x5d;
    return at;
  }
}

/** ECS lines of flow records for one set of options: JSON.stringify(flowToEcs(record, options)), as bytes or text. */
export class EcsFlowLines extends TemplatedLines<FlowRecord> {
  constructor(options?: FlowEcsOptions) {
    super(new FlowDocument(options));
  }
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
