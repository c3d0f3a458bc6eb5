// NDJSON to the process's stdout: backpressure from the pipe or terminal, and
// never closed (the process may still print after the collector stops).
import { StreamSink } from './stream';

export class StdoutSink extends StreamSink {
  constructor() {
    super('-', process.stdout);
  }

  protected finish(): Promise<void> {
    return Promise.resolve();
  }

  protected abandon(): boolean {
    // A write to a pipe nobody reads never completes, and Node waits for it
    // before exiting: the caller decides whether to exit anyway.
    return true;
  }
}
