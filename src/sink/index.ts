// Output sinks for NDJSON lines: `openSink(parseSinkTarget('--output value'), options)`.
import { FileSink } from './file';
import type { Sink } from './sink';
import { SocketSink, type SocketSinkOptions } from './socket';
import { StdoutSink } from './stdout';
import type { SinkTarget } from './target';

export type SinkOptions = SocketSinkOptions;

/** Opens a sink; a file that cannot be opened throws here. Sockets connect in the background. */
export function openSink(target: SinkTarget, options: SinkOptions = {}): Sink {
  switch (target.kind) {
    case 'stdout':
      return new StdoutSink();
    case 'file':
      return new FileSink(target.path);
    case 'unix':
    case 'tcp':
      return new SocketSink(target, options);
  }
}

export type { Sink } from './sink';
export { DEFAULT_QUEUE_BYTES } from './sink';
export { LineEncoder, type LineChunk, type LineTarget } from '../format/line-target';
export { parseSinkTarget, describeSinkTarget, type SinkTarget } from './target';
export type { DropReason, LineCount, SinkCloseReport, SinkStats } from './stats';
export type { SocketSinkOptions } from './socket';
