// NDJSON appended to a file, reopened on request (SIGHUP after logrotate has
// renamed it). A reopen switches files at a line boundary: lines written
// before it finish in the old (renamed) file, lines after it go to a new file
// at the path. A FIFO is opened non-blocking (see fd.ts).
import * as fs from 'node:fs';
import { FdSink, openAppendFd } from './fd';

export class FileSink extends FdSink {
  constructor(private readonly path: string) {
    // Opened synchronously so that a bad path fails here, with its error.
    const { fd, atomicBytes } = openAppendFd(path);
    super(path, fd, atomicBytes);
  }

  override reopen(): void {
    if (this.closed) return;
    const next = openAppendFd(this.path);
    const previous = this.switchFd(next.fd, next.atomicBytes);
    this.reopens++;
    fs.closeSync(previous);
  }

  protected release(): void {
    fs.closeSync(this.fd);
  }
}
