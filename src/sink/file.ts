// NDJSON appended to a file, reopened on request (SIGHUP after logrotate has
// renamed it). Each write is a chunk of whole lines, so a reopen never splits
// a line: lines written before it finish in the old (renamed) file, lines after
// it go to a new file at the path.
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { StreamSink } from './stream';

const HIGH_WATER_BYTES = 1 << 20;

function openAppend(path: string): Writable {
  // Opened synchronously so that a bad path fails here, with its error, not later on the stream.
  const fd = fs.openSync(path, 'a');
  return fs.createWriteStream(path, { fd, highWaterMark: HIGH_WATER_BYTES });
}

export class FileSink extends StreamSink {
  constructor(private readonly path: string) {
    super(path, openAppend(path));
  }

  override reopen(): void {
    if (this.closed) return;
    const next = openAppend(this.path);
    const previous = this.stream;
    this.stream = next;
    this.watch(next);
    this.reopens++;
    // The old file takes the lines it already has, then closes.
    previous.end();
    // A ready() waiting on the old file's 'drain' would wait forever: the new file takes lines now.
    this.wakeWaiter();
  }

  protected finish(): Promise<void> {
    const stream = this.stream;
    return new Promise<void>((resolve) => {
      if (stream.closed || stream.destroyed) return resolve();
      stream.once('close', () => resolve());
      stream.end();
    });
  }

  protected abandon(): boolean {
    this.stream.destroy();
    return false;
  }
}
