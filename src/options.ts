// Collector options: what users pass, the defaults, and validation with
// errors that name the option.
import { COPY_META, COPY_NONE, COPY_PACKET, type NativeNflogGroup } from './native';
import { NFULNL_CFG_F_CONNTRACK, NFULNL_CFG_F_SEQ, NFULNL_CFG_F_SEQ_GLOBAL } from './nflog/constants';

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
  /** Network namespace to collect in: a name under /run/netns or a path. */
  netns?: string;
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
  /** Ask the kernel to attach conntrack to each entry (needs kernel support). Default false. */
  conntrack?: boolean;
  /** Kernel buffer for batched NFLOG datagrams, bytes. Default 65536. */
  nflogBufferSize?: number;
  /**
   * Socket receive buffer (SO_RCVBUFFORCE), bytes; the kernel counts it double. Kernel memory, used
   * only while a burst outpaces the consumer. Default 256 MiB.
   */
  socketBuffer?: number;
  /** Ring between the reader thread and JS, bytes (power of two). Default 64 MiB. */
  ringSize?: number;
  /** Records per batch, about (whole datagrams are never split). Default 2048. */
  batchSize?: number;
  /** Resolve interface indexes to names through rtnetlink. Default true. */
  interfaceNames?: boolean;
  /** Keep a copy of each packet's payload on the record. Default false. */
  includePayload?: boolean;
  /** Closes the collector when aborted. */
  signal?: AbortSignal;
}

export interface ResolvedOptions {
  groups: NativeNflogGroup[];
  labels: Map<number, string>;
  netns: string;
  socketBuffer: number;
  ringSize: number;
  maxDatagram: number;
  nflogBufferSize: number;
  batchSize: number;
  interfaceNames: boolean;
  includePayload: boolean;
  sequence: boolean;
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
  if (list.length === 0) {
    throw new RangeError('netfilter-collector: nothing to collect: give at least one NFLOG group (option nflog)');
  }
  const sequence = options.sequence ?? true;
  const flags =
    (sequence ? NFULNL_CFG_F_SEQ : 0) |
    (options.globalSequence ? NFULNL_CFG_F_SEQ_GLOBAL : 0) |
    (options.conntrack ? NFULNL_CFG_F_CONNTRACK : 0);
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
  if (options.netns !== undefined && (typeof options.netns !== 'string' || options.netns === '')) {
    throw new TypeError('netfilter-collector: option netns must be a namespace name or path');
  }
  return {
    groups,
    labels,
    netns: options.netns ?? '',
    socketBuffer: integer('socketBuffer', options.socketBuffer ?? 256 * 1024 * 1024, 4096, 2 ** 30),
    ringSize,
    maxDatagram,
    nflogBufferSize,
    batchSize: integer('batchSize', options.batchSize ?? 2048, 1, 1 << 20),
    interfaceNames: options.interfaceNames ?? true,
    includePayload: options.includePayload ?? false,
    sequence,
  };
}
