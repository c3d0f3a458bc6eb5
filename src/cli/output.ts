// Where NDJSON goes: stdout or a file. One write per batch; waits for the
// stream to drain so a slow disk or pipe pushes back on the ring, not memory.
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';

export class NdjsonOutput {
  private readonly stream: Writable;
  private readonly ownsStream: boolean;
  private failure: Error | null = null;

  constructor(target: string) {
    if (target === '-') {
      this.stream = process.stdout;
      this.ownsStream = false;
    } else {
      this.stream = fs.createWriteStream(target, { flags: 'w', highWaterMark: 1 << 20 });
      this.ownsStream = true;
    }
    this.stream.on('error', (err: Error) => {
      this.failure = err;
    });
  }

  /** Writes lines (each already ending in \n); resolves when the stream can take more. */
  async write(chunk: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    if (!this.stream.write(chunk)) {
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
    if (this.failure) throw this.failure;
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
