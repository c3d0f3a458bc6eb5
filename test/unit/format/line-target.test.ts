// LineEncoder: chunks of whole lines; a working buffer handed over comes back through recycle().
import { describe, expect, it } from 'vitest';
import { LineEncoder } from '../../../src/format/line-target';

const LINE = 'x'.repeat(999); // 1,000 bytes with its newline

describe('LineEncoder', () => {
  it('uses a recycled working buffer again, and only a whole one', () => {
    const encoder = new LineEncoder();
    for (let i = 0; i < 1500; i++) encoder.line(LINE);
    const first = encoder.take();
    // One full working buffer handed over, the rest copied out at its size.
    expect(first).toHaveLength(2);
    expect(first[0].bytes.buffer.byteLength).toBe(1 << 20);
    expect(first[0].lines + first[1].lines).toBe(1500);
    const handedOver = first[0].bytes.buffer;
    for (const chunk of first) encoder.recycle(chunk.bytes);
    first[0].bytes.fill(0x21); // the sink is done with it: nothing written so far may live there
    for (let i = 0; i < 1500; i++) encoder.line(LINE);
    const second = encoder.take();
    // The working buffer in use when take() cut the copy was kept; the next one is the recycled one.
    const text = Buffer.concat(second.map((c) => c.bytes)).toString('latin1');
    expect(text).toBe(`${LINE}\n`.repeat(1500));
    for (let i = 0; i < 1100; i++) encoder.line(LINE);
    const third = encoder.take();
    expect(third.some((c) => c.bytes.buffer === handedOver)).toBe(true);
    expect(Buffer.concat(third.map((c) => c.bytes)).toString('latin1')).toBe(`${LINE}\n`.repeat(1100));
    // A copied chunk's own small buffer is not taken back.
    const small = third[third.length - 1];
    expect(small.bytes.buffer.byteLength).toBeLessThan(1 << 20);
  });

  it('hands a sink that writes at once the working buffer uncopied, however little it holds, and takes it back', () => {
    const encoder = new LineEncoder();
    const buffers = new Set<ArrayBufferLike>();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) encoder.line(LINE);
      const chunks = encoder.take(true);
      expect(chunks).toHaveLength(1);
      const [chunk] = chunks;
      // 50 KB of lines in a megabyte buffer: not copied out.
      expect(chunk.bytes.byteOffset).toBe(0);
      expect(chunk.bytes.buffer.byteLength).toBe(1 << 20);
      expect(chunk.lines).toBe(50);
      expect(chunk.bytes.toString('latin1')).toBe(`${LINE}\n`.repeat(50));
      buffers.add(chunk.bytes.buffer);
      encoder.recycle(chunk.bytes);
    }
    // Two buffers take turns: no fresh one a batch.
    expect(buffers.size).toBeLessThanOrEqual(2);
  });

  it('copies a small chunk out for a sink that queues (take() without whole)', () => {
    const encoder = new LineEncoder();
    for (let i = 0; i < 50; i++) encoder.line(LINE);
    const [chunk] = encoder.take();
    expect(chunk.bytes.buffer.byteLength).toBe(50 * 1000);
  });
});
