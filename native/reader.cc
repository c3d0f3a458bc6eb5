#include "reader.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
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

// An epoll tag: the namespace's index and which of its sockets.
enum Kind : uint32_t { kKindRtnl, kKindNflog, kKindConntrack, kKindConntrackDump };
constexpr uint32_t kTagEvent = 0xffffffffu;
uint32_t Tag(uint16_t index, Kind kind) { return (static_cast<uint32_t>(index) << 8) | kind; }

double NowUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double MonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

Namespace::~Namespace() {
  conntrack.reset();
  nflog.reset();
  rtnl.reset();
  if (fd >= 0) close(fd);
}

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
  // spaces_ changes only while the caller waits (Attach), so it is stable here.
  for (auto& ns : spaces_) {
    if (!ns || !ns->attached) continue;
    if (ns->nflog) ns->nflog->Unbind();
    if (ns->conntrack) ns->conntrack->Unsubscribe();
  }
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = write(event_fd_, &one, sizeof one);
  (void)ignored;
  thread_.join();
  // The thread is gone: what it owned is the caller's now. No more dumps.
  for (auto& ns : spaces_) {
    if (ns) ns->conntrack_resync = false;
  }
  waiting_.store(false, std::memory_order_relaxed);
}

bool Reader::DrainRemaining() {
  if (!finished_) return false;
  waiting_.store(false, std::memory_order_relaxed);
  bool empty = true;
  auto full = [this] { return waiting_.load(std::memory_order_relaxed); };
  for (auto& space : spaces_) {
    if (!space || !space->attached) continue;
    Namespace& ns = *space;
    if (ns.rtnl && !full()) empty = Drain({&ns, ns.rtnl->fd(), kSourceRtnl}) && empty;
    if (ns.nflog && !full()) empty = Drain({&ns, ns.nflog->fd(), kSourceNflog}) && empty;
    if (ns.conntrack && !full()) {
      empty = Drain({&ns, ns.conntrack->event_fd(), kSourceConntrack}) && empty;
      if (ns.conntrack->dump_fd() >= 0 && !full())
        empty = Drain({&ns, ns.conntrack->dump_fd(), kSourceConntrackDump}) && empty;
    }
  }
  return empty && !full();
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

uint64_t Reader::Attach(uint16_t index, const std::string& name) {
  Command command{true, index, name, {}};
  return Send(&command);
}

void Reader::Detach(uint16_t index) {
  Command command{false, index, "", {}};
  Send(&command);
}

// Hands a command to the thread and waits for its answer (the thread alone
// touches sockets and epoll, so no lock is held while it works).
uint64_t Reader::Send(Command* command) {
  if (!thread_.joinable()) throw SysError("the reader is closed", "ERR_CLOSED");
  std::future<uint64_t> result = command->done.get_future();
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    commands_.push_back(command);
  }
  commands_pending_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = write(event_fd_, &one, sizeof one);
  (void)ignored;
  return result.get();
}

void Reader::RunCommands() {
  commands_pending_.store(false, std::memory_order_relaxed);
  std::vector<Command*> commands;
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    commands.swap(commands_);
  }
  for (Command* command : commands) {
    uint16_t index = command->index;
    try {
      if (command->attach) {
        if (index >= spaces_.size()) spaces_.resize(index + 1u);
        if (spaces_[index] && spaces_[index]->attached) {
          throw SysError("namespace index " + std::to_string(index) + " is in use", "ERR_IN_USE");
        }
        auto ns = std::make_unique<Namespace>();
        ns->name = command->name;
        ns->index = index;
        OpenNamespace(*ns);
        spaces_[index] = std::move(ns);
        command->done.set_value(spaces_[index]->inode);
      } else {
        if (index < spaces_.size() && spaces_[index]) CloseNamespace(*spaces_[index]);
        command->done.set_value(0);
      }
    } catch (...) {
      command->done.set_exception(std::current_exception());
    }
  }
}

void Reader::Run(std::promise<void>* opened) {
  // Named for top -H, perf and /proc/PID/task (at most 15 characters); a failure changes nothing.
  pthread_setname_np(pthread_self(), "nfc-reader");
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
  home_fd_ = OpenOwnNetns(&home_inode_);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw ErrnoError("cannot create the reader's epoll", errno);
  Watch(event_fd_, kTagEvent);
  for (size_t i = 0; i < options_.namespaces.size(); i++) {
    auto ns = std::make_unique<Namespace>();
    ns->name = options_.namespaces[i];
    ns->index = static_cast<uint16_t>(i);
    OpenNamespace(*ns);
    spaces_.push_back(std::move(ns));
  }
}

// Enters the namespace, opens its sockets there and comes back; on failure
// nothing of it stays open.
void Reader::OpenNamespace(Namespace& ns) {
  if (ns.name.empty()) {
    ns.inode = home_inode_;
  } else {
    ns.fd = OpenNetns(ns.name, &ns.inode);
    EnterNetns(ns.fd, ns.name);
  }
  // Only a thread that left comes back: setns needs CAP_SYS_ADMIN even into
  // the thread's own namespace, which an unprivileged collector lacks.
  try {
    OpenSockets(ns);
  } catch (...) {
    if (ns.fd >= 0) ReturnHome();
    CloseNamespace(ns);
    throw;
  }
  if (ns.fd >= 0) ReturnHome();
  ns.attached = true;
}

void Reader::ReturnHome() {
  // Cannot fail for a namespace this thread was in; if it did, sockets opened
  // later would land in the wrong namespace, which is worse than stopping.
  if (setns(home_fd_, CLONE_NEWNET) != 0) std::abort();
}

void Reader::OpenSockets(Namespace& ns) {
  // The link dump is requested first; its replies wait in the socket and
  // are read before NFLOG is polled (see link_dump). Reading them here would
  // deadlock when they do not fit in the ring: JS cannot consume until the
  // constructor returns.
  if (options_.links) {
    ns.rtnl = std::make_unique<RtnlSocket>(options_.rcvbuf);
    Watch(ns.rtnl->fd(), Tag(ns.index, kKindRtnl));
    ns.link_dump = true;
  }
  if (!options_.groups.empty()) {
    ns.nflog = std::make_unique<NflogSocket>(options_.groups, options_.nflog_buffer_size, options_.rcvbuf);
    if (!ns.link_dump) Watch(ns.nflog->fd(), Tag(ns.index, kKindNflog));
  }
  if (options_.conntrack) {
    ns.conntrack = std::make_unique<ConntrackSocket>(*options_.conntrack, options_.rcvbuf);
    ns.conntrack_settings = ns.conntrack->settings();
    Watch(ns.conntrack->dump_fd(), Tag(ns.index, kKindConntrackDump));
    // Same pattern as the link dump: the events are subscribed first, the
    // dump is requested, and the event socket is polled only once the dump
    // has been read, so nothing falls between the table and the events.
    // The trade-off: events that happen during the dump wait in the event
    // socket (its rcvbuf must hold them) and reach the ring after the whole
    // dump, so an event may be older than the dump entry of its flow (a NEW
    // after the dump showed the flow established, a DESTROY of a flow the
    // dump no longer had).
    if (options_.conntrack->dump) {
      if (int err = StartConntrackDump(ns)) throw ErrnoError("cannot request the conntrack table dump", err);
    } else {
      Watch(ns.conntrack->event_fd(), Tag(ns.index, kKindConntrack));
      ns.conntrack_events_watched = true;
    }
  }
}

// Closing a socket takes it out of the epoll set. The counters stay.
void Reader::CloseNamespace(Namespace& ns) {
  ns.attached = false;
  ns.conntrack.reset();
  ns.nflog.reset();
  ns.rtnl.reset();
  ns.link_dump = ns.conntrack_dump = ns.conntrack_resync = ns.conntrack_events_watched = ns.conntrack_unchecked = false;
  if (ns.fd >= 0) close(ns.fd);
  ns.fd = -1;
}

void Reader::CloseSockets() {
  for (auto& ns : spaces_) {
    if (ns) CloseNamespace(*ns);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  epoll_fd_ = -1;
  if (home_fd_ >= 0) close(home_fd_);
  home_fd_ = -1;
}

void Reader::Watch(int fd, uint32_t tag) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u32 = tag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) < 0) throw ErrnoError("cannot poll a socket", errno);
}

void Reader::Loop() {
  epoll_event events[kEvents];
  while (!stopping_.load(std::memory_order_acquire)) {
    // Commands first: a batch of epoll events never refers to a namespace closed since.
    if (commands_pending_.load(std::memory_order_acquire)) RunCommands();
    if (waiting_.load(std::memory_order_seq_cst)) {
      // The ring is full: JS must hear of it now, or it would never release.
      WakeDeferred();
      WaitForRelease();
      continue;
    }
    if (wake_deferred_ && !revisit_) {
      // A conntrack burst: let events gather in the socket until the wake-up
      // is due and read them then, many to a read, instead of waking for each
      // one. Stop, a command or a release ends the pause early. (A socket to
      // revisit has a backlog already: no pause.)
      int pause = WaitTimeoutMs();
      pollfd p{event_fd_, POLLIN, 0};
      if (pause > 0) poll(&p, 1, pause);
    }
    // An event socket left unchecked is looked at again even if epoll has nothing to say about it.
    int n = epoll_wait(epoll_fd_, events, kEvents, revisit_ || wake_deferred_ ? 0 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      WakeDeferred();
      return;  // EBADF/EINVAL: cannot happen with our own epoll fd
    }
    if (n == 0 && WaitTimeoutMs() == 0) WakeDeferred();
    // Level-triggered: a socket left unread (full ring, round limit) comes back.
    for (int i = 0; i < n && !waiting_.load(std::memory_order_relaxed); i++) {
      uint32_t tag = events[i].data.u32;
      if (tag == kTagEvent) {
        ClearEvent();
        continue;
      }
      uint32_t index = tag >> 8;
      Namespace* ns = index < spaces_.size() ? spaces_[index].get() : nullptr;
      if (!ns || !ns->attached) continue;
      switch (tag & 0xff) {
        case kKindRtnl:
          Drain({ns, ns->rtnl->fd(), kSourceRtnl});
          break;
        case kKindNflog:
          Drain({ns, ns->nflog->fd(), kSourceNflog});
          break;
        case kKindConntrack:
          DrainConntrackEvents(*ns);
          break;
        case kKindConntrackDump:
          Drain({ns, ns->conntrack->dump_fd(), kSourceConntrackDump});
          break;
      }
    }
    if (revisit_ && !waiting_.load(std::memory_order_relaxed)) RevisitConntrackEvents();
  }
  WakeDeferred();
}

// The event socket's drops are checked when a drain finds it empty. A drain
// that stopped first (round limit, full ring) may have read the last event
// of an overflow: epoll, level-triggered, would not bring an empty socket
// back, and those drops would go unreported, so the loop revisits it.
void Reader::DrainConntrackEvents(Namespace& ns) {
  bool empty = Drain({&ns, ns.conntrack->event_fd(), kSourceConntrack});
  ns.conntrack_unchecked = !empty;
  if (!empty) revisit_ = true;
  // After an overflow, dump once what was queued is read: the dump then
  // shows the table as it is after the events that were lost.
  if (empty && ns.conntrack_resync && !ns.conntrack_dump) StartConntrackDump(ns);
}

void Reader::RevisitConntrackEvents() {
  revisit_ = false;
  for (auto& space : spaces_) {
    if (waiting_.load(std::memory_order_relaxed)) {
      revisit_ = true;  // the ring filled: after JS has read
      return;
    }
    if (space && space->attached && space->conntrack_unchecked && space->conntrack_events_watched)
      DrainConntrackEvents(*space);
  }
}

// Reads datagrams from one socket into the ring until the socket is empty,
// the ring is full (waiting_ is set) or kRounds is reached. Returns whether
// it found the socket empty.
bool Reader::Drain(const Source& from) {
  Namespace& ns = *from.ns;
  const uint32_t max = options_.max_datagram;
  for (int round = 0; round < kRounds; round++) {
    uint32_t room = 0;
    uint8_t* base = ring_.Reserve(slot_, &room);
    if (!base) {
      // Leave the backlog in the socket (then the kernel counts drops as
      // ENOBUFS) rather than overwrite what JS has not read.
      waiting_.store(true, std::memory_order_seq_cst);
      Count(ns, &Stats::ring_full, 1);
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
    Count(ns, &Stats::reads, 1);
    if (got < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (from.source == kSourceConntrackDump && err != EAGAIN) {
        // The kernel stopped the dump with an error on the socket (ENOBUFS
        // when it could not queue the next part). It continues a dump only
        // from a read that finds data queued, so with an empty queue this
        // dump would never end: abandon it on a new socket.
        WriteEnobufs(base, from);
        AbandonConntrackDump(ns);
        return true;
      }
      if (err == ENOBUFS) {
        WriteEnobufs(base, from);
        continue;
      }
      // EAGAIN: empty.
      if (from.source == kSourceConntrack) WriteConntrackDrops(ns, base, false);
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
        Count(ns, &Stats::truncated, 1);
      }
      uint8_t* entry = base + used;
      uint8_t* received = base + i * slot_ + kEntryHeaderBytes;
      if (entry + kEntryHeaderBytes != received) std::memmove(entry + kEntryHeaderBytes, received, length);
      RingProducer::WriteHeader(entry, length, from.source, flags, now, ns.index);
      if (EndsDump(ns, from.source, entry + kEntryHeaderBytes, length)) dump_ended = true;
      used += kEntryHeaderBytes + Align8(length);
      bytes += length;
    }
    ring_.Commit(used);
    Count(ns, &Stats::datagrams, static_cast<uint64_t>(got));
    Count(ns, &Stats::bytes, bytes);
    if (from.source == kSourceConntrack) Count(ns, &Stats::conntrack_events, static_cast<uint64_t>(got));
    // From the loop, conntrack entries wake JS at most once an interval; otherwise (DrainRemaining) JS reads on anyway.
    if (from.source == kSourceConntrack && !finished_.load(std::memory_order_relaxed))
      WakeSoon();
    else
      Wake();
    if (dump_ended) FinishDump(ns, from.source);
    if (static_cast<unsigned>(got) < count) {
      // Fewer than asked for: the socket is empty now. With no room left to
      // say its drops, it counts as not checked, to be looked at again.
      if (from.source == kSourceConntrack) return CheckConntrackDrops(ns);
      return true;
    }
  }
  return false;
}

// The kernel dropped messages for this socket: a zero-length entry tells JS
// where, in order with the datagrams around it.
void Reader::WriteEnobufs(uint8_t* entry, const Source& from) {
  Namespace& ns = *from.ns;
  Count(ns, &Stats::enobufs, 1);
  if (from.source == kSourceConntrack) {
    Count(ns, &Stats::conntrack_enobufs, 1);
    WriteConntrackDrops(ns, entry, true);
    return;
  }
  RingProducer::WriteHeader(entry, 0, from.source, kFlagEnobufs, NowUs(), ns.index);
  ring_.Commit(kEntryHeaderBytes);
  Wake();
}

// The kernel says ENOBUFS once per overflow but keeps dropping until the
// queue has drained: each time the event socket is found empty, the drops
// since the last report are reported. Returns false when the ring had no
// room to say them.
bool Reader::CheckConntrackDrops(Namespace& ns) {
  uint32_t room = 0;
  uint8_t* entry = ring_.Reserve(kEntryHeaderBytes + 8, &room);
  if (!entry) return false;
  WriteConntrackDrops(ns, entry, false);
  return true;
}

// Conntrack events carry no sequence numbers; the socket's drop counter says
// how many were lost. The entry's 4 bytes are the events dropped since the
// last report (host order); where the kernel cannot give the counter, an
// ENOBUFS entry has no count.
void Reader::WriteConntrackDrops(Namespace& ns, uint8_t* entry, bool reported) {
  uint32_t drops = 0;
  bool known = SocketDrops(ns.conntrack->event_fd(), &drops);
  uint32_t dropped = known ? drops - ns.conntrack_drops : 0;
  // Nothing new to say: no ENOBUFS, or one whose drops an earlier entry counted.
  if (known ? dropped == 0 : !reported) return;
  ns.conntrack_drops = drops;
  if (options_.conntrack->resync_on_overflow) ns.conntrack_resync = true;
  uint32_t length = 0;
  if (known) {
    std::memcpy(entry + kEntryHeaderBytes, &dropped, sizeof dropped);
    length = sizeof dropped;
  }
  RingProducer::WriteHeader(entry, length, kSourceConntrack, kFlagEnobufs, NowUs(), ns.index);
  ring_.Commit(kEntryHeaderBytes + Align8(length));
  Wake();
}

// Whether a datagram ends the dump in flight on its socket (framing only).
bool Reader::EndsDump(const Namespace& ns, uint8_t source, const uint8_t* data, uint32_t length) const {
  if (source == kSourceRtnl) return ns.link_dump && ns.rtnl->EndsDump(data, length);
  if (source == kSourceConntrackDump) return ns.conntrack_dump && ns.conntrack->EndsDump(data, length);
  return false;
}

void Reader::FinishDump(Namespace& ns, uint8_t source) {
  if (source == kSourceRtnl) {
    ns.link_dump = false;
    if (ns.nflog) WatchLate(ns.nflog->fd(), Tag(ns.index, kKindNflog));
    return;
  }
  ns.conntrack_dump = false;
  if (!ns.conntrack_events_watched) {
    ns.conntrack_events_watched = true;
    WatchLate(ns.conntrack->event_fd(), Tag(ns.index, kKindConntrack));
  }
  // Events were lost while this dump ran: it may have passed their entries already.
  if (ns.conntrack_resync) StartConntrackDump(ns);
}

// A dump that failed is incomplete: JS has the ENOBUFS entry and reports it.
// The dump socket is replaced (in the namespace it belongs to) and, when the
// table is to be kept in step, dumped again.
void Reader::AbandonConntrackDump(Namespace& ns) {
  if (!ns.conntrack_dump) return;
  int err = 0;
  if (ns.fd >= 0 && setns(ns.fd, CLONE_NEWNET) != 0) err = errno;
  if (err == 0) {
    err = ns.conntrack->ReopenDump();
    if (ns.fd >= 0) ReturnHome();
  }
  if (err == 0) {
    WatchLate(ns.conntrack->dump_fd(), Tag(ns.index, kKindConntrackDump));
  } else {
    // Out of file descriptors or memory: no more dumps. Events go on.
    ns.conntrack_resync = false;
  }
  if (options_.conntrack->resync_on_overflow && ns.conntrack->dump_fd() >= 0) ns.conntrack_resync = true;
  FinishDump(ns, kSourceConntrackDump);
}

// Requests a conntrack dump, at start or to resynchronise; returns the errno,
// 0 if requested. Its replies are tagged SOURCE_CONNTRACK_DUMP. Unlike the
// first one, a resynchronising dump interleaves with the events that keep
// coming: the event socket stays polled, or it would overflow again.
int Reader::StartConntrackDump(Namespace& ns) {
  ns.conntrack_resync = false;
  // From the loop this fails only when the kernel is out of memory; the next
  // ENOBUFS tries again.
  int err = ns.conntrack->RequestDump();
  if (err != 0) return err;
  Count(ns, &Stats::conntrack_dumps, 1);
  ns.conntrack_dump = true;
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
  last_wake_us_ = MonotonicUs();
  wake_deferred_ = false;
}

// Wakes JS now if the last wake-up is an interval old, else owes it one (the loop pays within the interval).
void Reader::WakeSoon() {
  if (MonotonicUs() - last_wake_us_ >= kConntrackWakeIntervalUs)
    Wake();
  else
    wake_deferred_ = true;
}

void Reader::WakeDeferred() {
  if (wake_deferred_) Wake();
}

// How long the loop may wait for sockets: forever, or until a deferred wake-up is due (0: due now).
int Reader::WaitTimeoutMs() const {
  if (!wake_deferred_) return -1;
  double left = kConntrackWakeIntervalUs - (MonotonicUs() - last_wake_us_);
  return left <= 0 ? 0 : static_cast<int>((left + 999) / 1000);
}

}  // namespace nfc
