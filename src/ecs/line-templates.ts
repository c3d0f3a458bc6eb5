// Lines from templates. Records of one shape (the packets of a flow or of a
// scan from one rule; the flows of a burst) share most of their line: keys,
// prefix, rule, interfaces, identity. A template is the line written once
// through a TemplateWriter, which notes where each slot's value lies
// (slots.ts): the fixed byte runs between slots are copied for the next
// records of the shape, and only the slots are written. The template comes
// from the document's one definition; a document (packet-json.ts,
// flow-json.ts) says only what its slots are, how its own kinds of slot are
// written, and which records share a shape.
import type { LineTarget } from '../format/line-target';
import { type DocWriter, JsonWriter, TemplateWriter, writeJsonNumber, writeJsonString } from './doc-writer';
import { COMMUNITY_ID_LENGTH, writeCommunityId } from './community-id';
import { COMMUNITY_ID, NUMBER, OWN_KIND, type SlotTable, STRING, TIME } from './slots';
import {
  MAX_TIMESTAMP_BYTES,
  TIMESTAMP_PREFIX_BYTES,
  timestampPrefix,
  timestampSeconds,
  writeTimestampMicros,
  writeTimestampUs,
} from './timestamp';

/** What TemplatedLines needs of a document. */
export interface TemplatedDocument<R> {
  /** The current record's slot values (readSlots). */
  readonly values: SlotTable;
  /** How each slot is written, by slot index: TIME, NUMBER, STRING, COMMUNITY_ID, or the document's own (OWN_KIND on). */
  readonly kinds: Uint8Array;
  /** Writes the record's document in full: the one definition. */
  write(w: DocWriter, record: R): void;
  /** Reads the record's slot values into `values`. */
  readSlots(record: R): void;
  /** Whether two records have the same fixed bytes: equal but in their slots, with the same slots present. */
  sameShape(a: R, b: R): boolean;
  /** sameShape(model, r) compiled for one model; undefined when the model's line cannot be a template. */
  shapeCheck(model: R): ((r: R) => boolean) | undefined;
  /** The most bytes a slot of the document's own kind takes with the current values. */
  ownRoom(id: number): number;
  /** Writes a slot of the document's own kind at `at`; returns the end. */
  writeOwn(id: number, out: Buffer, at: number): number;
}

/**
 * A line split at its slots of varying width: parts[0] slot[0] parts[1] … parts[n]. A slot of
 * fixed width (a Community ID; a date of the years 0 to 9999) stays inside its part and is
 * written over it after the part is copied: a copy is a call into the runtime (about 14 ns),
 * and a scan's line has three such slots. A date's 'YYYY-MM-DDTHH:MM:SS.' is rewritten in the
 * part when the second changes, so per line only its microseconds are written; the Community
 * ID is rewritten in the part when it changes (every packet of a scan, never within a flow).
 */
interface Template<R> {
  /** The record it was made from. */
  record: R;
  /** Whether a record is of the template's shape. */
  matches: (r: R) => boolean;
  /** Which slots its records have. */
  present: number;
  parts: Buffer[];
  /** Slot index of each slot of varying width, in line order. */
  slots: number[];
  /** Their kinds, in line order. */
  slotKinds: Uint8Array;
  /** The slots of fixed width, in line order: slot index, kind, the part they are in, where their value starts in it. */
  inPart: number[];
  inPartKinds: Uint8Array;
  inPartOf: Int32Array;
  inPartAt: Int32Array;
  /** For an in-part date, the second its part holds. */
  inPartSeconds: Float64Array;
  /** The Community ID digest its part holds (when one is in a part). */
  inPartDigest: Int32Array;
  /** The parts' bytes and the most every time and number slot takes. */
  fixedBytes: number;
  /** The slots whose room depends on their values (text and the document's own kinds). */
  sizedSlots: number[];
  /** Number and text slots held in the parts with one value each (a variant's; see Variants below). */
  held: number[];
  heldKinds: Uint8Array;
  heldNumbers: Float64Array;
  heldTexts: Array<string | undefined>;
  /** The variant of this template that holds the values a run of its records kept, if any. */
  variant: Template<R> | undefined;
  /** For how many of its last records each number and text slot kept its value, and the values. */
  unchanged: Int32Array;
  lastNumbers: Float64Array;
  lastTexts: Array<string | undefined>;
  /** Its records in a row that its variant did not serve, and how many make a new variant. */
  misses: number;
  need: number;
}

// Variants. The packets of a flow, and many of a scan, share more than their template's fixed bytes:
// a flow keeps its addresses, ports and lengths, a scan its source and lengths. When a run of a
// template's records (`need`, from TEMPLATE_AFTER) found no variant to serve them, a variant of the
// template holds in its parts the number and text slots' values that the last TEMPLATE_AFTER kept:
// fewer parts to copy and slots to write, for as long as the records keep them (checked per record;
// the template serves the others). Each new variant of a template doubles its `need` (to
// MAX_VARIANT_NEED), so values that change every few dozen records cannot make one every few dozen.
const MAX_VARIANT_NEED = 4096;

/** Records in a row of one shape before its template is made. */
const TEMPLATE_AFTER = 16;
/** Templates kept, the last used first: a few floods or flows interleaved in runs each keep theirs. */
const MAX_TEMPLATES = 4;

/** A document's lines, from templates where records come in runs of one shape, written in full otherwise. */
export class TemplatedLines<R> {
  private readonly json = new JsonWriter();
  private readonly templateWriter = new TemplateWriter();
  private last: R | undefined;
  /** Records in a row of the last one's shape. */
  private run = 0;
  private readonly templates: Template<R>[] = [];
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);

  constructor(private readonly doc: TemplatedDocument<R>) {}

  /** The record's line as a string. */
  line(record: R): string {
    const t = this.matching(record);
    if (t !== undefined) {
      const end = this.fill(t, this.room(t), 0);
      if (end >= 0) return this.scratch.toString('utf8', 0, end);
    }
    const end = this.write(record);
    return this.json.bytes().toString('utf8', 0, end);
  }

  /** The same line, UTF-8, into the target's buffer (no string made). */
  writeLine(record: R, to: LineTarget): void {
    const t = this.matching(record);
    if (t !== undefined) {
      const buffer = to.reserve(this.maxBytes(t));
      const end = this.fill(t, buffer, to.offset);
      if (end >= 0) {
        to.commit(end);
        return;
      }
    }
    const end = this.write(record);
    const buffer = to.reserve(end);
    const at = to.offset;
    this.json.bytes().copy(buffer, at, 0, end);
    to.commit(at + end);
  }

  /** The template that writes this record's line (its slot values are read then), or undefined. */
  private matching(record: R): Template<R> | undefined {
    const templates = this.templates;
    let read = false;
    for (let i = 0; i < templates.length; i++) {
      const t = templates[i];
      if (!t.matches(record)) continue;
      if (!read) {
        this.doc.readSlots(record);
        read = true;
      }
      if (this.doc.values.present !== t.present) continue;
      if (i > 0) {
        templates[i] = templates[0];
        templates[0] = t;
      }
      const v = t.variant;
      if (v !== undefined && this.holds(v)) {
        t.misses = 0;
        return v;
      }
      this.keep(t, record);
      return t;
    }
    return undefined;
  }

  /** Whether the current slot values are those the variant holds. */
  private holds(v: Template<R>): boolean {
    const { numbers, texts } = this.doc.values;
    const { held, heldKinds, heldNumbers, heldTexts } = v;
    for (let k = 0; k < held.length; k++) {
      const id = held[k];
      if (heldKinds[k] === NUMBER ? numbers[id] !== heldNumbers[k] : texts[id] !== heldTexts[k]) return false;
    }
    return true;
  }

  /** Notes which number and text slots kept their values since the template's last record; makes a variant that holds them. */
  private keep(t: Template<R>, record: R): void {
    const { numbers, texts } = this.doc.values;
    const { slots, slotKinds, unchanged, lastNumbers, lastTexts } = t;
    let stable = 0;
    for (let i = 0; i < slots.length; i++) {
      const id = slots[i];
      const kind = slotKinds[i];
      if (kind !== NUMBER && kind !== STRING) continue;
      // (A slot in the line twice, the sequence number, counts twice: at most 1 when it changes.)
      const same = kind === NUMBER ? numbers[id] === lastNumbers[id] : texts[id] === lastTexts[id];
      if (same) {
        if (++unchanged[id] >= TEMPLATE_AFTER) stable |= 1 << id;
      } else {
        unchanged[id] = 0;
        if (kind === NUMBER) lastNumbers[id] = numbers[id];
        else lastTexts[id] = texts[id];
      }
    }
    if (++t.misses >= t.need && stable !== 0) {
      t.variant = this.makeTemplate(record, t.matches, stable);
      t.misses = 0;
      t.need = Math.min(2 * t.need, MAX_VARIANT_NEED);
    }
  }

  /**
   * Writes the line in full. A run of TEMPLATE_AFTER records of one shape makes
   * its template (making one costs a few lines: short runs of interleaved shapes
   * never pay for it).
   */
  private write(record: R): number {
    const last = this.last;
    this.last = record;
    if (last !== undefined && this.doc.sameShape(last, record)) {
      if (++this.run === TEMPLATE_AFTER) {
        const t = this.makeTemplate(record);
        if (t !== undefined && this.templates.unshift(t) > MAX_TEMPLATES) this.templates.pop();
      }
    } else {
      this.run = 0;
    }
    const w = this.json;
    w.begin();
    this.doc.write(w, record);
    return w.end();
  }

  /**
   * The template of the record's shape (holding the values of the `held` slots, by bit, from the
   * record: a variant), or undefined when filling it does not give the record's own line.
   */
  private makeTemplate(record: R, shapeCheck?: (r: R) => boolean, held = 0): Template<R> | undefined {
    const matches = shapeCheck ?? this.doc.shapeCheck(record);
    if (matches === undefined) return undefined;
    const w = this.templateWriter;
    w.begin();
    this.doc.write(w, record);
    const end = w.end();
    const line = Buffer.from(w.bytes().subarray(0, end));
    const { kinds } = this.doc;
    this.doc.readSlots(record);
    const { numbers, texts } = this.doc.values;
    const parts: Buffer[] = [];
    const heldIds: number[] = [];
    const slots: number[] = [];
    const inPart: number[] = [];
    const inPartOf: number[] = [];
    const inPartAt: number[] = [];
    const inPartSeconds: number[] = [];
    let from = 0;
    for (let i = 0; i < w.marks.length; i += 3) {
      const [id, start, stop] = [w.marks[i], w.marks[i + 1], w.marks[i + 2]];
      if ((held & (1 << id)) !== 0) {
        heldIds.push(id);
        continue;
      }
      // A Community ID, or a date whose second has the usual 20-byte prefix, and their quotes.
      const fixed =
        kinds[id] === COMMUNITY_ID
          ? stop - start === COMMUNITY_ID_LENGTH + 2
          : kinds[id] === TIME && timestampPrefix(timestampSeconds(numbers[id])).length === TIMESTAMP_PREFIX_BYTES;
      if (fixed) {
        inPart.push(id);
        inPartOf.push(parts.length);
        inPartAt.push(start + 1 - from);
        inPartSeconds.push(kinds[id] === TIME ? timestampSeconds(numbers[id]) : 0);
        continue;
      }
      slots.push(id);
      parts.push(line.subarray(from, start));
      from = stop;
    }
    parts.push(line.subarray(from));
    let fixedBytes = 0;
    for (const p of parts) fixedBytes += p.length;
    const sizedSlots: number[] = [];
    for (const id of slots) {
      const kind = kinds[id];
      // A date or a number, and its quotes; a Community ID and its quotes.
      if (kind === TIME || kind === NUMBER) fixedBytes += MAX_TIMESTAMP_BYTES + 2;
      else if (kind === COMMUNITY_ID) fixedBytes += COMMUNITY_ID_LENGTH + 2;
      else sizedSlots.push(id);
    }
    const t: Template<R> = {
      record,
      matches,
      present: this.doc.values.present,
      parts,
      slots,
      slotKinds: Uint8Array.from(slots, (id) => kinds[id]),
      inPart,
      inPartKinds: Uint8Array.from(inPart, (id) => kinds[id]),
      inPartOf: Int32Array.from(inPartOf),
      inPartAt: Int32Array.from(inPartAt),
      inPartSeconds: Float64Array.from(inPartSeconds),
      inPartDigest: Int32Array.from(this.doc.values.communityId),
      fixedBytes,
      sizedSlots,
      held: heldIds,
      heldKinds: Uint8Array.from(heldIds, (id) => kinds[id]),
      heldNumbers: Float64Array.from(heldIds, (id) => numbers[id]),
      heldTexts: heldIds.map((id) => texts[id]),
      variant: undefined,
      unchanged: new Int32Array(kinds.length),
      // NaN equals nothing: every slot starts its count at the template's first record.
      lastNumbers: new Float64Array(kinds.length).fill(Number.NaN),
      lastTexts: new Array<string | undefined>(kinds.length).fill(undefined),
      misses: 0,
      need: TEMPLATE_AFTER,
    };
    // Kept only if it gives this very record its own line (a slot written from anything but its value would not).
    const filled = this.fill(t, this.room(t), 0);
    if (filled !== end || this.scratch.compare(line, 0, end, 0, filled) !== 0) return undefined;
    return t;
  }

  private room(t: Template<R>): Buffer {
    const need = this.maxBytes(t);
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafeSlow(need);
    return this.scratch;
  }

  /** The most bytes fill() writes with the current slot values. */
  private maxBytes(t: Template<R>): number {
    const { doc } = this;
    const texts = doc.values.texts;
    let bytes = t.fixedBytes;
    const sized = t.sizedSlots;
    for (let i = 0; i < sized.length; i++) {
      const id = sized[i];
      // A JSON string: 6 bytes a UTF-16 unit at most (\uXXXX), and its quotes.
      bytes += doc.kinds[id] === STRING ? 6 * (texts[id] as string).length + 2 : doc.ownRoom(id);
    }
    return bytes;
  }

  /**
   * The template's line with the current slot values, into out at `at`; returns the end, or -1
   * when a date of the record does not fit its place in a part (a year beyond 9999 or before 0).
   */
  private fill(t: Template<R>, out: Buffer, at: number): number {
    const { parts, slots, slotKinds, inPart, inPartKinds, inPartOf, inPartAt, inPartSeconds } = t;
    const { doc } = this;
    const { numbers, texts } = doc.values;
    // The dates' seconds and the Community ID into their parts first (a part is copied whole).
    for (let k = 0; k < inPart.length; k++) {
      if (inPartKinds[k] !== TIME) {
        const held = t.inPartDigest;
        const digest = doc.values.communityId;
        if (held[0] === digest[0] && held[1] === digest[1] && held[2] === digest[2] && held[3] === digest[3] && held[4] === digest[4])
          continue;
        writeCommunityId(digest, parts[inPartOf[k]], inPartAt[k]);
        for (let i = 0; i < 5; i++) held[i] = digest[i];
        continue;
      }
      const secs = timestampSeconds(numbers[inPart[k]]);
      if (secs === inPartSeconds[k]) continue;
      const prefix = timestampPrefix(secs);
      if (prefix.length !== TIMESTAMP_PREFIX_BYTES) return -1;
      parts[inPartOf[k]].set(prefix, inPartAt[k]);
      inPartSeconds[k] = secs;
    }
    let k = 0;
    for (let i = 0; ; i++) {
      const start = at;
      at = copy(out, at, parts[i]);
      for (; k < inPart.length && inPartOf[k] === i; k++) {
        if (inPartKinds[k] === TIME)
          writeTimestampMicros(out, start + inPartAt[k] + TIMESTAMP_PREFIX_BYTES, numbers[inPart[k]], inPartSeconds[k]);
      }
      if (i === slots.length) return at;
      const id = slots[i];
      const kind = slotKinds[i];
      if (kind === TIME) {
        out[at] = 0x22;
        at = writeTimestampUs(out, at + 1, numbers[id]);
        out[at++] = 0x22;
      } else if (kind === NUMBER) at = writeJsonNumber(out, at, numbers[id]);
      else if (kind === STRING) at = writeJsonString(out, at, texts[id] as string);
      else if (kind === COMMUNITY_ID) {
        out[at] = 0x22;
        at = writeCommunityId(doc.values.communityId, out, at + 1);
        out[at++] = 0x22;
      } else if (kind >= OWN_KIND) at = doc.writeOwn(id, out, at);
    }
  }
}

function copy(out: Buffer, at: number, bytes: Buffer): number {
  const n = bytes.length;
  // A short part is copied faster by hand than by a call into the runtime.
  if (n < 16) for (let i = 0; i < n; i++) out[at + i] = bytes[i];
  else out.set(bytes, at);
  return at + n;
}

type Obj = Record<string, unknown>;

/** Deep equality of record values (typed arrays only by identity: records' byte fields are never in a line's fixed part). */
export function sameValue(x: unknown, y: unknown): boolean {
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

/** The object's enumerable keys, counted (a compiled shape check's test that no field hides behind the others). */
function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

/**
 * A shape check compiled from its tests (JavaScript expressions over the record `r` and what `prelude`
 * declares), with `same` (sameValue), `keys` (keyCount) and the model's nested values as V[i].
 */
export function compileShapeCheck<R>(prelude: string, tests: readonly string[], values: unknown[]): (r: R) => boolean {
  const body = `return function (r) {
  ${prelude}
  return ${tests.join(' && ')};
};`;
  return new Function('V', 'same', 'keys', body)(values, sameValue, keyCount);
}
