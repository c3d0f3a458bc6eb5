// Counters the reader thread keeps and JS reads with stats(). Relaxed
// atomics: each is exact on its own; they are not a consistent snapshot.
#pragma once

#include <atomic>
#include <cstdint>

namespace nfc {

struct Stats {
  std::atomic<uint64_t> datagrams{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> enobufs{0};
  std::atomic<uint64_t> truncated{0};
  std::atomic<uint64_t> ring_full{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> wakeups{0};
  // The conntrack event socket's share of datagrams and enobufs above.
  std::atomic<uint64_t> conntrack_events{0};
  std::atomic<uint64_t> conntrack_enobufs{0};
  // Conntrack table dumps requested (at start and to resynchronise).
  std::atomic<uint64_t> conntrack_dumps{0};
};

inline void Add(std::atomic<uint64_t>& counter, uint64_t n) { counter.fetch_add(n, std::memory_order_relaxed); }

}  // namespace nfc
