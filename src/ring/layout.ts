// Layout of the ring shared by the native reader thread (producer) and JS
// (consumer), described in ARCHITECTURE.md ("The ring"). Mirrored in
// native/ring.h: change both together.
//
//   [0,   4)  u32 write position  (producer stores with release; monotonic, wraps at 2^32)
//   [64, 68)  u32 read position   (consumer stores after a batch is decoded)
//   [128, 128 + capacity)  data: a sequence of entries, each 8-byte aligned:
//       u32 length   datagram bytes, or WRAP_MARK: skip to the start of the data area
//       u8  source   SOURCE_* below
//       u8  flags    FLAG_* below
//       u16 netns    which of the reader's namespaces it came from (0: the first or only one)
//       f64 receivedUs  CLOCK_REALTIME when the datagram was received, microseconds
//       length bytes of the datagram, padded to a multiple of 8
//
// Positions are byte counters; the offset in the data area is `pos & (capacity - 1)`.
// capacity is a power of two. An entry never wraps: the producer writes
// WRAP_MARK and continues at offset 0 instead.

export const WRITE_POS_OFFSET = 0;
export const READ_POS_OFFSET = 64;
export const DATA_OFFSET = 128;
export const ENTRY_HEADER_BYTES = 16;
export const WRAP_MARK = 0xffffffff;

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
