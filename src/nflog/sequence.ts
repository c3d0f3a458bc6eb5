// Finds lost NFLOG entries from the instance-local sequence numbers
// (NFULA_SEQ): the kernel numbers each entry of a group from 0 when the
// group is bound, so any jump is a count of entries we never received.

export interface SequenceGap {
  count: number;
  fromSeq: number;
  toSeq: number;
}

export class SequenceTracker {
  private readonly expected = new Map<number, number>();

  /** Starts a group at 0: called for groups this collector bound itself. */
  start(group: number): void {
    this.expected.set(group, 0);
  }

  /** Records `seq` for `group`; returns the gap before it, or null. */
  observe(group: number, seq: number): SequenceGap | null {
    const expected = this.expected.get(group);
    this.expected.set(group, (seq + 1) >>> 0);
    if (expected === undefined || seq === expected) return null;
    const count = (seq - expected) >>> 0;
    // A jump backwards (or absurdly far) means the instance was re-created: resynchronise silently.
    if (count >= 0x8000_0000) return null;
    return { count, fromSeq: expected, toSeq: (seq - 1) >>> 0 };
  }
}
