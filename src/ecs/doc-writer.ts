// One definition of a document, two renderings. A document's definition
// (packet.ts, flow.ts, gap.ts) is one function that calls a DocWriter field
// by field, in document order. ObjectWriter turns the calls into the nested
// object (packetToEcs …); JsonWriter turns the same calls into the JSON text,
// as UTF-8 bytes straight into a buffer (the CLI's lines). Same calls, so the
// line is JSON.stringify of the object, key for key, by construction; a field
// is added or changed in one place.
//
// JsonWriter makes no string per document: on a scan, where every packet is
// a new flow and nothing repeats, building each line as a string (and the
// garbage collector reclaiming it) was most of the cost.
import { formatTimestampUs, MAX_TIMESTAMP_BYTES, writeTimestampUs } from './timestamp';

/** What a document's definition calls, field by field, in document order. */
export interface DocWriter {
  /** Starts the object `key` (close() ends it). */
  open(key: string): void;
  close(): void;
  str(key: string, value: string): void;
  num(key: string, value: number): void;
  bool(key: string, value: boolean): void;
  /** A date field, from microseconds since the epoch. */
  time(key: string, us: number): void;
  strs(key: string, values: readonly string[]): void;
  /** [a] or [a, b]: a short array without making one. */
  strPair(key: string, a: string, b: string | undefined): void;
  nums(key: string, values: readonly number[]): void;
  /** A JSON null: a value the document says is unknown. */
  nil(key: string): void;
  /**
   * The next call writes a per-packet value, slot `slot` of the document's list: a template of the
   * line (TemplateWriter) leaves it open. The other writers ignore it.
   */
  mark(slot: number): void;
}

type Obj = Record<string, unknown>;

/** Builds the document as a plain nested object. */
export class ObjectWriter implements DocWriter {
  private stack: Obj[] = [];
  private top: Obj = {};

  /** Starts a new document; returns its (empty) root. */
  begin(): Obj {
    this.stack.length = 0;
    return (this.top = {});
  }

  open(key: string): void {
    const o: Obj = {};
    this.top[key] = o;
    this.stack.push(this.top);
    this.top = o;
  }

  close(): void {
    this.top = this.stack.pop() as Obj;
  }

  str(key: string, value: string): void {
    this.top[key] = value;
  }

  num(key: string, value: number): void {
    this.top[key] = value;
  }

  bool(key: string, value: boolean): void {
    this.top[key] = value;
  }

  time(key: string, us: number): void {
    this.top[key] = formatTimestampUs(us);
  }

  strs(key: string, values: readonly string[]): void {
    this.top[key] = values.slice();
  }

  strPair(key: string, a: string, b: string | undefined): void {
    this.top[key] = b === undefined ? [a] : [a, b];
  }

  nums(key: string, values: readonly number[]): void {
    this.top[key] = values.slice();
  }

  nil(key: string): void {
    this.top[key] = null;
  }

  mark(_slot: number): void {}
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const COLON = 0x3a;

/** Writes the document as one line of JSON, UTF-8, into its own growing buffer. */
export class JsonWriter implements DocWriter {
  private buf = Buffer.allocUnsafeSlow(16 * 1024);
  protected at = 0;
  private first = true;

  /** Starts a new document. */
  begin(): void {
    this.buf[0] = 0x7b; // {
    this.at = 1;
    this.first = true;
  }

  /** Ends the document: its bytes are bytes()[0, length). */
  end(): number {
    this.room(1);
    this.buf[this.at++] = 0x7d; // }
    return this.at;
  }

  /** The buffer the document was written into (valid until the next begin()). */
  bytes(): Buffer {
    return this.buf;
  }

  open(key: string): void {
    this.key(key, 1);
    this.buf[this.at++] = 0x7b;
    this.first = true;
  }

  close(): void {
    this.room(1);
    this.buf[this.at++] = 0x7d;
    this.first = false;
  }

  str(key: string, value: string): void {
    this.key(key, 6 * value.length + 2);
    this.string(value);
  }

  num(key: string, value: number): void {
    this.key(key, 24);
    this.number(value);
  }

  bool(key: string, value: boolean): void {
    this.key(key, 5);
    this.ascii(value ? 'true' : 'false');
  }

  time(key: string, us: number): void {
    this.key(key, MAX_TIMESTAMP_BYTES + 2);
    const buf = this.buf;
    buf[this.at] = QUOTE;
    this.at = writeTimestampUs(buf, this.at + 1, us);
    buf[this.at++] = QUOTE;
  }

  strs(key: string, values: readonly string[]): void {
    let need = 2;
    for (let i = 0; i < values.length; i++) need += 6 * values[i].length + 3;
    this.key(key, need);
    this.buf[this.at++] = 0x5b; // [
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.buf[this.at++] = COMMA;
      this.string(values[i]);
    }
    this.buf[this.at++] = 0x5d; // ]
  }

  strPair(key: string, a: string, b: string | undefined): void {
    this.key(key, 6 * (a.length + (b === undefined ? 0 : b.length)) + 8);
    this.buf[this.at++] = 0x5b;
    this.string(a);
    if (b !== undefined) {
      this.buf[this.at++] = COMMA;
      this.string(b);
    }
    this.buf[this.at++] = 0x5d;
  }

  nums(key: string, values: readonly number[]): void {
    this.key(key, 24 * values.length + 2);
    this.buf[this.at++] = 0x5b;
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.buf[this.at++] = COMMA;
      this.number(values[i]);
    }
    this.buf[this.at++] = 0x5d;
  }

  nil(key: string): void {
    this.key(key, 4);
    this.ascii('null');
  }

  mark(_slot: number): void {}

  /** ',"key":' with room for `value` more bytes after it. */
  protected key(key: string, value: number): void {
    this.room(key.length + value + 5);
    const buf = this.buf;
    let at = this.at;
    if (this.first) this.first = false;
    else buf[at++] = COMMA;
    buf[at++] = QUOTE;
    for (let i = 0; i < key.length; i++) buf[at++] = key.charCodeAt(i);
    buf[at++] = QUOTE;
    buf[at++] = COLON;
    this.at = at;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.at + bytes + 1024));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  private string(s: string): void {
    this.at = writeJsonString(this.buf, this.at, s);
  }

  private ascii(s: string): void {
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  private number(n: number): void {
    this.at = writeJsonNumber(this.buf, this.at, n);
  }
}

/**
 * A JsonWriter that also notes where each marked value is in the line: the
 * fixed byte runs between them and the slots are a template of the line
 * (packet-json.ts), derived from the document's definition as it is.
 */
export class TemplateWriter extends JsonWriter {
  /** slot, start, end of each marked value, in line order. */
  readonly marks: number[] = [];
  private pending = -1;
  private valueAt = -1;

  override begin(): void {
    super.begin();
    this.marks.length = 0;
    this.pending = -1;
    this.valueAt = -1;
  }

  override end(): number {
    this.settle();
    return super.end();
  }

  override close(): void {
    this.settle();
    super.close();
  }

  override mark(slot: number): void {
    this.settle();
    this.pending = slot;
  }

  protected override key(key: string, value: number): void {
    // The value marked ends where the next key (or close, or end) starts.
    this.settle();
    super.key(key, value);
    if (this.pending >= 0) this.valueAt = this.at;
  }

  private settle(): void {
    if (this.valueAt < 0) return;
    this.marks.push(this.pending, this.valueAt, this.at);
    this.pending = -1;
    this.valueAt = -1;
  }
}

/** A JSON string literal of s, as JSON.stringify writes it, into buf at `at` (6 bytes per unit + 2 of room); returns the end. */
export function writeJsonString(buf: Buffer, at: number, s: string): number {
  const start = at;
  buf[at++] = QUOTE;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === QUOTE || c === 0x5c || c > 0x7e) return start + buf.write(JSON.stringify(s), start, 'utf8');
    buf[at++] = c;
  }
  buf[at++] = QUOTE;
  return at;
}

/** 00..99 as two ASCII digits each. */
const DIGITS2 = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGITS2[2 * i] = 0x30 + Math.floor(i / 10);
  DIGITS2[2 * i + 1] = 0x30 + (i % 10);
}

/** A number as JSON.stringify writes it, into buf at `at` (24 bytes of room); returns the end. Digits by hand for the usual non-negative 32-bit integers. */
export function writeJsonNumber(buf: Buffer, at: number, n: number): number {
  // n >>> 0 is n only for the integers 0 … 2^32 − 1 (and -0, written as 0 by JSON.stringify too); n % 1 would call fmod.
  if (n >>> 0 !== n) {
    const text = Number.isFinite(n) ? String(n) : 'null';
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    return at;
  }
  // As a uint32, so that `(v / 100) >>> 0` is an integer division by a constant (a multiply), not a division of doubles.
  let v = n >>> 0;
  const end = at + decimalDigits(v);
  let i = end;
  // Two digits per division.
  while (v >= 100) {
    const hundredth = (v / 100) >>> 0;
    const pair = 2 * (v - hundredth * 100);
    buf[--i] = DIGITS2[pair + 1];
    buf[--i] = DIGITS2[pair];
    v = hundredth;
  }
  if (v >= 10) {
    buf[--i] = DIGITS2[2 * v + 1];
    buf[--i] = DIGITS2[2 * v];
  } else {
    buf[--i] = 0x30 + v;
  }
  return end;
}

function decimalDigits(n: number): number {
  if (n < 1e5) return n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : 5;
  return n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
}
