// ctnetlink (nfnetlink_conntrack): an event socket subscribed to conntrack
// NEW/UPDATE/DESTROY events, with a kernel-side BPF filter, and a separate
// request socket for table dumps, so dump replies never mix with events.
// The reader thread reads both fds directly with recvmmsg.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace nfc {

// An IPv4 or IPv6 prefix, as libnetfilter_conntrack's filter wants it: 32-bit
// words in host byte order (only word 0 for IPv4).
struct Cidr {
  bool ipv6 = false;
  uint32_t addr[4] = {};
  uint32_t mask[4] = {};
};

// A prefix from its address bytes in network order (4, or 16 when ipv6) and
// its length in bits (at most 32 or 128; checked by the caller).
Cidr MakeCidr(const uint8_t* address, bool ipv6, unsigned prefix);

struct ConntrackOptions {
  uint32_t events = 0;  // NF_NETLINK_CONNTRACK_* bits: 1 NEW, 2 UPDATE, 4 DESTROY
  bool dump = false;
  bool resync_on_overflow = false;
  bool reliable = false;
  bool enable_accounting = false;
  bool enable_timestamps = false;
  // The kernel-side filter. It never drops a flow that matches, but may let
  // others through (see OpenEvents), and dumps are filtered by mark only:
  // JS checks again.
  std::vector<uint8_t> protocols;
  std::vector<Cidr> sources;
  std::vector<Cidr> destinations;
  bool has_mark = false;
  uint32_t mark = 0;
  uint32_t mark_mask = 0;
};

// The namespace's net.netfilter sysctls as read at open; -1: unreadable.
struct ConntrackSettings {
  int accounting = -1;
  int timestamps = -1;
};

class ConntrackSocket {
 public:
  // Sets the sysctls asked for, then opens and configures both sockets (in
  // the calling thread's network namespace); throws SysError with a hint.
  ConntrackSocket(const ConntrackOptions& options, int rcvbuf);
  ConntrackSocket(const ConntrackSocket&) = delete;
  ConntrackSocket& operator=(const ConntrackSocket&) = delete;

  int event_fd() const { return event_fd_.get(); }
  int dump_fd() const { return dump_fd_.get(); }
  const ConntrackSettings& settings() const { return settings_; }

  // Sends a dump request for the whole table (both families) on the dump
  // socket; the replies are read from dump_fd(). Returns the errno, 0 if sent.
  int RequestDump();
  // Whether a datagram from dump_fd() ends the last requested dump.
  bool EndsDump(const uint8_t* data, uint32_t length) const;
  // Replaces the dump socket with a new one (a dump that failed on the old
  // one can neither resume nor be requested again there). Returns the errno,
  // 0 on success; on failure dump_fd() is -1.
  int ReopenDump();
  // Leaves the event groups: events already queued stay readable, no more come.
  void Unsubscribe();

 private:
  void Probe();
  void OpenEvents(const ConntrackOptions& options, int rcvbuf);

  UniqueFd event_fd_;
  UniqueFd dump_fd_;
  uint32_t seq_ = 0;
  uint32_t dump_seq_ = 0;
  bool dump_mark_ = false;  // the mark filter also applies to dumps (ctnetlink filters them by CTA_MARK)
  uint32_t mark_ = 0;
  uint32_t mark_mask_ = 0;
  ConntrackSettings settings_;
};

}  // namespace nfc
