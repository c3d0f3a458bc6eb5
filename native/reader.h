// The reader thread. It opens the sockets itself (after entering the network
// namespace, which is per thread), then drains them with recvmmsg straight
// into the ring and wakes JS through a uv_async handle, once per batch.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
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
  std::string netns;  // '' for the current namespace
  int rcvbuf = 0;
  std::vector<NflogGroup> groups;
  uint32_t nflog_buffer_size = 0;
  bool links = false;
  std::optional<ConntrackOptions> conntrack;  // absent: no conntrack sockets
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

  const Stats& stats() const { return stats_; }
  // What the conntrack socket found at open; nullptr without conntrack.
  const ConntrackSettings* conntrack_settings() const {
    return options_.conntrack ? &conntrack_settings_ : nullptr;
  }

 private:
  static constexpr unsigned kBatch = 64;  // datagrams per recvmmsg
  static constexpr int kRounds = 16;      // recvmmsg calls per socket before polling the others

  struct Source {
    int fd;
    uint16_t source;  // kSource* for the ring
  };

  void Run(std::promise<void>* opened);
  void Open();
  void Loop();
  void CloseSockets();
  bool Drain(const Source& from);
  void WriteEnobufs(uint8_t* entry, const Source& from);
  void WriteConntrackDrops(uint8_t* entry, bool reported);
  void CheckConntrackDrops();
  bool EndsDump(uint16_t source, const uint8_t* data, uint32_t length) const;
  void FinishDump(uint16_t source);
  void AbandonConntrackDump();
  int StartConntrackDump();
  void WatchLate(int fd, uint32_t tag);
  void WaitForRelease();
  void Watch(int fd, uint32_t tag);
  void ClearEvent();
  void Wake();

  ReaderOptions options_;
  RingProducer ring_;
  uint32_t slot_;  // a recv slot: entry header + max_datagram, 8-aligned
  uv_async_t* wake_;
  int event_fd_ = -1;  // written by Stop() and Release(); closed by Stop()
  int epoll_fd_ = -1;
  std::unique_ptr<RtnlSocket> rtnl_;
  std::unique_ptr<NflogSocket> nflog_;
  std::unique_ptr<ConntrackSocket> conntrack_;
  ConntrackSettings conntrack_settings_;  // written before the constructor returns
  // While the link dump is read, NFLOG is not polled: interface names reach
  // the ring before the first packet that refers to them.
  bool link_dump_ = false;
  // Likewise the conntrack event socket is not polled until the initial
  // table dump is read, so the table comes before any event.
  bool conntrack_events_watched_ = false;
  bool conntrack_dump_ = false;    // a conntrack dump is in flight (at most one)
  bool conntrack_resync_ = false;  // ENOBUFS on the event socket: dump again
  uint32_t conntrack_drops_ = 0;   // the event socket's drop counter, as last reported to JS
  std::atomic<bool> waiting_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};  // Finish() has run: set before stopping_, read by the thread after it
  Stats stats_;
  mmsghdr msgs_[kBatch];
  iovec iov_[kBatch];
  std::thread thread_;
};

}  // namespace nfc
