import { describe, expect, it } from 'vitest';
import { countLines, LineEncoder } from '../../../src/format/line-target';
import { LineQueue } from '../../../src/sink/queue';

function chunkOf(lines: string[]): { bytes: Buffer; lines: number } {
  return { bytes: Buffer.from(lines.map((l) => `${l}\n`).join('')), lines: lines.length };
}

describe('LineEncoder', () => {
  it('encodes lines into chunks of whole lines, UTF-8, counted', () => {
    const encoder = new LineEncoder();
    encoder.line('{"a":1}');
    encoder.line('{"é":"→"}');
    expect(encoder.pendingBytes).toBe(8 + 13);
    const chunks = encoder.take();
    expect(chunks).toHaveLength(1);
    expect(chunks[0].lines).toBe(2);
    expect(chunks[0].bytes.toString()).toBe('{"a":1}\n{"é":"→"}\n');
    expect(encoder.take()).toEqual([]);
    expect(encoder.pendingBytes).toBe(0);
  });

  it('cuts at line boundaries when the buffer fills, and takes a line bigger than the buffer', () => {
    const encoder = new LineEncoder();
    const line = 'x'.repeat(100_000);
    for (let i = 0; i < 20; i++) encoder.line(line);
    encoder.line('y'.repeat(3_000_000));
    encoder.line('z');
    const chunks = encoder.take();
    expect(chunks.length).toBeGreaterThan(1);
    const all = Buffer.concat(chunks.map((c) => c.bytes)).toString();
    expect(all).toBe(`${line}\n`.repeat(20) + `${'y'.repeat(3_000_000)}\nz\n`);
    expect(chunks.reduce((n, c) => n + c.lines, 0)).toBe(22);
    for (const chunk of chunks) {
      expect(chunk.bytes[chunk.bytes.length - 1]).toBe(0x0a);
      expect(countLines(chunk.bytes)).toBe(chunk.lines);
    }
  });

  it('never writes over a chunk it handed over, whether the chunk was copied or its buffer given away', () => {
    const encoder = new LineEncoder();
    const taken: Array<{ bytes: Buffer; text: string }> = [];
    // Batches of 1, 600 and 40 lines of 1 KiB: small chunks (copied) and big ones (over half the buffer).
    for (const [batch, count] of [
      [1, 1],
      [2, 600],
      [3, 40],
      [4, 600],
      [5, 1],
    ]) {
      const line = String(batch).repeat(1023);
      for (let i = 0; i < count; i++) encoder.line(line);
      for (const chunk of encoder.take()) taken.push({ bytes: chunk.bytes, text: chunk.bytes.toString() });
    }
    for (const { bytes, text } of taken) expect(bytes.toString()).toBe(text);
    expect(taken.map((t) => t.text).join('')).toBe(
      [
        [1, 1],
        [2, 600],
        [3, 40],
        [4, 600],
        [5, 1],
      ]
        .map(([b, n]) => `${String(b).repeat(1023)}\n`.repeat(n))
        .join(''),
    );
  });
});

describe('LineQueue', () => {
  it('keeps the whole lines that fit and drops the rest, counted', () => {
    const queue = new LineQueue(24);
    expect(queue.offer(chunkOf(['aaaa', 'bbbb']))).toEqual({ lines: 0, bytes: 0 }); // 10 bytes
    // 14 bytes of room: "cccc\ndddd\n" fits, "eeee\n" does not.
    expect(queue.offer(chunkOf(['cccc', 'dddd', 'eeee']))).toEqual({ lines: 1, bytes: 5 });
    expect(queue.bytes).toBe(20);
    // A line longer than the room left goes whole.
    expect(queue.offer(chunkOf(['ffffffffff']))).toEqual({ lines: 1, bytes: 11 });
    const first = queue.send();
    const second = queue.send();
    expect(first?.bytes.toString()).toBe('aaaa\nbbbb\n');
    expect(second?.bytes.toString()).toBe('cccc\ndddd\n');
    expect(second?.lines).toBe(2);
    expect(queue.send()).toBeUndefined();
    // In flight still counts against the bound.
    expect(queue.bytes).toBe(20);
    expect(queue.sent()).toBe(first);
    expect(queue.bytes).toBe(10);
    expect(queue.dropInFlight()).toEqual({ lines: 2, bytes: 10 });
    expect(queue.bytes).toBe(0);
  });

  it('drops the waiting chunks on request and stays consistent over many chunks', () => {
    const queue = new LineQueue(1 << 20);
    for (let i = 0; i < 5000; i++) queue.offer(chunkOf([`line ${i}`]));
    for (let i = 0; i < 3000; i++) {
      const chunk = queue.send();
      expect(chunk?.bytes.toString()).toBe(`line ${i}\n`);
      queue.sent();
    }
    expect(queue.waitingChunks).toBe(2000);
    const dropped = queue.dropWaiting();
    expect(dropped.lines).toBe(2000);
    expect(queue.bytes).toBe(0);
  });

  it('hands out pieces of whole lines up to a size, a longer line alone, and counts what is left', () => {
    const queue = new LineQueue(1 << 20);
    queue.offer(chunkOf(['aaaa', 'bbbb', 'cccccccccccc', 'dd']));
    queue.offer(chunkOf(['eeee']));
    expect(queue.peek(12)?.toString()).toBe('aaaa\nbbbb\n');
    // Taking less than was peeked, up to a line's end.
    expect(queue.take(5)).toEqual({ bytes: Buffer.from('aaaa\n'), lines: 1 });
    expect(queue.peek(12)?.toString()).toBe('bbbb\n');
    expect(queue.take(5).lines).toBe(1);
    // A line longer than the size goes alone.
    expect(queue.peek(12)?.toString()).toBe('cccccccccccc\n');
    expect(queue.take(13).lines).toBe(1);
    expect(queue.bytes).toBe(31);
    // What waits: the rest of the first chunk and the second.
    expect(queue.dropWaiting()).toEqual({ lines: 2, bytes: 8 });
    expect(queue.peek(12)).toBeUndefined();
    expect(queue.inFlightChunks).toBe(3);
    expect(queue.dropInFlight()).toEqual({ lines: 3, bytes: 23 });
    expect(queue.bytes).toBe(0);
  });
});
