// The producer side of the ring shared with JS. The layout is described once,
// in ARCHITECTURE.md ("The ring"); the constants here mirror
// src/ring/layout.ts: change both together.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

namespace nfc {

constexpr uint32_t kWritePosOffset = 0;
constexpr uint32_t kReadPosOffset = 64;
constexpr uint32_t kDataOffset = 128;
constexpr uint32_t kEntryHeaderBytes = 16;
constexpr uint32_t kWrapMark = 0xffffffff;
// An empty ring rewinds to offset 0 once the writer is this far in (see Reserve).
constexpr uint32_t kRewindBytes = 4u << 20;  // REWIND_BYTES

constexpr uint8_t kSourceNflog = 1;
constexpr uint8_t kSourceRtnl = 2;
constexpr uint8_t kSourceConntrack = 3;
constexpr uint8_t kSourceConntrackDump = 4;  // replies to a table dump

constexpr uint8_t kFlagTruncated = 1;
constexpr uint8_t kFlagEnobufs = 2;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the ring layout is little-endian");
static_assert(sizeof(std::atomic<uint32_t>) == 4 && std::atomic<uint32_t>::is_always_lock_free,
              "positions are plain u32 shared with JS Atomics");

inline uint32_t Align8(uint32_t n) { return (n + 7) & ~7u; }

class RingProducer {
 public:
  // base: the start of the JS ArrayBuffer (128 + capacity bytes, capacity a power of two).
  RingProducer(uint8_t* base, uint32_t capacity)
      : write_pos_(reinterpret_cast<std::atomic<uint32_t>*>(base + kWritePosOffset)),
        read_pos_(reinterpret_cast<std::atomic<uint32_t>*>(base + kReadPosOffset)),
        data_(base + kDataOffset),
        capacity_(capacity),
        write_(write_pos_->load(std::memory_order_relaxed)) {}

  // A contiguous free region of at least `need` bytes, or nullptr. Sets
  // *room to its size. When the end of the data area is too short but the
  // start has room, writes WRAP_MARK and returns the start: the skipped tail
  // counts as written (it is published with the next Commit).
  //
  // An empty ring starts again at offset 0 once the writer is kRewindBytes
  // in (a wrap taken early): while JS keeps up, only the ring's first pages
  // are ever written, so a burst that JS keeps pace with costs the process
  // only those pages; the rest is touched only when JS falls behind.
  uint8_t* Reserve(uint32_t need, uint32_t* room) {
    uint32_t read = read_pos_->load(std::memory_order_seq_cst);
    uint32_t free = capacity_ - (write_ - read);
    uint32_t offset = write_ & (capacity_ - 1);
    uint32_t tail = capacity_ - offset;
    bool rewind = read == write_ && offset >= kRewindBytes && offset >= need;
    if (tail >= need && !rewind) {
      if (free < need) return nullptr;
      *room = std::min(tail, free);
      return data_ + offset;
    }
    // free >= tail means the free space runs from offset to the end, then from 0 to the reader.
    if (free < tail || free - tail < need) return nullptr;
    uint32_t mark = kWrapMark;
    std::memcpy(data_ + offset, &mark, sizeof mark);
    write_ += tail;
    *room = free - tail;
    return data_;
  }

  // netns: which of the reader's namespaces the datagram came from (0: the first or only one).
  static void WriteHeader(uint8_t* entry, uint32_t length, uint8_t source, uint8_t flags, double received_us,
                          uint16_t netns = 0) {
    std::memcpy(entry, &length, 4);
    entry[4] = source;
    entry[5] = flags;
    std::memcpy(entry + 6, &netns, 2);
    std::memcpy(entry + 8, &received_us, 8);
  }

  // Publishes `bytes` written at the region Reserve returned.
  void Commit(uint32_t bytes) {
    write_ += bytes;
    write_pos_->store(write_, std::memory_order_release);
  }

 private:
  std::atomic<uint32_t>* write_pos_;
  std::atomic<uint32_t>* read_pos_;
  uint8_t* data_;
  uint32_t capacity_;
  uint32_t write_;  // our copy of the write position, ahead of the published one only by a wrap
};

}  // namespace nfc
