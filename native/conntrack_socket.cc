#include "conntrack_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "netlink_request.h"
#include "netlink_util.h"
#include "rcvbuf.h"
#include "sys_error.h"

namespace nfc {

namespace {

constexpr int kAckTimeoutMs = 5000;
const char* const kNoCtnetlink = "this kernel has no conntrack netlink support (nf_conntrack_netlink)";

// The hint for an errno from opening or talking to ctnetlink.
std::string Hint(int err) {
  if (err == EPERM || err == EACCES) return kNeedsNetAdmin;
  if (err == EPROTONOSUPPORT || err == ENOENT || err == EOPNOTSUPP) return kNoCtnetlink;
  return "";
}

int OpenNetfilterSocket(const char* what) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd >= 0) return fd;
  int err = errno;
  throw ErrnoError(std::string("cannot open the conntrack ") + what + " socket", err, Hint(err));
}

// A ctnetlink request: nfnetlink's header for both families, then attributes.
struct Request : NetlinkRequest {
  Request(uint16_t type, uint16_t flags, uint32_t seq)
      : NetlinkRequest(static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | type), flags, seq) {
    PutNfgenHeader();
  }
};

// Writes "1" to a /proc/sys file. Opened from the reader thread after setns,
// so the file is the collector namespace's (/proc/sys/net follows the
// opening thread's namespace). A failure shows in the value read back.
void EnableSysctl(const char* path) {
  UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return;
  ssize_t ignored = write(fd.get(), "1\n", 2);
  (void)ignored;
}

int ReadSysctl(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return -1;
  char text[32] = {};
  ssize_t got = read(fd.get(), text, sizeof text - 1);
  if (got <= 0) return -1;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  return end == text ? -1 : static_cast<int>(value);
}

constexpr const char* kAcctPath = "/proc/sys/net/netfilter/nf_conntrack_acct";
constexpr const char* kTimestampPath = "/proc/sys/net/netfilter/nf_conntrack_timestamp";

}  // namespace

Cidr MakeCidr(const uint8_t* address, bool ipv6, unsigned prefix) {
  Cidr cidr;
  cidr.ipv6 = ipv6;
  unsigned words = ipv6 ? 4 : 1;
  for (unsigned k = 0; k < words; k++) {
    uint32_t word;
    std::memcpy(&word, address + 4 * k, 4);
    cidr.addr[k] = ntohl(word);
    unsigned in_word = prefix > 32 * k ? std::min(prefix - 32 * k, 32u) : 0;
    cidr.mask[k] = in_word == 0 ? 0 : ~0u << (32 - in_word);
  }
  return cidr;
}

ConntrackSocket::ConntrackSocket(const ConntrackOptions& options, int rcvbuf) {
  // Before subscribing, so the first events already carry counters and start times.
  if (options.enable_accounting) EnableSysctl(kAcctPath);
  if (options.enable_timestamps) EnableSysctl(kTimestampPath);
  settings_.accounting = ReadSysctl(kAcctPath);
  settings_.timestamps = ReadSysctl(kTimestampPath);
  dump_mark_ = options.has_mark;
  mark_ = options.mark;
  mark_mask_ = options.mark_mask;
  // No receive buffer to set: the kernel produces dump parts only as we read them.
  dump_fd_.Reset(OpenNetfilterSocket("dump"));
  OpenEvents(options, rcvbuf);
}

// Subscribing to the event groups succeeds even without ctnetlink (the
// kernel only tries to load the module), and then no event ever comes. A
// request that needs ctnetlink (its global counters: small, not a dump)
// tells now, with a clear error. It goes on the event socket before that
// joins any group, so nothing else arrives meanwhile; not on the dump
// socket, whose dump parts the kernel sizes after the largest buffer a recv
// ever offered there (AwaitAck's), up to 32 KiB: more than maxDatagram.
void ConntrackSocket::Probe() {
  Request request(IPCTNL_MSG_CT_GET_STATS, NLM_F_ACK, ++seq_);
  int err = request.Send(event_fd_.get());
  if (err == 0) err = AwaitAck(event_fd_.get(), seq_, kAckTimeoutMs);
  if (err != 0) throw ErrnoError("cannot reach conntrack netlink", err, Hint(err));
}

void ConntrackSocket::OpenEvents(const ConntrackOptions& options, int rcvbuf) {
  event_fd_.Reset(OpenNetfilterSocket("event"));
  Probe();
  SetReceiveBuffer(event_fd_.get(), rcvbuf, "conntrack event");
  if (options.reliable) {
    // Delivery failures to this socket are reported back to ctnetlink,
    // which then keeps DESTROY events and delivers them again later
    // (conntrackd's reliable mode) rather than lose them silently; ENOBUFS
    // is not reported to us, so there is nothing to resynchronise.
    int one = 1;
    if (setsockopt(event_fd_.get(), SOL_NETLINK, NETLINK_BROADCAST_ERROR, &one, sizeof one) < 0 ||
        setsockopt(event_fd_.get(), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one) < 0) {
      throw ErrnoError("cannot make conntrack event delivery reliable", errno);
    }
  }

  // The filter goes on before the groups are joined, so no unfiltered event
  // gets in. libnetfilter_conntrack compiles it to classic BPF; it only
  // attaches a program when there is something to filter.
  nfct_filter* filter = nfct_filter_create();
  if (!filter) throw ErrnoError("cannot create the conntrack event filter", ENOMEM);
  // One 8-bit BPF jump per distinct protocol: a list of nearly all of them
  // would overflow it, and filters next to nothing; it is left to JS.
  std::bitset<256> protocols;
  for (uint8_t protocol : options.protocols) protocols.set(protocol);
  if (protocols.count() <= 200) {
    for (unsigned p = 0; p < protocols.size(); p++) {
      if (protocols[p]) nfct_filter_add_attr_u32(filter, NFCT_FILTER_L4PROTO, p);
    }
  }
  // The filter passes every flow that matches a list, and may pass others
  // (JS checks the prefixes again): a family with no prefix in a list is not
  // filtered by it, and flaws of the library's BPF leave some lists out:
  // - its jumps are 8 bits: past 84 IPv4 prefixes they land wrong (so <= 64);
  // - up to 1.0.9 (fixed upstream in 2023), a flow that differs from an IPv6
  //   prefix in its first 96 bits is rejected without trying the next
  //   prefixes: only a single IPv6 prefix is exact;
  // - it looks up the IPv4 address without staying inside the tuple's nest,
  //   and in an IPv6 flow takes CTA_TUPLE_PROTO (type 2, as CTA_IP_V4_DST)
  //   for it, so IPv4 destinations reject every IPv6 flow: right when only
  //   IPv4 destinations are listed, wrong when IPv6 ones are too. (IPv4
  //   sources are safe: no later attribute is type 1.)
  auto count = [](const std::vector<Cidr>& list, bool ipv6) {
    return std::count_if(list.begin(), list.end(), [ipv6](const Cidr& c) { return c.ipv6 == ipv6; });
  };
  auto add = [filter](const std::vector<Cidr>& list, bool ipv6, nfct_filter_attr attr) {
    for (const Cidr& c : list) {
      if (c.ipv6 != ipv6) continue;
      if (ipv6) {
        nfct_filter_ipv6 f{};
        std::memcpy(f.addr, c.addr, sizeof f.addr);
        std::memcpy(f.mask, c.mask, sizeof f.mask);
        nfct_filter_add_attr(filter, attr, &f);
      } else {
        nfct_filter_ipv4 f{c.addr[0], c.mask[0]};
        nfct_filter_add_attr(filter, attr, &f);
      }
    }
  };
  constexpr long kMaxIpv4Prefixes = 64;
  const std::vector<Cidr>& src = options.sources;
  const std::vector<Cidr>& dst = options.destinations;
  if (count(src, false) <= kMaxIpv4Prefixes) add(src, false, NFCT_FILTER_SRC_IPV4);
  if (count(src, true) == 1) add(src, true, NFCT_FILTER_SRC_IPV6);
  if (count(dst, false) <= kMaxIpv4Prefixes && count(dst, true) == 0) add(dst, false, NFCT_FILTER_DST_IPV4);
  if (count(dst, true) == 1) add(dst, true, NFCT_FILTER_DST_IPV6);
  if (options.has_mark) {
    nfct_filter_dump_mark mark{options.mark, options.mark_mask};
    nfct_filter_add_attr(filter, NFCT_FILTER_MARK, &mark);
  }
  int attached = nfct_filter_attach(event_fd_.get(), filter);
  int err = errno;
  nfct_filter_destroy(filter);
  if (attached < 0) throw ErrnoError("cannot attach the conntrack event filter", err);

  // Event bit i is group i + 1 (NFNLGRP_CONNTRACK_NEW/UPDATE/DESTROY). Joined
  // with setsockopt: the probe's send has already bound the socket.
  for (unsigned bit = 0; bit < 3; bit++) {
    if (!(options.events & (1u << bit))) continue;
    int group = static_cast<int>(bit) + 1;
    if (setsockopt(event_fd_.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
      int err = errno;
      throw ErrnoError("cannot subscribe to conntrack events", err, Hint(err));
    }
  }
}

void ConntrackSocket::Unsubscribe() {
  for (int group = 1; group <= 3; group++) {
    // ENOENT-like failures (a group never joined) are harmless.
    setsockopt(event_fd_.get(), SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &group, sizeof group);
  }
}

int ConntrackSocket::RequestDump() {
  Request request(IPCTNL_MSG_CT_GET, NLM_F_DUMP, ++seq_);
  // ctnetlink filters dumps by mark itself; protocols and addresses it
  // cannot filter by prefix, so dump entries outside them reach JS.
  if (dump_mark_) {
    request.PutU32BigEndian(CTA_MARK, mark_);
    request.PutU32BigEndian(CTA_MARK_MASK, mark_mask_);
  }
  int err = request.Send(dump_fd_.get());
  if (err == 0) dump_seq_ = seq_;
  return err;
}

int ConntrackSocket::ReopenDump() {
  dump_fd_.Reset(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  return dump_fd_.valid() ? 0 : errno;
}

bool ConntrackSocket::EndsDump(const uint8_t* data, uint32_t length) const {
  return nfc::EndsDump(data, length, dump_seq_);
}

}  // namespace nfc
