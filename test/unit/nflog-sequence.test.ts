import { describe, expect, it } from 'vitest';
import { SequenceTracker } from '../../src/nflog/sequence';

describe('SequenceTracker', () => {
  it('counts a jump in a started group, from 0', () => {
    const t = new SequenceTracker();
    t.start(5);
    expect(t.observe(5, 0)).toBeNull();
    expect(t.observe(5, 1)).toBeNull();
    expect(t.observe(5, 4)).toEqual({ count: 2, fromSeq: 2, toSeq: 3 });
    expect(t.observe(5, 5)).toBeNull();
  });

  it('reports entries lost before the first one of a started group', () => {
    const t = new SequenceTracker();
    t.start(1);
    expect(t.observe(1, 3)).toEqual({ count: 3, fromSeq: 0, toSeq: 2 });
  });

  it('takes the first number of a group it did not start as it comes', () => {
    const t = new SequenceTracker();
    expect(t.observe(9, 1000)).toBeNull();
    expect(t.observe(9, 1002)).toEqual({ count: 1, fromSeq: 1001, toSeq: 1001 });
  });

  it('keeps each group apart when their entries interleave', () => {
    const t = new SequenceTracker();
    t.start(1);
    t.start(2);
    expect(t.observe(1, 0)).toBeNull();
    expect(t.observe(2, 0)).toBeNull();
    expect(t.observe(1, 1)).toBeNull();
    expect(t.observe(1, 2)).toBeNull();
    expect(t.observe(2, 1)).toBeNull();
    expect(t.observe(2, 3)).toEqual({ count: 1, fromSeq: 2, toSeq: 2 });
    expect(t.observe(1, 5)).toEqual({ count: 2, fromSeq: 3, toSeq: 4 });
  });

  it('start() after entries were seen starts the group at 0 again', () => {
    const t = new SequenceTracker();
    expect(t.observe(3, 10)).toBeNull();
    t.start(3);
    expect(t.observe(3, 0)).toBeNull();
    expect(t.observe(3, 2)).toEqual({ count: 1, fromSeq: 1, toSeq: 1 });
  });

  it('follows the 32-bit wrap and resynchronises silently on a jump backwards', () => {
    const t = new SequenceTracker();
    expect(t.observe(4, 0xffff_ffff)).toBeNull();
    expect(t.observe(4, 0)).toBeNull();
    expect(t.observe(4, 2)).toEqual({ count: 1, fromSeq: 1, toSeq: 1 });
    expect(t.observe(4, 1)).toBeNull();
    expect(t.observe(4, 2)).toBeNull();
  });
});
