#!/usr/bin/env node
// `netfilter-collector`: NFLOG groups to NDJSON.
import { createCollector, type Collector } from '../collector';
import { packetToEcsJson } from '../ecs/packet-json';
import { gapToEcs } from '../ecs/gap';
import { flowToEcsJson } from '../ecs/flow';
import type { CollectorRecord } from '../records';
import { HELP, parseArgs, type CliArgs } from './args';
import { NdjsonOutput } from './output';
import { LatencyHistogram } from './latency';

function formatter(args: CliArgs): (record: CollectorRecord) => string {
  if (args.format === 'record') return (record) => JSON.stringify(record);
  const labels: Record<number, string> = Object.fromEntries(args.labels);
  const options = { groupLabels: labels };
  return (record) =>
    record.kind === 'packet'
      ? packetToEcsJson(record, options)
      : record.kind === 'flow'
        ? flowToEcsJson(record)
        : JSON.stringify(gapToEcs(record));
}

async function run(args: CliArgs): Promise<number> {
  const collector: Collector = createCollector({
    nflog: args.nflog.map((group) => ({ group, label: args.labels.get(group) })),
    conntrack: args.conntrack,
    netns: args.netns,
    qthreshold: args.qthreshold,
    flushTimeoutMs: args.flushTimeoutMs,
    copyRange: args.copyRange,
    socketBuffer: args.socketBuffer,
    ringSize: args.ringSize,
  });
  const output = new NdjsonOutput(args.output);
  const format = formatter(args);
  let events = 0;
  // From the kernel's timestamp (when the packet has one: received packets, not locally sent ones),
  // and from the reader thread's receive time (always): the second leaves out the kernel's batching.
  const fromKernel = new LatencyHistogram();
  const fromReader = new LatencyHistogram();
  let idleTimer: NodeJS.Timeout | undefined;
  const stop = (): void => collector.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  try {
    for await (const batch of collector.batches()) {
      for (const record of batch) {
        if (record.kind !== 'gap') {
          if (args.maxEvents !== undefined && events >= args.maxEvents) continue;
          events++;
        }
        output.line(format(record));
      }
      await output.flush();
      // Latency of the events just written (µs clocks of the same host).
      const nowUs = Date.now() * 1000;
      for (const record of batch) {
        if (record.kind === 'gap') continue;
        fromReader.record(nowUs - record.receivedUs);
        if (record.kind === 'packet' && record.kernelTimestamp) fromKernel.record(nowUs - record.timestampUs);
      }
      if (args.maxEvents !== undefined && events >= args.maxEvents) collector.close();
      if (args.idleExitMs !== undefined && events > 0) {
        if (idleTimer) idleTimer.refresh();
        else idleTimer = setTimeout(stop, args.idleExitMs);
      }
    }
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    collector.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await output.close();
  }
  const final = collector.stats();
  if (final.lossUncounted) {
    process.stderr.write(
      'netfilter-collector: the kernel dropped entries (ENOBUFS) that no later entry has counted yet; "lost" is a lower bound\n',
    );
  }
  if (args.stats) {
    const stats = final;
    // Events cut off by --max-events were received but deliberately not written.
    const latencyMs = { fromKernel: fromKernel.summary() ?? undefined, fromReader: fromReader.summary() ?? undefined };
    process.stderr.write(JSON.stringify({ ...stats, delivered: events, received: stats.delivered, latencyMs }) + '\n');
  }
  return 0;
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`netfilter-collector: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  if (args.version) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    process.stdout.write(`${(require('../../package.json') as { version: string }).version}\n`);
    return;
  }
  try {
    process.exitCode = await run(args);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    process.stderr.write(message.startsWith('netfilter-collector') ? `${message}\n` : `netfilter-collector: ${message}\n`);
    process.exitCode = 1;
  }
}

void main();
