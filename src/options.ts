// Collector options: what users pass, the defaults, and validation with
// errors that name the option.
import { COPY_META, COPY_NONE, COPY_PACKET, type NativeConntrackOptions, type NativeNflogGroup } from './native';
import { NFULNL_CFG_F_CONNTRACK, NFULNL_CFG_F_SEQ, NFULNL_CFG_F_SEQ_GLOBAL } from './nflog/constants';
import { type IpNetwork, parseIpNetwork } from './packet/ip-text';

export type CopyMode = 'none' | 'meta' | 'packet';

export interface NflogGroupOptions {
  group: number;
  /** Operator label carried on every record of the group (ECS netfilter.group_label). */
  label?: string;
  copyMode?: CopyMode;
  copyRange?: number;
  qthreshold?: number;
  flushTimeoutMs?: number;
}

export interface CollectorOptions {
  /** NFLOG groups: numbers or per-group options. */
  nflog?: number | Array<number | NflogGroupOptions>;
  /**
   * Network namespaces to collect in, as one stream: a name under /run/netns or a path (/proc/PID/ns/net),
   * or a list of them. Records from another namespace than the collector's carry `netns` (name and inode).
   */
  netns?: string | string[];
  /**
   * Every namespace under /run/netns (and optionally of running processes), attached as they appear
   * and detached as they vanish. Combines with `netns`.
   */
  allNetns?: boolean | AllNetnsOptions;
  /** Told when a namespace is attached, detached, or cannot be attached. */
  onNamespace?: (change: NamespaceChange) => void;
  /** Defaults for every group (a group's own options win). */
  copyMode?: CopyMode;
  /** Bytes of each packet the kernel copies (copy mode 'packet'). Default 0xffff: all. */
  copyRange?: number;
  /** Entries the kernel batches per datagram (a full kernel buffer is sent sooner). Default 1024. */
  qthreshold?: number;
  /** Longest the kernel holds a batch before sending, ms (rounded up to 10 ms). Default 10. */
  flushTimeoutMs?: number;
  /** Instance-local sequence numbers, which make loss countable. Default true. */
  sequence?: boolean;
  /** Global sequence numbers as well. Default false. */
  globalSequence?: boolean;
  /** Ask the kernel to attach each packet's conntrack entry to its NFLOG entry (needs kernel support). Default false. */
  attachConntrack?: boolean;
  /** Conntrack events (NAT flow records): true for NEW, UPDATE and DESTROY, or the details. */
  conntrack?: boolean | ConntrackOptions;
  /** Kernel buffer for batched NFLOG datagrams, bytes. Default 65536. */
  nflogBufferSize?: number;
  /**
   * Socket receive buffer (SO_RCVBUFFORCE), bytes; the kernel counts it double. Kernel memory, used
   * only while a burst outpaces the consumer. Default 256 MiB.
   */
  socketBuffer?: number;
  /** Ring between the reader thread and JS, bytes (power of two). Default 64 MiB. */
  ringSize?: number;
  /**
   * Records per batch, at most (the rest of a datagram waits in the ring for the next batch). Default 256:
   * a batch's records are alive while the consumer works on them and while the next is decoded, and records
   * alive at a scavenge grow V8's young generation (and are promoted): with 2,048 a 1,000,000-packet burst
   * grew it to 64–128 MiB (30–60 MiB more peak RSS than 512, the same CPU); with 512 a 3,000,000-packet
   * scan grew it to 64 MiB (151–157 MiB peak RSS), with 256 to 32 (102–114), the same CPU (BENCHMARKS.md).
   */
  batchSize?: number;
  /** Resolve interface indexes to names through rtnetlink. Default true. */
  interfaceNames?: boolean;
  /** Keep a copy of each packet's payload on the record. Default false. */
  includePayload?: boolean;
  /**
   * Closes the collector when aborted; iteration then rejects with an AbortError. An already-aborted
   * signal makes createCollector throw that AbortError before any socket is opened.
   */
  signal?: AbortSignal;
  /**
   * Say the start-up warnings (conntrack accounting or timestamps off) through process.emitWarning.
   * Default true; set false once you read `collector.warnings` yourself.
   */
  emitWarnings?: boolean;
}

export interface AllNetnsOptions {
  /** Where named namespaces are. Default /run/netns. */
  dir?: string;
  /** Only names matching this glob (`*`, `?`), e.g. 'tenant-*'. Default: all. */
  match?: string;
  /** Also every distinct namespace of running processes (/proc/PID/ns/net), told apart by inode. Default false. */
  processes?: boolean;
  /** How often to look for namespaces that came or went, ms. Default 1000. */
  pollMs?: number;
}

export interface NamespaceChange {
  change: 'attached' | 'detached' | 'failed';
  name: string;
  /** 0 when it could not be opened. */
  inode: number;
  /** For 'detached' and 'failed': why. */
  reason?: string;
}

export interface ResolvedAllNetns {
  dir: string;
  match: RegExp | undefined;
  processes: boolean;
  pollMs: number;
}

export type ConntrackEvent = 'new' | 'update' | 'destroy';

export interface ConntrackOptions {
  /** Which events. Default all three. */
  events?: ConntrackEvent[];
  /** Dump the table at start: flows already open arrive as records with event 'dump'. Default false. */
  dump?: boolean;
  /** After the kernel dropped events (ENOBUFS), dump the table again, as conntrackd does. Default false. */
  resync?: boolean;
  /**
   * Reliable delivery (NETLINK_BROADCAST_SEND_ERROR + NETLINK_NO_ENOBUFS): the kernel then drops the
   * packet whose event it could not deliver, rather than the event. Default false.
   */
  reliable?: boolean;
  /** Kernel-side filters: protocols ('tcp', 'udp', 'icmp', 'icmpv6', 'sctp' or numbers). */
  protocols?: Array<string | number>;
  /** Kernel-side filters: original source / destination addresses or networks (CIDR). */
  sources?: string[];
  destinations?: string[];
  /** Kernel-side filter: keep flows with (mark & mask) === value. */
  mark?: number | { value: number; mask: number };
  /** Keep only flows of this conntrack zone (filtered on arrival; the kernel has no zone filter for events). */
  zone?: number;
  /**
   * One record per flow, at its end: DESTROY events with start, end, duration and counters. Uses the
   * kernel's timestamps when on; otherwise NEW events fill a bounded table of start times.
   */
  completed?: boolean;
  /** Largest table of start times for `completed` without kernel timestamps. Default 1,000,000. */
  completedTableSize?: number;
  /** Turn on net.netfilter.nf_conntrack_acct and nf_conntrack_timestamp in each namespace collected in. */
  enableSysctls?: boolean;
}

export interface ResolvedConntrack {
  native: NativeConntrackOptions;
  zone: number | undefined;
  completed: boolean;
  completedTableSize: number;
}

export interface ResolvedOptions {
  conntrack: ResolvedConntrack | undefined;
  groups: NativeNflogGroup[];
  labels: Map<number, string>;
  /** '' is the collector's own namespace. */
  netns: string[];
  allNetns: ResolvedAllNetns | undefined;
  onNamespace: ((change: NamespaceChange) => void) | undefined;
  socketBuffer: number;
  ringSize: number;
  maxDatagram: number;
  nflogBufferSize: number;
  batchSize: number;
  interfaceNames: boolean;
  includePayload: boolean;
  sequence: boolean;
  emitWarnings: boolean;
}

const COPY_MODES: Record<CopyMode, number> = { none: COPY_NONE, meta: COPY_META, packet: COPY_PACKET };

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`netfilter-collector: option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function copyMode(name: string, value: unknown): number {
  if (typeof value !== 'string' || !(value in COPY_MODES)) {
    throw new RangeError(`netfilter-collector: option ${name} must be 'none', 'meta' or 'packet', got ${String(value)}`);
  }
  return COPY_MODES[value as CopyMode];
}

export function resolveOptions(options: CollectorOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('netfilter-collector: createCollector needs an options object, e.g. { nflog: [1] }');
  }
  const list = options.nflog === undefined ? [] : Array.isArray(options.nflog) ? options.nflog : [options.nflog];
  const conntrack = resolveConntrack(options.conntrack);
  if (list.length === 0 && conntrack === undefined) {
    throw new RangeError('netfilter-collector: nothing to collect: give NFLOG groups (option nflog) or conntrack');
  }
  const sequence = options.sequence ?? true;
  const flags =
    (sequence ? NFULNL_CFG_F_SEQ : 0) |
    (options.globalSequence ? NFULNL_CFG_F_SEQ_GLOBAL : 0) |
    (options.attachConntrack ? NFULNL_CFG_F_CONNTRACK : 0);
  const labels = new Map<number, string>();
  const seen = new Set<number>();
  const groups = list.map((entry, i): NativeNflogGroup => {
    const g: NflogGroupOptions = typeof entry === 'number' ? { group: entry } : entry;
    const group = integer(`nflog[${i}].group`, g?.group, 0, 65535);
    if (seen.has(group)) throw new RangeError(`netfilter-collector: NFLOG group ${group} is listed twice`);
    seen.add(group);
    if (g.label !== undefined) labels.set(group, String(g.label));
    const timeoutMs = integer(`nflog[${i}].flushTimeoutMs`, g.flushTimeoutMs ?? options.flushTimeoutMs ?? 10, 0, 600_000);
    return {
      group,
      copyMode: copyMode(`nflog[${i}].copyMode`, g.copyMode ?? options.copyMode ?? 'packet'),
      copyRange: integer(`nflog[${i}].copyRange`, g.copyRange ?? options.copyRange ?? 0xffff, 0, 0xffff),
      qthreshold: integer(`nflog[${i}].qthreshold`, g.qthreshold ?? options.qthreshold ?? 1024, 1, 65535),
      flushTimeoutCs: Math.ceil(timeoutMs / 10),
      flags,
    };
  });
  const ringSize = integer('ringSize', options.ringSize ?? 64 * 1024 * 1024, 1 << 16, 1 << 30);
  if ((ringSize & (ringSize - 1)) !== 0) {
    throw new RangeError(`netfilter-collector: option ringSize must be a power of two, got ${ringSize}`);
  }
  const nflogBufferSize = integer('nflogBufferSize', options.nflogBufferSize ?? 65536, 0, 1 << 20);
  // A datagram holds one kernel buffer of batched entries, or one whole packet when that is larger.
  // The kernel rounds the buffer up to its allocation size (a power of two), which can double it.
  const maxDatagram = 2 * Math.max(nflogBufferSize, 65536) + 4096;
  if (ringSize < 4 * (maxDatagram + 16)) {
    throw new RangeError(`netfilter-collector: option ringSize (${ringSize}) must hold at least 4 datagrams of ${maxDatagram} bytes`);
  }
  const netns = resolveNetns(options.netns);
  const allNetns = resolveAllNetns(options.allNetns);
  return {
    conntrack,
    groups,
    labels,
    netns: netns.length === 0 && allNetns === undefined ? [''] : netns,
    allNetns,
    onNamespace: options.onNamespace,
    socketBuffer: integer('socketBuffer', options.socketBuffer ?? 256 * 1024 * 1024, 4096, 2 ** 30),
    ringSize,
    maxDatagram,
    nflogBufferSize,
    batchSize: integer('batchSize', options.batchSize ?? 256, 1, 1 << 20),
    interfaceNames: options.interfaceNames ?? true,
    includePayload: options.includePayload ?? false,
    sequence,
    emitWarnings: options.emitWarnings ?? true,
  };
}

const PROTOCOLS: Record<string, number> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
  udplite: 136,
};
const EVENT_BITS: Record<ConntrackEvent, number> = { new: 1, update: 2, destroy: 4 };
function networks(name: string, list: unknown): IpNetwork[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`netfilter-collector: option ${name} must be a list of addresses or networks`);
  return list.map((entry) => {
    const network = typeof entry === 'string' ? parseIpNetwork(entry) : undefined;
    if (network === undefined) {
      throw new RangeError(
        `netfilter-collector: option ${name}: '${String(entry)}' is not an address or network (10.0.0.0/8, 2001:db8::/32)`,
      );
    }
    return network;
  });
}

function resolveConntrack(option: CollectorOptions['conntrack']): ResolvedConntrack | undefined {
  if (option === undefined || option === false) return undefined;
  const o: ConntrackOptions = option === true ? {} : option;
  if (o === null || typeof o !== 'object') throw new TypeError('netfilter-collector: option conntrack must be true or an object');
  const events = o.events ?? ['new', 'update', 'destroy'];
  let bits = 0;
  for (const e of events) {
    if (!(e in EVENT_BITS)) throw new RangeError(`netfilter-collector: conntrack event '${String(e)}' is not one of new, update, destroy`);
    bits |= EVENT_BITS[e];
  }
  const completed = o.completed ?? false;
  // A completed flow is a DESTROY; NEW fills the start-time table when the kernel has no timestamps.
  if (completed) bits = EVENT_BITS.destroy | EVENT_BITS.new;
  if (bits === 0) throw new RangeError('netfilter-collector: option conntrack.events is empty');
  const protocols = (o.protocols ?? []).map((p) => {
    // A number as text (--ct-proto 6, a config file) is a number too.
    const n = typeof p === 'number' ? p : /^[0-9]+$/.test(String(p)) ? Number(p) : PROTOCOLS[String(p).toLowerCase()];
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > 255) {
      throw new RangeError(
        `netfilter-collector: conntrack protocol '${String(p)}' is not known (tcp, udp, icmp, icmpv6, sctp or a number)`,
      );
    }
    return n;
  });
  const mark = o.mark === undefined ? undefined : typeof o.mark === 'number' ? { value: o.mark, mask: 0xffffffff } : o.mark;
  if (mark !== undefined) {
    integer('conntrack.mark value', mark.value, 0, 0xffffffff);
    integer('conntrack.mark mask', mark.mask, 0, 0xffffffff);
  }
  return {
    native: {
      events: bits,
      dump: o.dump ?? false,
      resyncOnOverflow: o.resync ?? false,
      reliable: o.reliable ?? false,
      filter: {
        protocols,
        sources: networks('conntrack.sources', o.sources),
        destinations: networks('conntrack.destinations', o.destinations),
        mark,
      },
      enableAccounting: o.enableSysctls ?? false,
      enableTimestamps: o.enableSysctls ?? false,
    },
    zone: o.zone === undefined ? undefined : integer('conntrack.zone', o.zone, 0, 65535),
    completed,
    completedTableSize: integer('conntrack.completedTableSize', o.completedTableSize ?? 1_000_000, 1, 1 << 26),
  };
}

function resolveNetns(option: unknown): string[] {
  if (option === undefined) return [];
  const list = Array.isArray(option) ? option : [option];
  const seen = new Set<string>();
  for (const name of list) {
    if (typeof name !== 'string' || name === '' || name.includes('\0')) {
      throw new TypeError(`netfilter-collector: option netns must be namespace names or paths, got ${JSON.stringify(name)}`);
    }
    if (seen.has(name)) throw new RangeError(`netfilter-collector: namespace ${name} is listed twice in option netns`);
    seen.add(name);
  }
  if (list.length > 65535) throw new RangeError('netfilter-collector: option netns lists more than 65535 namespaces');
  return list as string[];
}

/** A shell-style glob ('*' any run, '?' one character) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function resolveAllNetns(option: CollectorOptions['allNetns']): ResolvedAllNetns | undefined {
  if (option === undefined || option === false) return undefined;
  const o: AllNetnsOptions = option === true ? {} : option;
  if (o === null || typeof o !== 'object') throw new TypeError('netfilter-collector: option allNetns must be true or an object');
  if (o.dir !== undefined && (typeof o.dir !== 'string' || o.dir === '')) {
    throw new TypeError('netfilter-collector: option allNetns.dir must be a directory path');
  }
  if (o.match !== undefined && (typeof o.match !== 'string' || o.match === '')) {
    throw new TypeError("netfilter-collector: option allNetns.match must be a glob such as 'tenant-*'");
  }
  return {
    dir: o.dir ?? '/run/netns',
    match: o.match === undefined ? undefined : globToRegExp(o.match),
    processes: o.processes ?? false,
    pollMs: integer('allNetns.pollMs', o.pollMs ?? 1000, 50, 3_600_000),
  };
}

// IPFIX export options (--format ipfix) are defined with the exporter, in the formats' layer.
export {
  IPFIX_RECORD_KINDS,
  type IpfixOptions,
  type IpfixRecordKind,
  type ResolvedIpfixOptions,
  resolveIpfixOptions,
} from './ipfix/options';

// A file output's rotation by size (--file-max-size, --file-keep) is defined with the file sink, in the outputs' layer.
export { DEFAULT_ROTATE_KEEP, type FileRotation, fileRotationOf } from './sink/file';
