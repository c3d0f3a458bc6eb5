// The CLI's formats: its flags turned into the options of a line format from
// the registry (src/format/registry.ts). A record a format writes no line for
// goes elsewhere: gaps are said on stderr (loss is never silent), flows in the
// LOG line formats are refused by the argument checks.
import { gapText } from '../ecs/gap';
import { agentIdFromFile } from '../ecs/identity';
import type { EcsOptions } from '../ecs/packet';
import type { LineTarget } from '../format/line-target';
import type { LogLineOptions } from '../format/log-line';
import { type LineFormatOptions, openLineFormat } from '../format/registry';
import type { CollectorRecord, GapRecord } from '../records';
import type { CliArgs, LogFlag } from './args';

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

/** A line for the output, or null when the record goes elsewhere (a gap on stderr). */
export type LineFormatter = (record: CollectorRecord) => string | null;

/** Puts a record's line (if it has one) into the output's lines. */
export type LineWriter = (record: CollectorRecord, to: LineTarget) => void;

/** One output's format for the run: its lines as strings, or written into the output (as bytes where it can). */
export interface CliFormat {
  format: LineFormatter;
  write: LineWriter;
}

/** How a gap reads on stderr. */
export function gapMessage(gap: GapRecord): string {
  return `netfilter-collector: ${gapText(gap)}`;
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

/** The registry's options for the CLI's flags. */
function formatOptions(args: FormatArgs): LineFormatOptions {
  switch (args.format) {
    case 'ecs':
      return { ecs: ecsOptions(args) };
    case 'log':
      // One namespace (or none given): the kernel's line as it is, unless asked.
      return { logLine: logLineOptions(args.logFlags), logNetns: args.logNetns ?? (args.manyNetns ? 'prefix' : 'none') };
    case 'logemu':
      return { logemuHostname: args.logemuHostname, logNetns: args.logNetns ?? (args.manyNetns ? 'hostname' : 'none') };
    default:
      return {};
  }
}

/** The output's format; a record it has no line for, if a gap, goes to `onGap`. */
export function openFormat(args: FormatArgs, onGap: (gap: GapRecord) => void): CliFormat {
  // IPFIX writes messages, not lines (ipfix-output.ts): no line for any record, gaps on stderr.
  if (args.format === 'ipfix') {
    const format: LineFormatter = (record) => {
      if (record.kind === 'gap') onGap(record);
      return null;
    };
    return { format, write: (record) => void format(record) };
  }
  const writer = openLineFormat(args.format, formatOptions(args));
  return {
    format: (record) => {
      const line = writer.line(record);
      if (line === null && record.kind === 'gap') onGap(record);
      return line;
    },
    write: (record, to) => {
      if (!writer.write(record, to) && record.kind === 'gap') onGap(record);
    },
  };
}
