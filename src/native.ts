// Loads the C++ addon (native/), or throws one error that says what is
// missing and how to fix it.
import * as path from 'node:path';

/** NFLOG copy modes (NFULNL_COPY_*). */
export const COPY_NONE = 0;
export const COPY_META = 1;
export const COPY_PACKET = 2;

export interface NativeNflogGroup {
  group: number;
  /** COPY_NONE, COPY_META or COPY_PACKET. */
  copyMode: number;
  /** Bytes of each packet to copy with COPY_PACKET (0xffff: all). */
  copyRange: number;
  /** Entries the kernel batches into one datagram before sending (NFULA_CFG_QTHRESH). */
  qthreshold: number;
  /** Longest the kernel holds a batch, in 1/100 s (NFULA_CFG_TIMEOUT). */
  flushTimeoutCs: number;
  /** NFULNL_CFG_F_* bits: 1 local sequence, 2 global sequence, 4 conntrack. */
  flags: number;
}

export interface NativeReaderOptions {
  /** The ring: an ArrayBuffer of 128 + capacity bytes, capacity a power of two (see ring/layout.ts). */
  ring: ArrayBuffer;
  /** Longest datagram the reader accepts whole; longer ones are cut and flagged. */
  maxDatagram: number;
  /** Path of a network namespace (/run/netns/NAME); the sockets are opened inside it. '' for the current one. */
  netns: string;
  /** SO_RCVBUFFORCE size for every socket, bytes. */
  rcvbuf: number;
  /** NFLOG groups to bind; empty for none. */
  nflogGroups: NativeNflogGroup[];
  /** Kernel buffer for batched NFLOG datagrams (NFULA_CFG_NLBUFSIZ), bytes; 0 leaves the kernel default. */
  nflogBufferSize: number;
  /** Subscribe to rtnetlink link events, after a dump of the current links (so names are known first). */
  links: boolean;
  /** Conntrack events; absent for none. */
  conntrack?: NativeConntrackOptions;
  /** Called on the JS thread when new entries are in the ring: at most once per batch, coalesced. */
  onData: () => void;
}

export interface NativeConntrackOptions {
  /** Bits: 1 NEW, 2 UPDATE, 4 DESTROY (NF_NETLINK_CONNTRACK_*). */
  events: number;
  /** Dump the table once at start (replies tagged SOURCE_CONNTRACK_DUMP, before any event is read). */
  dump: boolean;
  /** After ENOBUFS on the event socket, dump the table again (tagged SOURCE_CONNTRACK_DUMP). */
  resyncOnOverflow: boolean;
  /** NETLINK_BROADCAST_SEND_ERROR + NETLINK_NO_ENOBUFS: the kernel drops packets rather than events. */
  reliable: boolean;
  /** Kernel-side (BPF) filter; empty lists mean no filter on that field. */
  filter: {
    /** IP protocol numbers to keep. */
    protocols: number[];
    /** CIDRs ('10.0.0.0/8', '2001:db8::/32', a bare address = host) to keep, on the original source / destination. */
    sources: string[];
    destinations: string[];
    /** Keep flows whose mark & mask == value. */
    mark?: { value: number; mask: number };
  };
  /** Write 1 to net.netfilter.nf_conntrack_acct / nf_conntrack_timestamp in the collector's namespace before subscribing. */
  enableAccounting: boolean;
  enableTimestamps: boolean;
}

/** What the reader found in the collector's namespace when it opened the conntrack socket. */
export interface NativeConntrackSettings {
  /** net.netfilter.nf_conntrack_acct (after enableAccounting, if asked); -1 when unreadable. */
  accounting: number;
  /** net.netfilter.nf_conntrack_timestamp; -1 when unreadable. */
  timestamps: number;
}

/** Counters kept by the reader thread. */
export interface NativeStats {
  datagrams: number;
  bytes: number;
  /** recv returned ENOBUFS: the kernel dropped messages for this socket. */
  enobufs: number;
  /** Datagrams cut because they were longer than maxDatagram. */
  truncated: number;
  /** Times the reader found the ring full and waited for JS. */
  ringFull: number;
  /** recvmmsg calls made. */
  reads: number;
  /** Wake-ups of JS (uv_async_send calls). */
  wakeups: number;
  /** Conntrack event datagrams, ENOBUFS on the event socket, and table dumps requested (start + resyncs). */
  conntrackEvents: number;
  conntrackEnobufs: number;
  conntrackDumps: number;
}

export interface NativeReader {
  /** Counters so far. */
  stats(): NativeStats;
  /** Conntrack settings read at open; null without conntrack. */
  conntrackSettings(): NativeConntrackSettings | null;
  /** Tells the reader that JS advanced the read position (wakes it when it waits on a full ring). */
  release(): void;
  /** Stops the thread, closes the sockets. Idempotent. */
  close(): void;
  /** Whether the reader keeps the event loop alive (default true). */
  ref(): void;
  unref(): void;
}

export interface NativeAddon {
  NativeReader: new (options: NativeReaderOptions) => NativeReader;
}

let cached: NativeAddon | undefined;

/** The addon, loaded on first use. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    throw new Error(
      `netfilter-collector: the native reader needs Linux (netlink); this is ${process.platform}. ` +
        'The decoders and formatters (require("netfilter-collector/decode")) work everywhere.',
    );
  }
  // NFC_ADDON_PATH: where a packager put the addon (and how the tests simulate a missing one).
  const addonPath = process.env.NFC_ADDON_PATH ?? path.join(__dirname, '..', 'build', 'Release', 'netfilter_collector.node');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(addonPath) as NativeAddon;
    return cached;
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    let why: string;
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' || /Cannot find module/.test(message)) {
      why =
        `the addon is not built (${addonPath} is missing). ` +
        'Install the system libraries (sudo scripts/setup-system.sh, or apt-get install ' +
        'libnetfilter-log-dev libnetfilter-conntrack-dev pkg-config build-essential) and run `npm rebuild netfilter-collector`.';
    } else if (/lib(netfilter|nfnetlink|mnl)[^ ]*\.so/.test(message)) {
      const lib = /lib[\w-]+\.so[.\d]*/.exec(message)?.[0] ?? 'a netfilter library';
      why =
        `a system library is missing: ${lib}. ` +
        'Install it with `apt-get install libnetfilter-log1 libnetfilter-conntrack3 libnfnetlink0 libmnl0` ' +
        '(or run scripts/setup-system.sh).';
    } else {
      why = `the addon failed to load: ${message}. Rebuild it with \`npm rebuild netfilter-collector\`.`;
    }
    const error = new Error(`netfilter-collector: cannot load the native reader: ${why}`);
    (error as Error & { cause?: unknown }).cause = err;
    throw error;
  }
}
