// A document's per-record values ("slots"): what differs between records
// whose lines share everything else. A definition reads them into a SlotTable
// before it writes, writes each from there and marks it (DocWriter.mark), so
// that a line template (line-templates.ts) knows where each lies in the line.

/** How line-templates.ts writes a slot: these for every document, a document's own kinds from OWN_KIND on. */
export const TIME = 0;
export const NUMBER = 1;
export const STRING = 2;
/** A Community ID, from its digest (community-id.ts) in SlotTable.communityId. */
export const COMMUNITY_ID = 3;
export const OWN_KIND = 4;
/** A slot written only as part of another (e.g. the second address of related.ip). */
export const PART_OF_ANOTHER = 255;

/**
 * Slot values by index: numbers and times in a Float64Array (a double kept in a
 * plain array would be a heap number allocated per record), text in an array,
 * the Community ID's digest; `present` has bit i set when slot i has a value
 * (the document leaves the others out).
 */
export class SlotTable {
  readonly numbers: Float64Array;
  readonly texts: Array<string | undefined>;
  /** The Community ID's SHA-1 digest, five words (a COMMUNITY_ID slot is written from it). */
  readonly communityId = new Int32Array(5);
  present = 0;

  constructor(count: number) {
    if (count > 31) throw new Error(`slots: ${count} slots are too many for the presence bits`);
    this.numbers = new Float64Array(count);
    this.texts = new Array<string | undefined>(count).fill(undefined);
  }

  has(id: number): boolean {
    return (this.present & (1 << id)) !== 0;
  }
}

/** Puts a number in slot `id`; returns its presence bit (0 when undefined). */
export function putNumber(out: SlotTable, id: number, value: number | undefined): number {
  if (value === undefined) return 0;
  out.numbers[id] = value;
  return 1 << id;
}

/** Puts a text in slot `id`; returns its presence bit (0 when undefined). */
export function putText(out: SlotTable, id: number, value: string | undefined): number {
  out.texts[id] = value;
  return value === undefined ? 0 : 1 << id;
}

/** Puts a Community ID's digest in slot `id`; returns its presence bit (0 when undefined). */
export function putDigest(out: SlotTable, id: number, digest: Int32Array | undefined): number {
  if (digest === undefined) return 0;
  // Five words: stores, not a call to TypedArray#set.
  const to = out.communityId;
  for (let i = 0; i < 5; i++) to[i] = digest[i];
  return 1 << id;
}
