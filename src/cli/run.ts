// One CLI run: records from a source, formatted, to the outputs (each with its
// own format and selection) and to a pcap file, with signals, a progress line,
// Prometheus metrics and a summary. Loss anywhere — kernel, ring, output
// queue — is counted and said.
import type { CollectorRecord, GapRecord } from '../records';
import { type CliArgs, fileRotationOfSpec, ipfixOutputOf, type OutputSpec, outputSpecs } from './args';
import { gapMessage, type LineFormatter, type LineWriter, openFormat } from './formats';
import type { IpfixOutput } from './ipfix-output';
import { LatencyHistogram } from './latency';
import { RecordCounts, renderMetrics } from './metrics';
import { NdjsonOutput } from './output';
import { ProgressLine } from './progress';
import { LiveSource, type RecordSource } from './source';
import { YoungGenerationBound } from './young-generation';
import { dropPrivileges, parseUserSpec } from '../privileges';
import { loadTlsFiles } from '../sink/socket';

/** How long close may take to flush a stalled output before giving up on it (--drain-timeout). */
const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** Exit status when the output dropped lines at exit. */
export const EXIT_DROPPED_AT_EXIT = 3;

// What a run may not use is imported when it does: IPFIX, the metrics server and pcap files are a dozen
// modules and node:http, ~10 ms of CPU at every start otherwise.
async function openSource(args: CliArgs, note: (line: string) => void): Promise<RecordSource> {
  if (args.read === undefined) return new LiveSource(args, note);
  const { PcapSource } = await import('./pcap-source');
  return new PcapSource(args.read, {
    labels: args.labels,
    interfaces: args.interfaceNames,
    // Rewriting a capture (--write-pcap) needs each packet's bytes, as live collection does.
    includePayload: args.writePcap !== undefined,
  });
}

/** One output of the run: its sink, its format, and what it takes. */
interface RunOutput {
  output: NdjsonOutput;
  format: LineFormatter;
  write: LineWriter;
  takes: (record: CollectorRecord) => boolean;
}

function takes(spec: OutputSpec): (record: CollectorRecord) => boolean {
  const packets = spec.take.includes('packets');
  const flows = spec.take.includes('flows');
  const gaps = spec.take.includes('gaps');
  const groups = spec.groups.length > 0 ? new Set(spec.groups) : null;
  return (record) =>
    record.kind === 'packet' ? packets && (groups === null || groups.has(record.group)) : record.kind === 'flow' ? flows : gaps;
}

function intervalWanted(args: CliArgs): boolean {
  return (args.statsInterval ?? (process.stderr.isTTY ? 10 : 0)) > 0;
}

/** An output, opened; a system error (a missing directory, no permission) names the --output it is about. */
function openOutput(target: string, options: ConstructorParameters<typeof NdjsonOutput>[1]): NdjsonOutput {
  try {
    return new NdjsonOutput(target, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).syscall === undefined) throw err;
    throw new Error(`--output ${target}: ${(err as Error).message}`, { cause: err });
  }
}

export async function runCollection(args: CliArgs): Promise<number> {
  const stderr = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  // A gap that several line outputs cannot carry is said once.
  let saidGap: GapRecord | null = null;
  const onGap = (gap: GapRecord): void => {
    if (gap !== saidGap) stderr(gapMessage(gap));
    saidGap = gap;
  };
  // Figures for --metrics, served from the start (a port in use fails before anything else is opened).
  const counts = new RecordCounts();
  const fromKernel = new LatencyHistogram();
  const fromReader = new LatencyHistogram();
  let source: RecordSource | undefined;
  const outputs: RunOutput[] = [];
  // IPFIX exporters (format ipfix): flows to a flow collector, beside the line outputs.
  const ipfixOutputs: IpfixOutput[] = [];
  const startTimeSeconds = Date.now() / 1000;
  // With --write-pcap alone there is no line output; the line formats still say gaps on stderr.
  const allSpecs = args.outputs !== undefined || args.output !== undefined || args.writePcap === undefined ? outputSpecs(args) : [];
  const specs = allSpecs.filter((spec) => spec.format !== 'ipfix');
  const ipfixSpecs = allSpecs.filter((spec) => spec.format === 'ipfix');
  // Unreadable TLS files fail first, before the metrics port or any output is opened.
  for (const spec of specs) if (Object.keys(spec.tls).length > 0) loadTlsFiles(spec.tls);
  const metrics =
    args.metrics !== undefined
      ? await (await import('./metrics-server')).MetricsServer.start(args.metrics.host, args.metrics.port, () =>
          renderMetrics({
            collector: source?.summary() ?? {},
            records: counts,
            outputs: [...outputs.map((o) => o.output.stats()), ...ipfixOutputs.map((x) => x.sinkStats())],
            latency: { fromReader, fromKernel },
            startTimeSeconds,
          }),
        )
      : null;
  // Outputs next: a bad path fails before any netlink socket is bound.
  // Reading more than one namespace: log lines say which by default (--log-netns).
  const manyNetns = args.netns.length > 1 || args.allNetns === true;
  try {
    for (const spec of specs) {
      // What every output's documents share: the group labels and, for ECS, the observer and agent identity.
      const { labels, observerHostname, observerName, observerIps, agentName, agentIdFile } = args;
      const formatArgs = {
        ...spec,
        labels,
        observerHostname,
        observerName,
        observerIps,
        agentName,
        agentIdFile,
        logNetns: args.logNetns,
        manyNetns,
      };
      const { format, write } = openFormat(formatArgs, onGap);
      const options = {
        queueBytes: spec.outputQueue,
        syslog: spec.syslog,
        tls: spec.tls,
        fileMode: args.fileMode,
        fileRotate: fileRotationOfSpec(spec),
        onError: stderr,
      };
      outputs.push({
        output: openOutput(spec.output ?? '-', options),
        format,
        write,
        takes: takes(spec),
      });
    }
    for (const spec of ipfixSpecs) {
      const { target, options } = ipfixOutputOf(spec);
      ipfixOutputs.push(
        new (await import('./ipfix-output')).IpfixOutput(target, options, {
          queueBytes: spec.outputQueue,
          onError: (m) => stderr(`netfilter-collector: IPFIX collector ${spec.output}: ${m}`),
        }),
      );
    }
  } catch (err) {
    for (const o of outputs) await o.output.close(0);
    for (const x of ipfixOutputs) await x.close(0);
    await metrics?.close();
    throw err;
  }
  const pcap = args.writePcap !== undefined ? new (await import('./pcap-output')).PcapFileOutput(args.writePcap) : null;
  try {
    source = await openSource(args, stderr);
  } catch (err) {
    for (const o of outputs) await o.output.close(0);
    for (const x of ipfixOutputs) await x.close(0);
    await pcap?.close();
    await metrics?.close();
    throw err;
  }
  const opened = source;
  if (args.user !== undefined) {
    // The sockets (and the outputs) are open: nothing more needs privilege, apart from resync dumps.
    try {
      const dropped = dropPrivileges(parseUserSpec(args.user));
      if (args.stats || intervalWanted(args))
        stderr(
          `netfilter-collector: running as uid ${dropped.uid}, gid ${dropped.gid}, no capabilities (${dropped.threads} threads checked)`,
        );
    } catch (err) {
      // The process may be half-dropped: stop here.
      source.close();
      for (const o of outputs) await o.output.close(0);
      for (const x of ipfixOutputs) await x.close(0);
      await pcap?.close();
      await metrics?.close();
      throw err;
    }
  }

  let events = 0;
  // Latency from the kernel's timestamp (when the packet has one: received packets, not locally sent ones),
  // and from the reader thread's receive time (always): the second leaves out the kernel's batching.
  let idleTimer: NodeJS.Timeout | undefined;
  let signalled: string | null = null;
  const stop = (signal: NodeJS.Signals): void => {
    signalled = signal;
    opened.close();
    // A stalled stdout or file must not keep us from exiting.
    for (const o of outputs) o.output.stopWaiting();
  };
  const reopen = (): void => {
    for (const o of outputs) {
      try {
        o.output.reopen();
      } catch (err) {
        stderr(
          `netfilter-collector: SIGHUP: cannot reopen ${o.output.stats().target}: ${(err as Error).message}; still writing to the old file`,
        );
      }
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
          const c = opened.counters();
          const o = outputs.map((each) => each.output.stats());
          const x = ipfixOutputs.map((each) => each.stats());
          stderr(
            progress.line(Date.now(), {
              events,
              lost: c.lost,
              lossUncounted: c.lossUncounted,
              outputDropped: o.reduce((sum, each) => sum + each.droppedLines, 0) + x.reduce((sum, each) => sum + each.droppedRecords, 0),
              outputQueued: o.reduce((sum, each) => sum + each.queuedBytes, 0) + x.reduce((sum, each) => sum + each.queuedBytes, 0),
              ringPending: c.pending,
            }),
          );
        }, intervalS * 1000)
      : undefined;
  progressTimer?.unref();

  const drainMs = args.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  // Events beyond --max-events: received, and deliberately not written.
  let skipped = 0;
  const closeReports: Array<Awaited<ReturnType<NdjsonOutput['close']>>> = [];
  let ipfixCloses: Array<Awaited<ReturnType<IpfixOutput['close']>>> = [];
  const counting = metrics !== null;
  const youngGeneration = new YoungGenerationBound();
  try {
    for await (const batch of opened.batches()) {
      youngGeneration.check();
      const batchMs = Date.now();
      for (const record of batch) {
        if (record.kind !== 'gap') {
          if (args.maxEvents !== undefined && events >= args.maxEvents) {
            skipped++;
            continue;
          }
          events++;
        }
        if (counting) counts.count(record);
        let taken = false;
        for (const o of outputs) {
          if (!o.takes(record)) continue;
          o.write(record, o.output.lines);
          taken = true;
        }
        for (const x of ipfixOutputs) x.write(record, batchMs);
        // A gap no line output takes (--write-pcap only, ipfix, outputs without gaps) is still said on stderr.
        if (!taken && record.kind === 'gap') onGap(record);
      }
      if (pcap) await pcap.write(batch);
      if (outputs.length === 1) await outputs[0].output.flush();
      else if (outputs.length > 1) await Promise.all(outputs.map((o) => o.output.flush()));
      for (const x of ipfixOutputs) x.flush();
      // Latency of the events just written (µs clocks of the same host); a capture's are history.
      const nowUs = Date.now() * 1000;
      if (args.read === undefined)
        for (const record of batch) {
          if (record.kind === 'gap') continue;
          fromReader.record(nowUs - record.receivedUs);
          if (record.kind === 'packet' && record.kernelTimestamp) fromKernel.record(nowUs - record.timestampUs);
        }
      if (args.maxEvents !== undefined && events >= args.maxEvents) opened.close();
      if (args.idleExitMs !== undefined && events > 0) {
        if (idleTimer) idleTimer.refresh();
        else idleTimer = setTimeout(() => opened.close(), args.idleExitMs);
      }
    }
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    if (progressTimer) clearInterval(progressTimer);
    opened.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('SIGHUP', reopen);
    // Each output gets the whole deadline, at the same time.
    closeReports.push(...(await Promise.all(outputs.map((o) => o.output.close(drainMs)))));
    ipfixCloses = await Promise.all(ipfixOutputs.map((x) => x.close(drainMs)));
    await pcap?.close();
    await metrics?.close();
  }

  const counters = opened.counters();
  if (opened.failure() !== null) {
    stderr(`netfilter-collector: ${args.read}: ${opened.failure()}`);
  }
  if (counters.lossUncounted) {
    stderr('netfilter-collector: the kernel dropped entries (ENOBUFS) that no later entry has counted yet; "lost" is a lower bound');
  }
  const outputStats = outputs.map((o) => o.output.stats());
  const which = (i: number): string => (outputs.length > 1 ? `output ${outputStats[i].target}` : 'output');
  outputStats.forEach((stats, i) => {
    if (stats.droppedLines > 0)
      stderr(`netfilter-collector: the ${which(i)} dropped ${stats.droppedLines} lines (${stats.droppedBytes} bytes) it could not deliver`);
  });
  const ipfixStats = ipfixOutputs.map((x) => x.stats());
  ipfixStats.forEach((x, i) => {
    const whichIpfix = ipfixStats.length > 1 ? `IPFIX output ${x.target}` : 'IPFIX output';
    if (x.droppedRecords > 0) {
      const reasons = Object.entries(x.dropped)
        .filter(([, d]) => d.records > 0 || d.messages > 0)
        .map(([reason, d]) => `${d.records} ${reason}`)
        .join(', ');
      const atExit = ipfixCloses[i];
      stderr(
        `netfilter-collector: the ${whichIpfix} could not deliver ${x.droppedRecords} data records in ${x.droppedMessages} messages (${reasons})` +
          (atExit && !atExit.complete ? ` (${atExit.droppedRecords} at exit, after ${drainMs} ms)` : ''),
      );
    }
    if (x.unencodable > 0) {
      stderr(`netfilter-collector: ${x.unencodable} flow records had no IPFIX form (a tuple or address missing) and were not exported`);
    }
  });
  closeReports.forEach((report, i) => {
    if (report.complete) return;
    stderr(
      `netfilter-collector: ${signalled ?? 'exit'}: gave up on ${report.droppedLines} lines (${report.droppedBytes} bytes) ` +
        `the ${which(i)} could not take within ${drainMs} ms (--drain-timeout)` +
        (report.tornLines ? '; the reader had taken part of the last line and nothing more: that line is cut' : ''),
    );
  });
  if (args.stats) {
    const summary = opened.summary();
    const latencyMs = { fromKernel: fromKernel.summary() ?? undefined, fromReader: fromReader.summary() ?? undefined };
    const pcapStats = pcap ? { path: pcap.path, ...pcap.writer.counters } : undefined;
    // One output: "output" as before; several: "outputs", a list.
    const outputFigures = outputStats.length > 1 ? { outputs: outputStats } : { output: outputStats[0] };
    // IPFIX likewise: "ipfix" for one exporter, "ipfixOutputs" for several.
    const ipfixFigures = ipfixStats.length > 1 ? { ipfixOutputs: ipfixStats } : { ipfix: ipfixStats[0] };
    // The collector's own counts (delivered = consumed + discarded), then what this run wrote: written
    // events, and those beyond --max-events (received, deliberately not written).
    stderr(JSON.stringify({ ...summary, written: events, skipped, ...outputFigures, ...ipfixFigures, pcap: pcapStats, latencyMs }));
  }
  // A capture that could not be read to its end is an error, after what it held was written.
  const droppedAtExit = closeReports.some((report) => report.droppedLines > 0);
  const status = opened.failure() !== null ? 1 : droppedAtExit ? EXIT_DROPPED_AT_EXIT : 0;
  // A write stuck in a stalled socket keeps Node alive: leave anyway, it has been counted and said.
  if (closeReports.some((report) => report.writeStuck)) process.exit(status);
  return status;
}
