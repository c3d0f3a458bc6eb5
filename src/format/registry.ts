// The line formats in one table: what each writes a line for and how. The
// CLI (--format, each output of a config file), the demo and the API
// (`openLineFormat`) all take formats from here; IPFIX, which writes messages
// rather than lines, is the CLI's own.
import * as os from 'node:os';
import { EcsFlowLines } from '../ecs/flow-json';
import { gapToEcsJson } from '../ecs/gap';
import type { EcsOptions } from '../ecs/packet';
import { EcsPacketLines } from '../ecs/packet-json';
import type { CollectorRecord } from '../records';
import type { LineTarget } from './line-target';
import { type LogLineOptions, packetToLogLine } from './log-line';
import { packetToLogemuLine } from './logemu';
import { readableLine } from './readable';
import { flowToUlogdJson } from './ulogd-flow';
import { packetToUlogdJson } from './ulogd-packet';

export type LineFormatName = 'ecs' | 'record' | 'log' | 'logemu' | 'ulogd' | 'readable';
export type RecordKind = CollectorRecord['kind'];

export interface LineFormatOptions {
  /** ecs: group labels, observer and agent (resolved once for the run). */
  ecs?: EcsOptions;
  /** log: the LOG target's flags. */
  logLine?: LogLineOptions;
  /** logemu: the header's host name (default: this host's). */
  logemuHostname?: string;
  /**
   * log and logemu: how a record from a named namespace says so. 'prefix': netns=NAME before the
   * rule's prefix; 'hostname' (logemu): the namespace as the header's host name; 'none' (default).
   */
  logNetns?: 'prefix' | 'hostname' | 'none';
  /** readable: times in UTC. */
  utc?: boolean;
}

/** One run's writer of a format: its caches and resolved options live here. */
export interface LineFormatWriter {
  /** The record's line, or null for a kind the format writes no line for (see `writes`). */
  line(record: CollectorRecord): string | null;
  /** Puts the record's line into `to` (as bytes where the format can); false when it has none. */
  write(record: CollectorRecord, to: LineTarget): boolean;
}

export interface LineFormat {
  readonly name: LineFormatName;
  /** What --help says of it. */
  readonly summary: string;
  /** The record kinds it writes a line for; the caller says the others elsewhere (a gap on stderr). */
  readonly writes: readonly RecordKind[];
  open(options?: LineFormatOptions): LineFormatWriter;
}

/**
 * How a log line says its namespace: netns=NAME and a space before the rule's prefix, where LOG-line
 * parsers take free text (everything before IN=). Spaces in a name (a path could have them) become _.
 */
export function netnsPrefix(name: string): string {
  return `netns=${name.replace(/\s/g, '_')} `;
}

/** A writer from a line function: write() is line() put into the target. */
function fromLine(line: (record: CollectorRecord) => string | null): LineFormatWriter {
  return {
    line,
    write(record, to) {
      const text = line(record);
      if (text === null) return false;
      to.line(text);
      return true;
    },
  };
}

const ecs: LineFormat = {
  name: 'ecs',
  summary: 'Elastic Common Schema documents: packets, flows and gaps (event.kind pipeline_error)',
  writes: ['packet', 'flow', 'gap'],
  open(options = {}) {
    const ecsOptions = options.ecs ?? {};
    const packets = new EcsPacketLines(ecsOptions);
    const flows = new EcsFlowLines(ecsOptions);
    return {
      line: (record) =>
        record.kind === 'packet' ? packets.line(record) : record.kind === 'flow' ? flows.line(record) : gapToEcsJson(record, ecsOptions),
      // Packet and flow lines go into the target as bytes: no string per document.
      write(record, to) {
        if (record.kind === 'packet') packets.writeLine(record, to);
        else if (record.kind === 'flow') flows.writeLine(record, to);
        else to.line(gapToEcsJson(record, ecsOptions));
        return true;
      },
    };
  },
};

const record: LineFormat = {
  name: 'record',
  summary: "the collector's records as JSON, every kind (a payload as hex)",
  writes: ['packet', 'flow', 'gap'],
  open() {
    // A payload (kept only for --write-pcap) goes out as hex; a replacer slows every other record, so only then.
    const withPayload = (_key: string, value: unknown): unknown =>
      value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
    return fromLine((r) => (r.kind === 'packet' && r.payload !== undefined ? JSON.stringify(r, withPayload) : JSON.stringify(r)));
  },
};

const log: LineFormat = {
  name: 'log',
  summary: "the kernel's LOG line, byte for byte as nf_log_syslog prints it (packets only)",
  writes: ['packet'],
  open(options = {}) {
    const logLine = options.logLine ?? {};
    const prefix = options.logNetns === 'prefix';
    return fromLine((r) => {
      if (r.kind !== 'packet') return null;
      const line = packetToLogLine(r, logLine);
      return prefix && r.netns ? netnsPrefix(r.netns.name) + line : line;
    });
  },
};

const logemu: LineFormat = {
  name: 'logemu',
  summary: "ulogd2's LOGEMU line: a syslog-like header, then the LOG line's fields (packets only)",
  writes: ['packet'],
  open(options = {}) {
    const header = { hostname: options.logemuHostname ?? os.hostname() };
    const mode = options.logNetns ?? 'none';
    // One header per namespace, made once: the host name is the namespace's.
    const byNamespace = new Map<string, { hostname: string }>();
    const headerFor = (name: string): { hostname: string } => {
      let h = byNamespace.get(name);
      if (!h) {
        h = { hostname: name.replace(/\s/g, '_') };
        // Namespaces come and go: the cache forgets rather than grows without bound.
        if (byNamespace.size >= 4096) byNamespace.clear();
        byNamespace.set(name, h);
      }
      return h;
    };
    return fromLine((r) => {
      if (r.kind !== 'packet') return null;
      if (!r.netns || mode === 'none') return packetToLogemuLine(r, header);
      if (mode === 'hostname') return packetToLogemuLine(r, headerFor(r.netns.name));
      return packetToLogemuLine({ ...r, prefix: netnsPrefix(r.netns.name) + r.prefix }, header);
    });
  },
};

const ulogd: LineFormat = {
  name: 'ulogd',
  summary: "ulogd2's JSON output (NFLOG with BASE/IFINDEX/IP2STR/HWHDR, NFCT): packets and flows",
  writes: ['packet', 'flow'],
  open() {
    return fromLine((r) => (r.kind === 'packet' ? packetToUlogdJson(r) : r.kind === 'flow' ? flowToUlogdJson(r) : null));
  },
};

const readable: LineFormat = {
  name: 'readable',
  summary: 'one short line a person reads at a terminal, every kind',
  writes: ['packet', 'flow', 'gap'],
  open(options = {}) {
    const readableOptions = { utc: options.utc ?? false };
    return fromLine((r) => readableLine(r, readableOptions));
  },
};

/** Every line format, by name. */
export const LINE_FORMATS: { readonly [N in LineFormatName]: LineFormat } = { ecs, record, log, logemu, ulogd, readable };

export const LINE_FORMAT_NAMES = Object.keys(LINE_FORMATS) as LineFormatName[];

/** A writer of the named format, for one run. */
export function openLineFormat(name: LineFormatName, options?: LineFormatOptions): LineFormatWriter {
  return LINE_FORMATS[name].open(options);
}
