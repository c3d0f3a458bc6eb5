// --format ipfix: flow records encoded as IPFIX messages (src/ipfix/) and
// sent to a collector (src/sink/ipfix.ts), once per batch.
import { IpfixEncoder, type IpfixEncoderCounters, maxMessageBytes } from '../ipfix/encoder';
import type { ResolvedIpfixOptions } from '../ipfix/options';
import type { CollectorRecord } from '../records';
import { IpfixSink, type IpfixSinkStats, type IpfixTarget } from '../sink/ipfix';
import { emptyDrops, type SinkStats } from '../sink/stats';

export interface IpfixOutputStats extends IpfixSinkStats, IpfixEncoderCounters {}

export class IpfixOutput {
  readonly encoder: IpfixEncoder;
  private readonly sink: IpfixSink;

  constructor(
    target: IpfixTarget,
    options: ResolvedIpfixOptions,
    sinkOptions: { queueBytes?: number; onError?: (message: string) => void } = {},
  ) {
    // Over TCP the templates go once per connection (RFC 7011 §8.3): no periodic refresh.
    const resolved = target.transport === 'tcp' ? { ...options, templateRefreshMs: Number.POSITIVE_INFINITY } : options;
    this.encoder = new IpfixEncoder(resolved, maxMessageBytes(options.mtu, target.host.includes(':')));
    this.sink = new IpfixSink(target, {
      queueBytes: sinkOptions.queueBytes,
      onError: sinkOptions.onError,
      onSession: () => {
        this.encoder.newSession();
        return this.encoder.templateMessage(Date.now());
      },
    });
  }

  /** Encodes a flow record (packets have no IPFIX form here; gaps go to stderr). */
  write(record: CollectorRecord, nowMs: number): void {
    if (record.kind === 'flow') this.encoder.add(record, nowMs);
  }

  /** Hands the messages encoded so far to the transport (never waits). */
  flush(): void {
    this.sink.send(this.encoder.take(Date.now()));
  }

  async close(deadlineMs: number): Promise<{ complete: boolean; droppedRecords: number }> {
    this.flush();
    const tcp = this.sink.target.transport === 'tcp';
    return this.sink.close(deadlineMs, tcp ? this.encoder.withdrawalMessage(Date.now()) : undefined);
  }

  stats(): IpfixOutputStats {
    return { ...this.encoder.counters, ...this.sink.stats() };
  }

  /**
   * The same figures as every output's, for --metrics: a line is a message here. Drops map onto the
   * line outputs' reasons: refused (port unreachable) → noReceiver, sendError → writeError.
   */
  sinkStats(): SinkStats {
    const s = this.sink.stats();
    const dropped = emptyDrops();
    const add = (to: keyof typeof dropped, from: keyof typeof s.dropped): void => {
      dropped[to].lines += s.dropped[from].messages;
      dropped[to].bytes += s.dropped[from].bytes;
    };
    add('queueFull', 'queueFull');
    add('noReceiver', 'refused');
    add('writeError', 'sendError');
    add('connectionLost', 'connectionLost');
    add('closeDeadline', 'closeDeadline');
    let droppedBytes = 0;
    for (const d of Object.values(s.dropped)) droppedBytes += d.bytes;
    return {
      target: s.target,
      connected: s.connected,
      writtenLines: s.sentMessages,
      writtenBytes: s.sentBytes,
      queuedBytes: s.queuedBytes,
      queueLimitBytes: s.queueLimitBytes,
      droppedLines: s.droppedMessages,
      droppedBytes,
      dropped,
      reconnects: s.reconnects,
      connectFailures: 0,
      reopens: 0,
      lastError: s.lastError,
    };
  }
}
