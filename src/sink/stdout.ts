// NDJSON to the process's stdout, never closed (the process may still print
// after the collector stops). A pipe is reopened through /proc/self/fd/1 as a
// description of our own, non-blocking, so partial writes are seen (the shell's
// description keeps its flags); a socket is non-blocking already once Node has
// opened process.stdout on it; a file or a terminal is written as it is.
import * as fs from 'node:fs';
import { FdSink, PIPE_ATOMIC_BYTES, SOCKET_ATOMIC_BYTES } from './fd';

function openStdout(): { fd: number; own: boolean; atomicBytes: number } {
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(1);
  } catch {
    return { fd: 1, own: false, atomicBytes: 0 };
  }
  if (stat.isFIFO()) {
    try {
      return {
        fd: fs.openSync('/proc/self/fd/1', fs.constants.O_WRONLY | fs.constants.O_NONBLOCK),
        own: true,
        atomicBytes: PIPE_ATOMIC_BYTES,
      };
    } catch {
      // No /proc: fd 1 as it is, non-blocking once Node opens process.stdout on it (libuv sets it).
      void process.stdout;
      return { fd: 1, own: false, atomicBytes: PIPE_ATOMIC_BYTES };
    }
  }
  // A socket (node's stdio pipes are socketpairs): non-blocking once Node has opened process.stdout on it.
  if (stat.isSocket()) {
    void process.stdout;
    return { fd: 1, own: false, atomicBytes: SOCKET_ATOMIC_BYTES };
  }
  return { fd: 1, own: false, atomicBytes: 0 };
}

export class StdoutSink extends FdSink {
  private readonly own: boolean;

  constructor() {
    const { fd, own, atomicBytes } = openStdout();
    super('-', fd, atomicBytes);
    this.own = own;
  }

  protected release(): void {
    if (this.own) fs.closeSync(this.fd);
  }
}
