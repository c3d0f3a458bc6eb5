#include "reader.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "netns.h"
#include "socket_drops.h"
#include "sys_error.h"

namespace nfc {

namespace {

enum Tag : uint32_t { kTagEvent, kTagRtnl, kTagNflog, kTagConntrack, kTagConntrackDump };
constexpr int kTags = 5;

double NowUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

Reader::Reader(ReaderOptions options, uv_async_t* wake)
    : options_(std::move(options)),
      ring_(options_.ring, options_.capacity),
      slot_(Align8(kEntryHeaderBytes + options_.max_datagram)),
      wake_(wake) {
  std::memset(msgs_, 0, sizeof msgs_);
  std::memset(iov_, 0, sizeof iov_);
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) throw ErrnoError("cannot create the reader's eventfd", errno);
  std::promise<void> opened;
  std::future<void> result = opened.get_future();
  try {
    thread_ = std::thread(&Reader::Run, this, &opened);
  } catch (...) {
    close(event_fd_);
    throw;
  }
  try {
    result.get();
  } catch (...) {
    thread_.join();
    close(event_fd_);
    throw;
  }
}

Reader::~Reader() {
  Stop();
  if (event_fd_ >= 0) close(event_fd_);
}

void Reader::Release() {
  if (event_fd_ < 0) return;  // stopped
  // seq_cst pairs with Drain(): it sets waiting_, then rereads the read
  // position, so either it sees JS's progress or we see the flag.
  if (!waiting_.load(std::memory_order_seq_cst)) return;
  uint64_t one = 1;
  ssize_t ignored = write(event_fd_, &one, sizeof one);
  (void)ignored;  // EAGAIN only if the counter is saturated: a wake-up is pending anyway
}

void Reader::Finish() {
  if (finished_ || !thread_.joinable()) return;
  finished_ = true;
  // From the caller's thread: sending on a socket another thread reads is
  // safe, and the groups are free for a new collector when close() returns.
  if (nflog_) nflog_->Unbind();
  if (conntrack_) conntrack_->Unsubscribe();
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = write(event_fd_, &one, sizeof one);
  (void)ignored;
  thread_.join();
  // The thread is gone: what it owned is the caller's now. No more dumps.
  conntrack_resync_ = false;
  waiting_.store(false, std::memory_order_relaxed);
}

bool Reader::DrainRemaining() {
  if (!finished_) return false;
  waiting_.store(false, std::memory_order_relaxed);
  bool empty = true;
  if (rtnl_) empty = Drain({rtnl_->fd(), kSourceRtnl}) && empty;
  if (nflog_ && !waiting_.load(std::memory_order_relaxed)) empty = Drain({nflog_->fd(), kSourceNflog}) && empty;
  if (conntrack_ && !waiting_.load(std::memory_order_relaxed)) {
    empty = Drain({conntrack_->event_fd(), kSourceConntrack}) && empty;
    if (conntrack_->dump_fd() >= 0 && !waiting_.load(std::memory_order_relaxed)) {
      empty = Drain({conntrack_->dump_fd(), kSourceConntrackDump}) && empty;
    }
  }
  return empty && !waiting_.load(std::memory_order_relaxed);
}

void Reader::Stop() {
  if (finished_ && event_fd_ >= 0) {
    // Finish() stopped the thread and left the sockets open for DrainRemaining().
    CloseSockets();
    close(event_fd_);
    event_fd_ = -1;
    return;
  }
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = write(event_fd_, &one, sizeof one);
  (void)ignored;
  thread_.join();
  // The thread has closed its sockets; close the eventfd now too, not when V8
  // collects the reader: a closed collector must hold no file descriptor.
  close(event_fd_);
  event_fd_ = -1;
}

void Reader::Run(std::promise<void>* opened) {
  try {
    Open();
  } catch (...) {
    CloseSockets();
    opened->set_exception(std::current_exception());
    return;
  }
  opened->set_value();  // `opened` is gone after this: the constructor returns
  Loop();
  // After Finish() the sockets stay open: the caller reads what they hold.
  if (!finished_) CloseSockets();
}

void Reader::Open() {
  if (!options_.netns.empty()) EnterNetns(options_.netns);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw ErrnoError("cannot create the reader's epoll", errno);
  Watch(event_fd_, kTagEvent);
  // The link dump is requested first; its replies wait in the socket and
  // are read before NFLOG is polled (see link_dump_). Reading them here would
  // deadlock when they do not fit in the ring: JS cannot consume until the
  // constructor returns.
  if (options_.links) {
    rtnl_ = std::make_unique<RtnlSocket>(options_.rcvbuf);
    Watch(rtnl_->fd(), kTagRtnl);
    link_dump_ = true;
  }
  if (!options_.groups.empty()) {
    nflog_ = std::make_unique<NflogSocket>(options_.groups, options_.nflog_buffer_size, options_.rcvbuf);
    if (!link_dump_) Watch(nflog_->fd(), kTagNflog);
  }
  if (options_.conntrack) {
    conntrack_ = std::make_unique<ConntrackSocket>(*options_.conntrack, options_.rcvbuf);
    conntrack_settings_ = conntrack_->settings();
    Watch(conntrack_->dump_fd(), kTagConntrackDump);
    // Same pattern as the link dump: the events are subscribed first, the
    // dump is requested, and the event socket is polled only once the dump
    // has been read, so nothing falls between the table and the events.
    // The trade-off: events that happen during the dump wait in the event
    // socket (its rcvbuf must hold them) and reach the ring after the whole
    // dump, so an event may be older than the dump entry of its flow (a NEW
    // after the dump showed the flow established, a DESTROY of a flow the
    // dump no longer had).
    if (options_.conntrack->dump) {
      if (int err = StartConntrackDump()) throw ErrnoError("cannot request the conntrack table dump", err);
    } else {
      Watch(conntrack_->event_fd(), kTagConntrack);
      conntrack_events_watched_ = true;
    }
  }
}

void Reader::CloseSockets() {
  conntrack_.reset();
  nflog_.reset();
  rtnl_.reset();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  epoll_fd_ = -1;
}

void Reader::Watch(int fd, uint32_t tag) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u32 = tag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) < 0) throw ErrnoError("cannot poll a socket", errno);
}

void Reader::Loop() {
  epoll_event events[kTags];
  while (!stopping_.load(std::memory_order_acquire)) {
    if (waiting_.load(std::memory_order_seq_cst)) {
      WaitForRelease();
      continue;
    }
    int n = epoll_wait(epoll_fd_, events, kTags, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EBADF/EINVAL: cannot happen with our own epoll fd
    }
    // Level-triggered: a socket left unread (full ring, round limit) comes back.
    for (int i = 0; i < n && !waiting_.load(std::memory_order_relaxed); i++) {
      switch (events[i].data.u32) {
        case kTagEvent:
          ClearEvent();
          break;
        case kTagRtnl:
          Drain({rtnl_->fd(), kSourceRtnl});
          break;
        case kTagNflog:
          Drain({nflog_->fd(), kSourceNflog});
          break;
        case kTagConntrack:
          // After an overflow, dump once what was queued is read: the dump
          // then shows the table as it is after the events that were lost.
          if (Drain({conntrack_->event_fd(), kSourceConntrack}) && conntrack_resync_ && !conntrack_dump_) {
            StartConntrackDump();
          }
          break;
        case kTagConntrackDump:
          Drain({conntrack_->dump_fd(), kSourceConntrackDump});
          break;
      }
    }
  }
}

// Reads datagrams from one socket into the ring until the socket is empty,
// the ring is full (waiting_ is set) or kRounds is reached. Returns whether
// it found the socket empty.
bool Reader::Drain(const Source& from) {
  const uint32_t max = options_.max_datagram;
  for (int round = 0; round < kRounds; round++) {
    uint32_t room = 0;
    uint8_t* base = ring_.Reserve(slot_, &room);
    if (!base) {
      // Leave the backlog in the socket (then the kernel counts drops as
      // ENOBUFS) rather than overwrite what JS has not read.
      waiting_.store(true, std::memory_order_seq_cst);
      Add(stats_.ring_full, 1);
      base = ring_.Reserve(slot_, &room);  // JS may have released before it could see the flag
      if (!base) return false;
      waiting_.store(false, std::memory_order_relaxed);
    }
    unsigned count = std::min<uint32_t>(kBatch, room / slot_);
    for (unsigned i = 0; i < count; i++) {
      iov_[i].iov_base = base + i * slot_ + kEntryHeaderBytes;
      iov_[i].iov_len = max;
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(from.fd, msgs_, count, MSG_DONTWAIT, nullptr);
    Add(stats_.reads, 1);
    if (got < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (from.source == kSourceConntrackDump && err != EAGAIN) {
        // The kernel stopped the dump with an error on the socket (ENOBUFS
        // when it could not queue the next part). It continues a dump only
        // from a read that finds data queued, so with an empty queue this
        // dump would never end: abandon it on a new socket.
        WriteEnobufs(base, from);
        AbandonConntrackDump();
        return true;
      }
      if (err == ENOBUFS) {
        WriteEnobufs(base, from);
        continue;
      }
      // EAGAIN: empty.
      if (from.source == kSourceConntrack) WriteConntrackDrops(base, false);
      return true;
    }
    // Slide each datagram down to follow the previous entry, so short
    // datagrams do not waste their slot's tail.
    double now = NowUs();
    uint32_t used = 0;
    uint64_t bytes = 0;
    bool dump_ended = false;
    for (int i = 0; i < got; i++) {
      uint32_t length = std::min<uint32_t>(msgs_[i].msg_len, max);
      uint8_t flags = 0;
      if (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) {
        flags |= kFlagTruncated;
        Add(stats_.truncated, 1);
      }
      uint8_t* entry = base + used;
      uint8_t* received = base + i * slot_ + kEntryHeaderBytes;
      if (entry + kEntryHeaderBytes != received) std::memmove(entry + kEntryHeaderBytes, received, length);
      RingProducer::WriteHeader(entry, length, from.source, flags, now);
      if (EndsDump(from.source, entry + kEntryHeaderBytes, length)) dump_ended = true;
      used += kEntryHeaderBytes + Align8(length);
      bytes += length;
    }
    ring_.Commit(used);
    Add(stats_.datagrams, static_cast<uint64_t>(got));
    Add(stats_.bytes, bytes);
    if (from.source == kSourceConntrack) Add(stats_.conntrack_events, static_cast<uint64_t>(got));
    Wake();
    if (dump_ended) FinishDump(from.source);
    if (static_cast<unsigned>(got) < count) {
      // Fewer than asked for: the socket is empty now.
      if (from.source == kSourceConntrack) CheckConntrackDrops();
      return true;
    }
  }
  return false;
}

// The kernel dropped messages for this socket: a zero-length entry tells JS
// where, in order with the datagrams around it.
void Reader::WriteEnobufs(uint8_t* entry, const Source& from) {
  Add(stats_.enobufs, 1);
  if (from.source == kSourceConntrack) {
    Add(stats_.conntrack_enobufs, 1);
    WriteConntrackDrops(entry, true);
    return;
  }
  RingProducer::WriteHeader(entry, 0, from.source, kFlagEnobufs, NowUs());
  ring_.Commit(kEntryHeaderBytes);
  Wake();
}

// The kernel says ENOBUFS once per overflow but keeps dropping until the
// queue has drained: each time the event socket is found empty, the drops
// since the last report are reported. A full ring leaves it to the next time.
void Reader::CheckConntrackDrops() {
  uint32_t room = 0;
  uint8_t* entry = ring_.Reserve(kEntryHeaderBytes + 8, &room);
  if (entry) WriteConntrackDrops(entry, false);
}

// Conntrack events carry no sequence numbers; the socket's drop counter says
// how many were lost. The entry's 4 bytes are the events dropped since the
// last report (host order); where the kernel cannot give the counter, an
// ENOBUFS entry has no count.
void Reader::WriteConntrackDrops(uint8_t* entry, bool reported) {
  uint32_t drops = 0;
  bool known = SocketDrops(conntrack_->event_fd(), &drops);
  uint32_t dropped = known ? drops - conntrack_drops_ : 0;
  // Nothing new to say: no ENOBUFS, or one whose drops an earlier entry counted.
  if (known ? dropped == 0 : !reported) return;
  conntrack_drops_ = drops;
  if (options_.conntrack->resync_on_overflow) conntrack_resync_ = true;
  uint32_t length = 0;
  if (known) {
    std::memcpy(entry + kEntryHeaderBytes, &dropped, sizeof dropped);
    length = sizeof dropped;
  }
  RingProducer::WriteHeader(entry, length, kSourceConntrack, kFlagEnobufs, NowUs());
  ring_.Commit(kEntryHeaderBytes + Align8(length));
  Wake();
}

// Whether a datagram ends the dump in flight on its socket (framing only).
bool Reader::EndsDump(uint16_t source, const uint8_t* data, uint32_t length) const {
  if (source == kSourceRtnl) return link_dump_ && rtnl_->EndsDump(data, length);
  if (source == kSourceConntrackDump) return conntrack_dump_ && conntrack_->EndsDump(data, length);
  return false;
}

void Reader::FinishDump(uint16_t source) {
  if (source == kSourceRtnl) {
    link_dump_ = false;
    if (nflog_) WatchLate(nflog_->fd(), kTagNflog);
    return;
  }
  conntrack_dump_ = false;
  if (!conntrack_events_watched_) {
    conntrack_events_watched_ = true;
    WatchLate(conntrack_->event_fd(), kTagConntrack);
  }
  // Events were lost while this dump ran: it may have passed their entries already.
  if (conntrack_resync_) StartConntrackDump();
}

// A dump that failed is incomplete: JS has the ENOBUFS entry and reports it.
// The dump socket is replaced and, when the table is to be kept in step,
// dumped again.
void Reader::AbandonConntrackDump() {
  if (!conntrack_dump_) return;
  if (conntrack_->ReopenDump() == 0) {
    WatchLate(conntrack_->dump_fd(), kTagConntrackDump);
  } else {
    // Out of file descriptors or memory: no more dumps. Events go on.
    conntrack_resync_ = false;
  }
  if (options_.conntrack->resync_on_overflow && conntrack_->dump_fd() >= 0) conntrack_resync_ = true;
  FinishDump(kSourceConntrackDump);
}

// Requests a conntrack dump, at start or to resynchronise; returns the errno,
// 0 if requested. Its replies are tagged SOURCE_CONNTRACK_DUMP. Unlike the
// first one, a resynchronising dump interleaves with the events that keep
// coming: the event socket stays polled, or it would overflow again.
int Reader::StartConntrackDump() {
  conntrack_resync_ = false;
  // From the loop this fails only when the kernel is out of memory; the next
  // ENOBUFS tries again.
  int err = conntrack_->RequestDump();
  if (err != 0) return err;
  Add(stats_.conntrack_dumps, 1);
  conntrack_dump_ = true;
  return 0;
}

// Starts polling a socket from the loop, where errors have no one to go to.
void Reader::WatchLate(int fd, uint32_t tag) {
  try {
    Watch(fd, tag);
  } catch (const SysError&) {
    // Only ENOMEM can get here. The socket stays unread and the kernel
    // counts the drops.
  }
}

void Reader::WaitForRelease() {
  pollfd p{event_fd_, POLLIN, 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  ClearEvent();
  waiting_.store(false, std::memory_order_relaxed);
}

void Reader::ClearEvent() {
  uint64_t count;
  ssize_t ignored = read(event_fd_, &count, sizeof count);
  (void)ignored;  // EAGAIN: already cleared
}

void Reader::Wake() {
  uv_async_send(wake_);
  Add(stats_.wakeups, 1);
}

}  // namespace nfc
