// Where NDJSON goes: stdout or a file. Lines are encoded into a buffer as
// they are made (so each document's string dies young) and written once per
// batch; a slow disk or pipe pushes back on the ring, not on memory.
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';

const CHUNK_BYTES = 1 << 20;

export class NdjsonOutput {
  private readonly stream: Writable;
  private readonly ownsStream: boolean;
  private failure: Error | null = null;
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private readonly pending: Buffer[] = [];

  constructor(target: string) {
    if (target === '-') {
      this.stream = process.stdout;
      this.ownsStream = false;
    } else {
      this.stream = fs.createWriteStream(target, { flags: 'w', highWaterMark: CHUNK_BYTES });
      this.ownsStream = true;
    }
    this.stream.on('error', (err: Error) => {
      this.failure = err;
    });
  }

  /** Adds one line (without its newline). */
  line(text: string): void {
    // Worst case for UTF-8: 3 bytes per UTF-16 unit.
    if (this.used + text.length * 3 + 1 > this.buffer.length) this.rotate(text.length * 3 + 1);
    this.used += this.buffer.write(text, this.used, 'utf8');
    this.buffer[this.used++] = 0x0a;
  }

  private rotate(atLeast: number): void {
    if (this.used > 0) this.pending.push(this.buffer.subarray(0, this.used));
    this.buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, atLeast));
    this.used = 0;
  }

  /** Writes what the lines added so far; resolves when the stream can take more. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    this.rotate(0);
    let more = true;
    for (const chunk of this.pending) more = this.stream.write(chunk);
    this.pending.length = 0;
    if (!more) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.stream.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          this.stream.off('drain', onDrain);
          reject(err);
        };
        this.stream.once('drain', onDrain);
        this.stream.once('error', onError);
      });
    }
  }

  /** Flushes and closes a file; stdout is flushed only. */
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      if (this.ownsStream) {
        this.stream.once('error', reject);
        this.stream.end(() => resolve());
      } else {
        // An empty write's callback runs once everything before it is flushed.
        this.stream.write('', () => resolve());
      }
    });
  }
}
