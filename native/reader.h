// The reader thread. It serves any number of network namespaces with one
// epoll: it enters a namespace (setns is per thread) only to open that
// namespace's sockets, then returns to its own, and drains every socket with
// recvmmsg straight into the ring, each entry tagged with its namespace's
// index. It wakes JS through a uv_async handle, once per batch.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "conntrack_socket.h"
#include "nflog_socket.h"
#include "ring.h"
#include "rtnl_socket.h"
#include "stats.h"

namespace nfc {

struct ReaderOptions {
  uint8_t* ring = nullptr;  // the JS ArrayBuffer's memory: 128 + capacity bytes
  uint32_t capacity = 0;
  uint32_t max_datagram = 0;
  // The namespaces to open at start; the position is the ring's netns index.
  // '' is the reader's own (the process's) namespace.
  std::vector<std::string> namespaces;
  int rcvbuf = 0;
  std::vector<NflogGroup> groups;
  uint32_t nflog_buffer_size = 0;
  bool links = false;
  std::optional<ConntrackOptions> conntrack;  // absent: no conntrack sockets
};

// One namespace's sockets and their state. Touched by the reader thread only,
// except stats (atomics) and what Attach() wrote before it returned.
struct Namespace {
  ~Namespace();
  std::string name;
  uint16_t index = 0;
  int fd = -1;  // the namespace itself, held to reopen a socket in it; -1 for the reader's own
  uint64_t inode = 0;
  bool attached = false;
  std::unique_ptr<RtnlSocket> rtnl;
  std::unique_ptr<NflogSocket> nflog;
  std::unique_ptr<ConntrackSocket> conntrack;
  ConntrackSettings conntrack_settings;
  // While the link dump is read, NFLOG is not polled: interface names reach
  // the ring before the first packet that refers to them.
  bool link_dump = false;
  // Likewise the conntrack event socket is not polled until the initial
  // table dump is read, so the table comes before any event.
  bool conntrack_events_watched = false;
  bool conntrack_dump = false;    // a conntrack dump is in flight (at most one)
  bool conntrack_resync = false;  // ENOBUFS on the event socket: dump again
  uint32_t conntrack_drops = 0;   // the event socket's drop counter, as last reported to JS
  // The last drain of the event socket stopped (round limit, full ring)
  // before it found the socket empty, where the drops are checked.
  bool conntrack_unchecked = false;
  Stats stats;
};

class Reader {
 public:
  // Starts the thread and returns once it has opened every socket; throws
  // what the thread threw (SysError) otherwise. `wake` must stay open until
  // Stop() returns.
  Reader(ReaderOptions options, uv_async_t* wake);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // JS advanced the read position: wakes the thread if it waits for room.
  void Release();
  // The start of a close, on the caller's thread: the kernel stops sending
  // (the NFLOG groups are unbound, which flushes their batches into the
  // socket and frees the groups at once; the conntrack event groups are
  // left), and the thread is stopped with the sockets still open, so what
  // they hold can be read with DrainRemaining(). Idempotent.
  void Finish();
  // After Finish(), on the caller's thread: reads the sockets into the ring.
  // Returns true once every socket is empty, false when the ring is full
  // (consume, then call again).
  bool DrainRemaining();
  // Stops and joins the thread; the thread closes its sockets, then the
  // eventfd is closed. Idempotent.
  void Stop();

  // Opens a namespace's sockets under `index` (free: never used, or
  // detached) and returns its inode once they are polled; throws SysError.
  // Blocks the caller for the time the thread needs to open the sockets.
  uint64_t Attach(uint16_t index, const std::string& name);
  // Closes a namespace's sockets: nothing more is written under its index.
  // Its counters stay readable until the index is attached again.
  void Detach(uint16_t index);

  // Totals over every namespace, detached ones included.
  const Stats& stats() const { return stats_; }
  // nullptr when the index was never attached.
  const Namespace* space(uint16_t index) const { return index < spaces_.size() ? spaces_[index].get() : nullptr; }
  bool has_conntrack() const { return options_.conntrack.has_value(); }

 private:
  static constexpr unsigned kBatch = 64;  // datagrams per recvmmsg
  static constexpr int kRounds = 16;      // recvmmsg calls per socket before polling the others
  static constexpr int kEvents = 64;      // epoll events per wait
  // Conntrack events wake JS at most once per interval, and during a burst
  // the reader reads them once per interval: they arrive one by one, and a
  // wake-up of each thread per event cost more than decoding did. The first
  // event after a quiet spell is read and handed on at once.
  static constexpr double kConntrackWakeIntervalUs = 1000;

  struct Source {
    Namespace* ns;
    int fd;
    uint8_t source;  // kSource* for the ring
  };

  struct Command {
    bool attach;
    uint16_t index;
    std::string name;
    std::promise<uint64_t> done;
  };

  void Run(std::promise<void>* opened);
  void Open();
  void OpenNamespace(Namespace& ns);
  void OpenSockets(Namespace& ns);
  void CloseNamespace(Namespace& ns);
  void ReturnHome();
  void RunCommands();
  uint64_t Send(Command* command);
  void Loop();
  void CloseSockets();
  bool Drain(const Source& from);
  void DrainConntrackEvents(Namespace& ns);
  void RevisitConntrackEvents();
  void WriteEnobufs(uint8_t* entry, const Source& from);
  void WriteConntrackDrops(Namespace& ns, uint8_t* entry, bool reported);
  bool CheckConntrackDrops(Namespace& ns);
  bool EndsDump(const Namespace& ns, uint8_t source, const uint8_t* data, uint32_t length) const;
  void FinishDump(Namespace& ns, uint8_t source);
  void AbandonConntrackDump(Namespace& ns);
  int StartConntrackDump(Namespace& ns);
  void WatchLate(int fd, uint32_t tag);
  void WaitForRelease();
  void Watch(int fd, uint32_t tag);
  void ClearEvent();
  void Wake();
  void WakeSoon();
  void WakeDeferred();
  int WaitTimeoutMs() const;
  void Count(Namespace& ns, std::atomic<uint64_t> Stats::*counter, uint64_t n) {
    Add(stats_.*counter, n);
    Add(ns.stats.*counter, n);
  }

  ReaderOptions options_;
  RingProducer ring_;
  uint32_t slot_;  // a recv slot: entry header + max_datagram, 8-aligned
  uv_async_t* wake_;
  int event_fd_ = -1;  // written by Stop(), Release() and commands; closed by Stop()
  int epoll_fd_ = -1;
  int home_fd_ = -1;  // the thread's own namespace, where it returns after opening sockets elsewhere
  uint64_t home_inode_ = 0;
  // Indexed by the ring's netns index. Resized by the thread only while the
  // JS thread waits (constructor, Attach), so JS reads it without a lock.
  std::vector<std::unique_ptr<Namespace>> spaces_;
  std::mutex commands_mutex_;
  std::vector<Command*> commands_;
  std::atomic<bool> commands_pending_{false};
  std::atomic<bool> waiting_{false};
  bool revisit_ = false;  // some namespace is conntrack_unchecked (reader thread only)
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};  // Finish() has run: set before stopping_, read by the thread after it
  Stats stats_;
  // WakeSoon(): when JS was last woken (monotonic µs), and whether a wake-up is owed.
  double last_wake_us_ = 0;
  bool wake_deferred_ = false;
  mmsghdr msgs_[kBatch];
  iovec iov_[kBatch];
  std::thread thread_;
};

}  // namespace nfc
