// The CLI's output formats: one function per format from a record to one
// line. Gaps have no place in the kernel's or ulogd's line formats, so those
// formats report them on stderr instead (loss is never silent).
import { EcsPacketLines } from '../ecs/packet-json';
import type { EcsOptions } from '../ecs/packet';
import { gapText, gapToEcsJson } from '../ecs/gap';
import { EcsFlowLines } from '../ecs/flow-json';
import { agentIdFromFile } from '../ecs/identity';
import { packetToLogLine, type LogLineOptions } from '../format/log-line';
import { packetToLogemuLine } from '../format/logemu';
import { packetToUlogdJson } from '../format/ulogd-packet';
import { flowToUlogdJson } from '../format/ulogd-flow';
import * as os from 'node:os';
import type { CollectorRecord, GapRecord } from '../records';
import type { CliArgs, LogFlag } from './args';
import type { LineTarget } from '../format/line-target';

type FormatArgs = Pick<
  CliArgs,
  | 'format'
  | 'labels'
  | 'logFlags'
  | 'logemuHostname'
  | 'logNetns'
  | 'observerHostname'
  | 'observerName'
  | 'observerIps'
  | 'agentName'
  | 'agentIdFile'
> & {
  /** Reading more than one namespace: log lines then say which by default. */
  manyNetns?: boolean;
};

/** The ECS options of the CLI's documents: packets, flows and gaps alike. Throws when --agent-id-file cannot be read or made. */
export function ecsOptions(args: FormatArgs): EcsOptions {
  const options: EcsOptions = { groupLabels: Object.fromEntries(args.labels) as Record<number, string> };
  const observer: NonNullable<EcsOptions['observer']> = {};
  if (args.observerHostname !== undefined) observer.hostname = args.observerHostname;
  if (args.observerName !== undefined) observer.name = args.observerName;
  if (args.observerIps !== undefined) observer.ip = args.observerIps;
  options.observer = observer;
  const agent: NonNullable<EcsOptions['agent']> = {};
  if (args.agentName !== undefined) agent.name = args.agentName;
  if (args.agentIdFile !== undefined) agent.id = agentIdFromFile(args.agentIdFile);
  options.agent = agent;
  return options;
}

/** The ECS line writers of one run: one options object, so the identity is resolved once. */
class EcsLines {
  readonly packets: EcsPacketLines;
  readonly flows: EcsFlowLines;
  constructor(readonly options: EcsOptions) {
    this.packets = new EcsPacketLines(options);
    this.flows = new EcsFlowLines(options);
  }
}

/**
 * The lines of `format` (lineFormatter's, for the same args), put into the
 * output. ECS packet lines are written straight into the output's buffer:
 * after a shape's first packets, no string is made for them at all.
 */
export function lineWriter(args: FormatArgs, format: LineFormatter): LineWriter {
  const toLines: LineWriter = (record, to) => {
    const line = format(record);
    if (line !== null) to.line(line);
  };
  if (args.format !== 'ecs') return toLines;
  const ecs = new EcsLines(ecsOptions(args));
  return (record, to) => {
    if (record.kind === 'packet') ecs.packets.writeLine(record, to);
    else if (record.kind === 'flow') ecs.flows.writeLine(record, to);
    else to.line(gapToEcsJson(record, ecs.options));
  };
}

/** A line for the output, or null when the record goes elsewhere (a gap on stderr). */
export type LineFormatter = (record: CollectorRecord) => string | null;

/** Puts a record's line (if it has one) into the output's lines. */
export type LineWriter = (record: CollectorRecord, to: LineTarget) => void;

/** How a gap reads on stderr. */
export function gapMessage(gap: GapRecord): string {
  return `netfilter-collector: ${gapText(gap)}`;
}

/**
 * How a log line says its namespace: netns=NAME and a space before the rule's prefix, where LOG-line
 * parsers take free text (everything before IN=). Spaces in a name (a path could have them) become _.
 */
export function netnsPrefix(name: string): string {
  return `netns=${name.replace(/\s/g, '_')} `;
}

/** --log-flags as the LOG line's options. */
export function logLineOptions(flags: readonly LogFlag[]): LogLineOptions {
  return {
    tcpSequence: flags.includes('tcpseq'),
    tcpOptions: flags.includes('tcpopt'),
    ipOptions: flags.includes('ipopt'),
    uid: flags.includes('uid'),
    macDecode: flags.includes('macdecode'),
  };
}

export function lineFormatter(args: FormatArgs, onGap: (gap: GapRecord) => void): LineFormatter {
  switch (args.format) {
    case 'record': {
      // A payload (kept only for --write-pcap) goes out as hex; a replacer slows every other record, so only then.
      const withPayload = (_key: string, value: unknown): unknown =>
        value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
      return (record) =>
        record.kind === 'packet' && record.payload !== undefined ? JSON.stringify(record, withPayload) : JSON.stringify(record);
    }
    case 'ecs': {
      const ecs = new EcsLines(ecsOptions(args));
      return (record) =>
        record.kind === 'packet'
          ? ecs.packets.line(record)
          : record.kind === 'flow'
            ? ecs.flows.line(record)
            : gapToEcsJson(record, ecs.options);
    }
    case 'log': {
      const options = logLineOptions(args.logFlags);
      // One namespace (or none given): the kernel's line as it is, unless asked.
      const prefix = (args.logNetns ?? (args.manyNetns ? 'prefix' : 'none')) === 'prefix';
      return (record) => {
        if (record.kind === 'packet') {
          const line = packetToLogLine(record, options);
          return prefix && record.netns ? netnsPrefix(record.netns.name) + line : line;
        }
        if (record.kind === 'gap') onGap(record);
        return null;
      };
    }
    case 'logemu': {
      const options = { hostname: args.logemuHostname ?? os.hostname() };
      const mode = args.logNetns ?? (args.manyNetns ? 'hostname' : 'none');
      // One options object per namespace, made once: the header's host name is the namespace's.
      const byNamespace = new Map<string, { hostname: string }>();
      const optionsFor = (name: string) => {
        let o = byNamespace.get(name);
        if (!o) {
          o = { hostname: name.replace(/\s/g, '_') };
          // Namespaces come and go: the cache forgets rather than grows without bound.
          if (byNamespace.size >= 4096) byNamespace.clear();
          byNamespace.set(name, o);
        }
        return o;
      };
      return (record) => {
        if (record.kind === 'packet') {
          if (!record.netns || mode === 'none') return packetToLogemuLine(record, options);
          if (mode === 'hostname') return packetToLogemuLine(record, optionsFor(record.netns.name));
          return packetToLogemuLine({ ...record, prefix: netnsPrefix(record.netns.name) + record.prefix }, options);
        }
        if (record.kind === 'gap') onGap(record);
        return null;
      };
    }
    case 'ipfix':
      // Flows go to the IPFIX output (ipfix-output.ts), not as lines; gaps are said on stderr.
      return (record) => {
        if (record.kind === 'gap') onGap(record);
        return null;
      };
    case 'ulogd':
      return (record) => {
        if (record.kind === 'packet') return packetToUlogdJson(record);
        if (record.kind === 'flow') return flowToUlogdJson(record);
        onGap(record);
        return null;
      };
  }
}
