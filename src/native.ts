// Loads the C++ addon (native/), or throws one error that says what is
// missing and how to fix it.
import * as path from 'node:path';
import type { IpNetwork } from './packet/ip-text';

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
  /**
   * Network namespaces to open at start (a name under /run/netns, or a path; '' for the current one).
   * The position is the index the ring's entries carry.
   */
  namespaces?: string[];
  /** One namespace: the same as namespaces: [netns]. */
  netns?: string;
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
    /** Networks to keep, on the original source / destination (parsed by packet/ip-text.ts). */
    sources: IpNetwork[];
    destinations: IpNetwork[];
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

/** One namespace of the reader. */
export interface NativeNamespace {
  name: string;
  /** The namespace's inode (its identity: `ls -iL /run/netns/NAME`, `readlink /proc/PID/ns/net`). */
  inode: number;
  /** False once detached (its counters stay until the index is attached again). */
  attached: boolean;
  stats: NativeStats;
}

export interface NativeReader {
  /** Counters so far, over every namespace. */
  stats(): NativeStats;
  /** The namespace at an index (default 0); null if the index was never used. */
  namespace(index?: number): NativeNamespace | null;
  /** Conntrack settings a namespace's socket read at open (default index 0); null without conntrack. */
  conntrackSettings(index?: number): NativeConntrackSettings | null;
  /** Opens a namespace's sockets under a free index; returns its inode. Throws like the constructor. */
  attach(index: number, name: string): number;
  /** Closes a namespace's sockets; nothing more is written under its index. */
  detach(index: number): void;
  /** Tells the reader that JS advanced the read position (wakes it when it waits on a full ring). */
  release(): void;
  /**
   * The start of a close, synchronous: the kernel stops sending (NFLOG groups unbound, which flushes the
   * entries it still batched and frees the groups; conntrack events unsubscribed) and the thread stops,
   * leaving the sockets open so that drainRemaining() can read what they hold.
   */
  finish(): void;
  /** After finish(): reads the sockets into the ring; true once all are empty, false when the ring is full (consume, call again). */
  drainRemaining(): boolean;
  /** Stops the thread, closes the sockets. Idempotent. */
  close(): void;
  /** Whether the reader keeps the event loop alive (default true). */
  ref(): void;
  unref(): void;
}

export interface NativeAddon {
  NativeReader: new (options: NativeReaderOptions) => NativeReader;
  /** A non-blocking AF_UNIX SOCK_DGRAM socket (for syslog to /dev/log); throws an Error with .code. */
  datagramOpen(): number;
  /** Connects the socket to path ('@NAME': abstract); '' or the errno name (ENOENT, ECONNREFUSED …). */
  datagramConnect(fd: number, path: string): string;
  /** Sends buffers[first..], one datagram each, until one fails: [sent, errno name of the failed one or '']. */
  datagramSend(fd: number, buffers: Buffer[], first: number): [number, string];
  /** Calls back once when fd can take a datagram again (a uv_poll for writability). */
  datagramWhenWritable(fd: number, callback: (status: number) => void): void;
  datagramClose(fd: number): void;
}

let cached: NativeAddon | undefined;

/** The Debian package of each runtime library the addon links against. */
const LIBRARY_PACKAGES: Record<string, string> = {
  libnetfilter_log: 'libnetfilter-log1',
  libnetfilter_conntrack: 'libnetfilter-conntrack3',
  libnfnetlink: 'libnfnetlink0',
  libmnl: 'libmnl0',
};

const BUILD_FROM_SOURCE =
  'apt-get install build-essential python3 pkg-config libnetfilter-log-dev libnetfilter-conntrack-dev ' +
  '(or run scripts/setup-system.sh from the source), then `npm rebuild netfilter-collector`';

/** Where the addon is: NFC_ADDON_PATH, else a local build, else the package's prebuild for this platform. */
function resolveAddon(): string {
  // NFC_ADDON_PATH: where a packager put the addon (and how the tests simulate a missing one).
  if (process.env.NFC_ADDON_PATH) return process.env.NFC_ADDON_PATH;
  // node-gyp-build: the loader of prebuildify's prebuilds/<platform>-<arch>/, used by most N-API modules.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  return nodeGypBuild.resolve(path.join(__dirname, '..'));
}

/** The addon, loaded on first use. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    throw new Error(
      `netfilter-collector: the native reader needs Linux (netlink); this is ${process.platform}. ` +
        'The decoders and formatters (require("netfilter-collector/decode")) work everywhere.',
    );
  }
  let addonPath = '';
  try {
    addonPath = resolveAddon();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(addonPath) as NativeAddon;
    return cached;
  } catch (err) {
    throw new Error(`netfilter-collector: cannot load the native reader: ${whyNotLoaded(err, addonPath)}`, { cause: err });
  }
}

/** One sentence: what is missing and what to install. */
function whyNotLoaded(err: unknown, addonPath: string): string {
  const message = (err as Error).message ?? String(err);
  if (/^No native build was found/.test(message)) {
    return (
      `no prebuilt addon fits linux-${process.env.npm_config_arch ?? process.arch} (the package carries linux-x64 and linux-arm64 for glibc ≥ 2.34) ` +
      `and none was built from source. To build it: ${BUILD_FROM_SOURCE}.`
    );
  }
  if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' || /Cannot find module/.test(message)) {
    return `the addon is not built (${addonPath} is missing). To build it: ${BUILD_FROM_SOURCE}.`;
  }
  const lib = /(lib[a-z_]+)\.so[.\d]*/.exec(message);
  if (lib && LIBRARY_PACKAGES[lib[1]]) {
    return (
      `a system library is missing: ${lib[0]}. Install it with \`apt-get install ${LIBRARY_PACKAGES[lib[1]]}\` ` +
      '(all of them: apt-get install libnetfilter-log1 libnetfilter-conntrack3).'
    );
  }
  if (/GLIBC_[\d.]+' not found/.test(message)) {
    return `the prebuilt addon needs a newer C library (${message}). Build it from source: ${BUILD_FROM_SOURCE}.`;
  }
  return `the addon failed to load: ${message}. Rebuild it: ${BUILD_FROM_SOURCE}.`;
}
