// The ring shared by the native reader thread (producer) and JS (consumer):
// its constants. The layout is described once, in ARCHITECTURE.md ("The
// ring"); native/ring.h mirrors these numbers: change both together.

export const WRITE_POS_OFFSET = 0;
export const READ_POS_OFFSET = 64;
export const DATA_OFFSET = 128;
export const ENTRY_HEADER_BYTES = 16;
export const WRAP_MARK = 0xffffffff;
/** The producer wraps early, when the ring is empty and its write offset is at least this far in (ARCHITECTURE.md). */
export const REWIND_BYTES = 4 * 1024 * 1024;

export const SOURCE_NFLOG = 1;
export const SOURCE_RTNL = 2;
export const SOURCE_CONNTRACK = 3;
/** Replies to a conntrack table dump (at start, or to resynchronise after ENOBUFS). */
export const SOURCE_CONNTRACK_DUMP = 4;

/** The datagram was longer than the slot: the kernel cut it (MSG_TRUNC). */
export const FLAG_TRUNCATED = 1;

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Not a datagram: recv reported ENOBUFS here, the kernel dropped messages for this socket. length is 0. */
export const FLAG_ENOBUFS = 2;
