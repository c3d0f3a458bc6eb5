// Mutations of one input: bit flips, byte sets, boundary values, length-field
// rewrites (netlink message and attribute lengths), truncation, extension,
// deletion, duplication and splices from another input. Several are stacked
// per case. Everything is drawn from the given Random, so a seed replays.
import type { Random } from './random';
import { attributeFields, lengthFields, type LengthField } from './netlink-layout';

/** Where a target's length fields are, for the length-aware mutations. */
export type Layout = { kind: 'netlink'; bodyHeader: number; skip: number } | { kind: 'attributes'; skip: number } | { kind: 'raw' };

export const MAX_INPUT = 8192;

const BOUNDARY_BYTES = [0, 1, 2, 3, 4, 5, 6, 8, 0x0f, 0x10, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff];
const BOUNDARY_WORDS = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 20, 24, 40, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];

/** A growable input buffer. */
export class Input {
  bytes = new Uint8Array(MAX_INPUT);
  length = 0;

  load(from: Uint8Array): void {
    const n = Math.min(from.length, MAX_INPUT);
    this.bytes.set(from.subarray(0, n));
    this.length = n;
  }

  copy(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

export class Mutator {
  private readonly fields: LengthField[] = [];

  constructor(
    private readonly rand: Random,
    private readonly layout: Layout,
  ) {}

  /** Applies 1..8 stacked mutations (fewer more often). `others` feeds the splices. */
  mutate(input: Input, others: readonly Uint8Array[]): void {
    const rand = this.rand;
    const count = 1 + Math.min(7, Math.floor(-Math.log2(1 - rand.next()) * 1.2));
    for (let i = 0; i < count; i++) this.one(input, others);
  }

  private one(input: Input, others: readonly Uint8Array[]): void {
    const rand = this.rand;
    const b = input.bytes;
    const n = input.length;
    const r = rand.next();
    if (n === 0) {
      this.extend(input, 1 + rand.below(64));
      return;
    }
    const at = rand.below(n);
    if (r < 0.14) {
      b[at] ^= 1 << rand.below(8);
    } else if (r < 0.26) {
      b[at] = rand.chance(0.6) ? rand.pick(BOUNDARY_BYTES) : rand.byte();
    } else if (r < 0.36) {
      this.word(input, at);
    } else if (r < 0.58 && this.layout.kind !== 'raw') {
      if (!this.lengthField(input)) b[at] = rand.byte();
    } else if (r < 0.66) {
      // Truncate: anywhere, or just around the end.
      input.length = rand.chance(0.5) ? at : Math.max(0, n - 1 - rand.below(8));
    } else if (r < 0.72) {
      this.extend(input, 1 + rand.below(rand.chance(0.8) ? 16 : 512));
    } else if (r < 0.78) {
      const len = Math.min(n - at, 1 + rand.below(32));
      b.copyWithin(at, at + len, n);
      input.length = n - len;
    } else if (r < 0.84) {
      this.duplicate(input, at);
    } else if (r < 0.94 && others.length > 0) {
      this.splice(input, at, rand.pick(others));
    } else if (this.layout.kind !== 'raw') {
      // Attribute type bits: NLA_F_NESTED / NLA_F_NET_BYTEORDER, or a type near the known ones.
      const fields = this.collect(input);
      const f = fields.length > 0 && fields[rand.below(fields.length)];
      if (f && f.size === 2) {
        if (rand.chance(0.5)) b[f.at + 3] ^= rand.chance(0.5) ? 0x80 : 0x40;
        else b[f.at + 2] = rand.below(0x50);
      } else b[at] ^= 0x80;
    } else {
      b[at] = 0;
    }
  }

  /** A 16- or 32-bit boundary value, either byte order. */
  private word(input: Input, at: number): void {
    const rand = this.rand;
    const b = input.bytes;
    let v = rand.pick(BOUNDARY_WORDS);
    if (rand.chance(0.3)) v = (v + input.length - at) & 0xffff;
    const size = rand.chance(0.7) ? 2 : 4;
    const little = rand.chance(0.5);
    for (let i = 0; i < size && at + i < input.length; i++) {
      const shift = 8 * (little ? i : size - 1 - i);
      b[at + i] = size === 4 && shift >= 16 ? (rand.chance(0.9) ? 0 : 0xff) : (v >>> shift) & 0xff;
    }
  }

  private collect(input: Input): LengthField[] {
    const fields = this.fields;
    fields.length = 0;
    const layout = this.layout;
    if (layout.kind === 'netlink') lengthFields(input.bytes, layout.skip, input.length, layout.bodyHeader, fields);
    else if (layout.kind === 'attributes') attributeFields(input.bytes, layout.skip, input.length, 0, fields);
    return fields;
  }

  /** Rewrites one netlink length field to a value around a boundary. */
  private lengthField(input: Input): boolean {
    const fields = this.collect(input);
    if (fields.length === 0) return false;
    const rand = this.rand;
    const f = fields[rand.below(fields.length)];
    const b = input.bytes;
    const old = f.size === 2 ? b[f.at] | (b[f.at + 1] << 8) : (b[f.at] | (b[f.at + 1] << 8) | (b[f.at + 2] << 16)) >>> 0;
    const choices = [
      0,
      1,
      3,
      4,
      5,
      8,
      15,
      16,
      17,
      19,
      20,
      old - 1,
      old + 1,
      old - 4,
      old + 4,
      old + 3,
      f.room,
      f.room + 1,
      f.room - 1,
      f.room + 4,
      0xffff,
      old * 2,
    ];
    let v = rand.chance(0.9) ? rand.pick(choices) : rand.below(f.size === 2 ? 0x10000 : 0x20000);
    if (v < 0) v = 0;
    b[f.at] = v & 0xff;
    b[f.at + 1] = (v >>> 8) & 0xff;
    if (f.size === 4) {
      const huge = rand.chance(0.05);
      b[f.at + 2] = huge ? 0xff : (v >>> 16) & 0xff;
      b[f.at + 3] = huge ? 0xff : 0;
    }
    return true;
  }

  private extend(input: Input, count: number): void {
    const n = Math.min(MAX_INPUT, input.length + count);
    const zeros = this.rand.chance(0.5);
    for (let i = input.length; i < n; i++) input.bytes[i] = zeros ? 0 : this.rand.byte();
    input.length = n;
  }

  private duplicate(input: Input, at: number): void {
    const n = input.length;
    const len = Math.min(n - at, 1 + this.rand.below(48), MAX_INPUT - n);
    if (len <= 0) return;
    const b = input.bytes;
    b.copyWithin(at + len, at, n);
    input.length = n + len;
  }

  /** Overwrites or inserts a piece of another input at `at`. */
  private splice(input: Input, at: number, other: Uint8Array): void {
    if (other.length === 0) return;
    const rand = this.rand;
    const from = rand.below(other.length);
    let len = Math.min(other.length - from, 1 + rand.below(64));
    const b = input.bytes;
    if (rand.chance(0.5)) {
      len = Math.min(len, MAX_INPUT - input.length);
      b.copyWithin(at + len, at, input.length);
      input.length += len;
    } else {
      len = Math.min(len, input.length - at);
    }
    b.set(other.subarray(from, from + len), at);
  }
}
