// One CLI run: records from a source, formatted, to the output (and to a pcap
// file), with signals, a progress line and a summary. Loss anywhere — kernel,
// ring, output queue — is counted and said.
import type { GapRecord } from '../records';
import type { CliArgs } from './args';
import { gapMessage, lineFormatter, lineWriter } from './formats';
import { IpfixOutput } from './ipfix-output';
import { LatencyHistogram } from './latency';
import { NdjsonOutput } from './output';
import { ProgressLine } from './progress';
import { PcapFileOutput } from './pcap-output';
import { PcapSource } from './pcap-source';
import { LiveSource, type RecordSource } from './source';
import { dropPrivileges, parseUserSpec } from '../privileges';

/** How long close may take to flush a stalled output before giving up on it (--drain-timeout). */
const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** Exit status when the output dropped lines at exit. */
export const EXIT_DROPPED_AT_EXIT = 3;

function openSource(args: CliArgs): RecordSource {
  if (args.read === undefined) return new LiveSource(args);
  return new PcapSource(args.read, {
    labels: args.labels,
    interfaces: args.interfaceNames,
    // Rewriting a capture (--write-pcap) needs each packet's bytes, as live collection does.
    includePayload: args.writePcap !== undefined,
  });
}

function intervalWanted(args: CliArgs): boolean {
  return (args.statsInterval ?? (process.stderr.isTTY ? 10 : 0)) > 0;
}

export async function runCollection(args: CliArgs): Promise<number> {
  const stderr = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const onGap = (gap: GapRecord): void => stderr(gapMessage(gap));
  const format = lineFormatter(args, onGap);
  const write = lineWriter(args, format);
  // Outputs first: a bad path fails before any socket is bound.
  const ipfix =
    args.ipfixTarget && args.ipfix
      ? new IpfixOutput(args.ipfixTarget, args.ipfix, { queueBytes: args.outputQueue, onError: (m) => stderr(`netfilter-collector: IPFIX collector ${args.output}: ${m}`) })
      : null;
  const output =
    ipfix === null && (args.output !== undefined || args.writePcap === undefined)
      ? new NdjsonOutput(args.output ?? '-', { queueBytes: args.outputQueue, syslog: args.syslog, tls: args.tls, onError: stderr })
      : null;
  const pcap = args.writePcap !== undefined ? new PcapFileOutput(args.writePcap) : null;
  const source = openSource(args);
  if (args.user !== undefined) {
    // The sockets (and the outputs) are open: nothing more needs privilege, apart from resync dumps.
    try {
      const dropped = dropPrivileges(parseUserSpec(args.user));
      if (args.stats || intervalWanted(args)) stderr(`netfilter-collector: running as uid ${dropped.uid}, gid ${dropped.gid}, no capabilities (${dropped.threads} threads checked)`);
    } catch (err) {
      // The process may be half-dropped: stop here.
      source.close();
      await output?.close(0);
      await ipfix?.close(0);
      await pcap?.close();
      throw err;
    }
  }

  let events = 0;
  // From the kernel's timestamp (when the packet has one: received packets, not locally sent ones),
  // and from the reader thread's receive time (always): the second leaves out the kernel's batching.
  const fromKernel = new LatencyHistogram();
  const fromReader = new LatencyHistogram();
  let idleTimer: NodeJS.Timeout | undefined;
  let signalled: string | null = null;
  const stop = (signal: NodeJS.Signals): void => {
    signalled = signal;
    source.close();
    // A stalled stdout or file must not keep us from exiting.
    output?.stopWaiting();
  };
  const reopen = (): void => {
    try {
      output?.reopen();
    } catch (err) {
      stderr(`netfilter-collector: SIGHUP: cannot reopen the output: ${(err as Error).message}; still writing to the old file`);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', reopen);

  const intervalS = intervalWanted(args) ? (args.statsInterval ?? 10) : 0;
  const progress = new ProgressLine(Date.now());
  const progressTimer =
    intervalS > 0
      ? setInterval(() => {
          const c = source.counters();
          const o = output?.stats();
          const x = ipfix?.stats();
          stderr(
            progress.line(Date.now(), {
              events,
              lost: c.lost,
              lossUncounted: c.lossUncounted,
              outputDropped: o?.droppedLines ?? x?.droppedRecords ?? 0,
              outputQueued: o?.queuedBytes ?? x?.queuedBytes ?? 0,
              ringPending: c.pending,
            }),
          );
        }, intervalS * 1000)
      : undefined;
  progressTimer?.unref();

  const drainMs = args.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  // Events beyond --max-events: received, and deliberately not written.
  let skipped = 0;
  let closeReport: Awaited<ReturnType<NdjsonOutput['close']>> | undefined;
  let ipfixClose: Awaited<ReturnType<IpfixOutput['close']>> | undefined;
  try {
    for await (const batch of source.batches()) {
      const batchMs = Date.now();
      for (const record of batch) {
        if (record.kind !== 'gap') {
          if (args.maxEvents !== undefined && events >= args.maxEvents) {
            skipped++;
            continue;
          }
          events++;
        }
        if (output) write(record, output.lines);
        else if (ipfix && record.kind !== 'gap') ipfix.write(record, batchMs);
        // Without an output (--write-pcap only) and with ipfix, gaps are reported on stderr.
        else if (record.kind === 'gap') format(record);
      }
      if (pcap) await pcap.write(batch);
      if (output) await output.flush();
      ipfix?.flush();
      // Latency of the events just written (µs clocks of the same host); a capture's are history.
      const nowUs = Date.now() * 1000;
      if (args.read === undefined) for (const record of batch) {
        if (record.kind === 'gap') continue;
        fromReader.record(nowUs - record.receivedUs);
        if (record.kind === 'packet' && record.kernelTimestamp) fromKernel.record(nowUs - record.timestampUs);
      }
      if (args.maxEvents !== undefined && events >= args.maxEvents) source.close();
      if (args.idleExitMs !== undefined && events > 0) {
        if (idleTimer) idleTimer.refresh();
        else idleTimer = setTimeout(() => source.close(), args.idleExitMs);
      }
    }
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    if (progressTimer) clearInterval(progressTimer);
    source.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('SIGHUP', reopen);
    closeReport = await output?.close(drainMs);
    ipfixClose = await ipfix?.close(drainMs);
    await pcap?.close();
  }

  const counters = source.counters();
  if (source instanceof PcapSource && source.failure() !== null) {
    stderr(`netfilter-collector: ${args.read}: ${source.failure()}`);
  }
  if (counters.lossUncounted) {
    stderr('netfilter-collector: the kernel dropped entries (ENOBUFS) that no later entry has counted yet; "lost" is a lower bound');
  }
  const outputStats = output?.stats();
  if (outputStats && outputStats.droppedLines > 0) {
    stderr(`netfilter-collector: the output dropped ${outputStats.droppedLines} lines (${outputStats.droppedBytes} bytes) it could not deliver`);
  }
  const ipfixStats = ipfix?.stats();
  if (ipfixStats && ipfixStats.droppedRecords > 0) {
    const reasons = Object.entries(ipfixStats.dropped)
      .filter(([, d]) => d.records > 0 || d.messages > 0)
      .map(([reason, d]) => `${d.records} ${reason}`)
      .join(', ');
    stderr(
      `netfilter-collector: the IPFIX output could not deliver ${ipfixStats.droppedRecords} data records in ${ipfixStats.droppedMessages} messages (${reasons})` +
        (ipfixClose && !ipfixClose.complete ? ` (${ipfixClose.droppedRecords} at exit, after ${drainMs} ms)` : ''),
    );
  }
  if (ipfixStats && ipfixStats.unencodable > 0) {
    stderr(`netfilter-collector: ${ipfixStats.unencodable} flow records had no IPFIX form (a tuple or address missing) and were not exported`);
  }
  if (closeReport && !closeReport.complete) {
    stderr(
      `netfilter-collector: ${signalled ?? 'exit'}: gave up on ${closeReport.droppedLines} lines (${closeReport.droppedBytes} bytes) ` +
        `the output could not take within ${drainMs} ms (--drain-timeout)` +
        (closeReport.tornLines ? '; the reader had taken part of the last line and nothing more: that line is cut' : ''),
    );
  }
  if (args.stats) {
    const summary = source.summary();
    const latencyMs = { fromKernel: fromKernel.summary() ?? undefined, fromReader: fromReader.summary() ?? undefined };
    const pcapStats = pcap ? { path: pcap.path, ...pcap.writer.counters } : undefined;
    // The collector's own counts (delivered = consumed + discarded), then what this run wrote: written
    // events, and those beyond --max-events (received, deliberately not written).
    stderr(JSON.stringify({ ...summary, written: events, skipped, output: outputStats, ipfix: ipfixStats, pcap: pcapStats, latencyMs }));
  }
  // A capture that could not be read to its end is an error, after what it held was written.
  const status = source instanceof PcapSource && source.failure() !== null ? 1 : closeReport && closeReport.droppedLines > 0 ? EXIT_DROPPED_AT_EXIT : 0;
  // A write stuck in a stalled socket keeps Node alive: leave anyway, it has been counted and said.
  if (closeReport?.writeStuck) process.exit(status);
  return status;
}
