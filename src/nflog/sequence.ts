// Finds lost NFLOG entries from the instance-local sequence numbers
// (NFULA_SEQ): the kernel numbers each entry of a group from 0 when the
// group is bound, so any jump is a count of entries we never received.

export interface SequenceGap {
  count: number;
  fromSeq: number;
  toSeq: number;
}

/** What is known of one group: the sequence number its next entry should carry. */
interface GroupSequence {
  group: number;
  expected: number | undefined;
}

export class SequenceTracker {
  private readonly groups = new Map<number, GroupSequence>();
  /** The group of the last entry: entries come in runs of one group, so most lookups end here. */
  private last: GroupSequence = { group: -1, expected: undefined };

  /** Starts a group at 0: called for groups this collector bound itself. */
  start(group: number): void {
    this.state(group).expected = 0;
  }

  /** Records `seq` for `group`; returns the gap before it, or null. */
  observe(group: number, seq: number): SequenceGap | null {
    const state = this.last.group === group ? this.last : this.state(group);
    const expected = state.expected;
    state.expected = (seq + 1) >>> 0;
    if (expected === undefined || seq === expected) return null;
    const count = (seq - expected) >>> 0;
    // A jump backwards (or absurdly far) means the instance was re-created: resynchronise silently.
    if (count >= 0x8000_0000) return null;
    return { count, fromSeq: expected, toSeq: (seq - 1) >>> 0 };
  }

  private state(group: number): GroupSequence {
    let state = this.groups.get(group);
    if (state === undefined) {
      state = { group, expected: undefined };
      this.groups.set(group, state);
    }
    this.last = state;
    return state;
  }
}
