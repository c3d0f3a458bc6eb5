// Output sinks for lines: `openSink(parseSinkTarget('--output value'), options)`.
import * as os from 'node:os';
import { SYSLOG_DEFAULTS, SyslogFramer, type SyslogFraming, type SyslogHeaderOptions } from '../format/syslog';
import { DatagramSink } from './datagram';
import { FileSink, type FileRotation } from './file';
import type { Sink } from './sink';
import { SocketSink, type SocketSinkOptions } from './socket';
import { StdoutSink } from './stdout';
import { describeSinkTarget, type SinkTarget } from './target';

export interface SyslogSinkOptions extends Partial<SyslogHeaderOptions> {
  /** Stream transports (tcp, tls): RFC 6587 octet counting (default) or LF-terminated. */
  framing?: SyslogFraming;
  /** Datagram transports (udp, unix): longest message, header included; longer ones are cut (counted). */
  maxMessageBytes?: number;
}

export interface SinkOptions extends SocketSinkOptions {
  syslog?: SyslogSinkOptions;
  /** Permissions of an output file the collector creates. Default 0640. */
  fileMode?: number;
  /** Rotate an output file by size (fileRotationOf checks the figures). */
  fileRotate?: FileRotation;
}

/** The syslog header options with the defaults filled in (this host's name). */
export function syslogHeaderOptions(options: SyslogSinkOptions = {}): SyslogHeaderOptions {
  return {
    protocol: options.protocol ?? SYSLOG_DEFAULTS.protocol,
    facility: options.facility ?? SYSLOG_DEFAULTS.facility,
    severity: options.severity ?? SYSLOG_DEFAULTS.severity,
    // The short name, as syslogd writes its own.
    hostname: options.hostname ?? os.hostname().split('.')[0],
    appName: options.appName ?? SYSLOG_DEFAULTS.appName,
  };
}

/** Opens a sink; a file or TLS file that cannot be read throws here. Sockets connect in the background. */
export function openSink(target: SinkTarget, options: SinkOptions = {}): Sink {
  switch (target.kind) {
    case 'stdout':
      return new StdoutSink();
    case 'file':
      return new FileSink(target.path, { mode: options.fileMode, rotate: options.fileRotate, onError: options.onError });
    case 'unix':
    case 'tcp':
    case 'tls':
      return new SocketSink(target, options);
    case 'syslog': {
      const t = target.transport;
      const framer = new SyslogFramer({ ...syslogHeaderOptions(options.syslog), local: t.kind === 'unix' });
      const name = describeSinkTarget(target);
      if (t.kind === 'udp' || t.kind === 'unix') {
        return new DatagramSink(name, t, framer, { ...options, maxMessageBytes: options.syslog?.maxMessageBytes });
      }
      const framing = options.syslog?.framing ?? 'octet-counting';
      return new SocketSink(t, options, name, {
        frame: (lines) => framer.frameStream(lines, framing),
        octetCounting: framing === 'octet-counting',
      });
    }
  }
}

export type { Sink } from './sink';
export { DEFAULT_QUEUE_BYTES } from './sink';
export { LineEncoder, type LineChunk, type LineTarget } from '../format/line-target';
export { parseSinkTarget, describeSinkTarget, type SinkTarget } from './target';
export type { DropReason, LineCount, SinkCloseReport, SinkStats } from './stats';
export type { SocketSinkOptions, TlsClientOptions } from './socket';
export { fileRotationOf, DEFAULT_ROTATE_KEEP, type FileRotation } from './file';
