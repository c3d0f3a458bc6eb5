#include "nflog_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <linux/capability.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "group_owner.h"
#include "netlink_request.h"
#include "netlink_util.h"
#include "rcvbuf.h"
#include "sys_error.h"

namespace nfc {

namespace {

constexpr int kAckTimeoutMs = 5000;

bool HasNetAdmin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

SysError GroupError(const NflogGroup& g, int err) {
  std::string n = std::to_string(g.group);
  // A group bound by another socket answers EPERM (EBUSY when bound by this
  // socket), so EPERM with the capability present means "taken".
  if (err == EBUSY || (err == EPERM && HasNetAdmin())) {
    std::string owner = NflogGroupOwner(g.group);
    std::string by = owner.empty() ? "another process (ulogd, tcpdump -i nflog:" + n + ", another collector)" : owner;
    return SysError("cannot bind NFLOG group " + n + ": NFLOG group " + n + " is already bound by " + by +
                        "; the kernel answered " + ErrnoName(err),
                    "EBUSY");
  }
  if (err == EPERM || err == EACCES) return ErrnoError("cannot bind NFLOG group " + n, err, kNeedsNetAdmin);
  if (err == EOPNOTSUPP && (g.flags & NFULNL_CFG_F_CONNTRACK)) {
    return ErrnoError("cannot configure NFLOG group " + n, err,
                      "this kernel cannot attach conntrack to NFLOG (flag 4; is nf_conntrack_netlink available?)");
  }
  if (err == EINVAL || err == EOPNOTSUPP) {
    // nfnetlink answers so when no subsystem serves NFLOG messages.
    return ErrnoError("cannot bind NFLOG group " + n, err,
                      "does this kernel have NFLOG? (CONFIG_NETFILTER_NETLINK_LOG: modprobe nfnetlink_log)");
  }
  return ErrnoError("cannot configure NFLOG group " + n, err);
}

}  // namespace

NflogSocket::NflogSocket(const std::vector<NflogGroup>& groups, uint32_t nlbufsiz, int rcvbuf) {
  errno = 0;
  handle_.reset(nflog_open());
  if (!handle_) {
    int err = errno ? errno : EINVAL;
    throw ErrnoError("cannot open the NFLOG socket", err,
                     err == EPERM || err == EACCES ? kNeedsNetAdmin
                     : err == EPROTONOSUPPORT      ? "this kernel has no nfnetlink (CONFIG_NETFILTER_NETLINK)"
                                                   : "");
  }
  // libnetfilter_log opens its socket without SOCK_CLOEXEC: a child process
  // spawned while the collector runs would inherit it and keep the groups
  // bound (and receive their entries) after close().
  if (fcntl(fd(), F_SETFD, FD_CLOEXEC) < 0) throw ErrnoError("cannot set close-on-exec on the NFLOG socket", errno);
  SetReceiveBuffer(fd(), rcvbuf, "NFLOG");
  // Only kernels before 3.8 need the per-family handler; newer ones answer
  // with an error or ignore it, either way harmless.
  for (uint16_t pf : {AF_INET, AF_INET6, AF_BRIDGE}) {
    nflog_unbind_pf(handle_.get(), pf);
    nflog_bind_pf(handle_.get(), pf);
  }
  for (const NflogGroup& g : groups) {
    Configure(g, nlbufsiz);
    groups_.push_back(g.group);
  }
}

void NflogSocket::CloseHandle::operator()(nflog_handle* h) const { nflog_close(h); }

int NflogSocket::fd() const { return nflog_fd(handle_.get()); }

// Binds and configures a group in one NFULNL_MSG_CONFIG message, so the
// group never runs with the kernel's defaults. (nflog_bind_group plus
// nflog_set_* would take several round trips, and libnfnetlink fails a
// query with ENODEV when a logged packet arrives before its ack.)
void NflogSocket::Configure(const NflogGroup& g, uint32_t nlbufsiz) {
  NetlinkRequest request((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_ACK, ++seq_);
  request.PutNfgenHeader(g.group);
  nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
  request.Put(NFULA_CFG_CMD, &cmd, sizeof cmd);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htonl(g.copy_range);
  mode.copy_mode = g.copy_mode;
  request.Put(NFULA_CFG_MODE, &mode, sizeof mode);
  request.PutU32BigEndian(NFULA_CFG_QTHRESH, g.qthreshold);
  request.PutU32BigEndian(NFULA_CFG_TIMEOUT, g.flush_timeout);
  uint16_t flags = htons(g.flags);
  request.Put(NFULA_CFG_FLAGS, &flags, sizeof flags);
  if (nlbufsiz != 0) request.PutU32BigEndian(NFULA_CFG_NLBUFSIZ, nlbufsiz);

  int err = request.Send(fd());
  if (err != 0) throw GroupError(g, err);
  // Entries logged by groups bound earlier, arriving meanwhile, are dropped:
  // the collector has not started yet.
  err = AwaitAck(fd(), request.seq(), kAckTimeoutMs);
  if (err != 0) throw GroupError(g, err);
}

// No ack is asked for: the kernel handles the message within sendto(), so
// the flushed batch is in the socket when it returns.
void NflogSocket::Unbind() {
  for (uint16_t group : groups_) SendCommand(group, NFULNL_CFG_CMD_UNBIND);
  groups_.clear();
}

void NflogSocket::SendCommand(uint16_t group, uint8_t command) {
  NetlinkRequest request((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, 0, ++seq_);
  request.PutNfgenHeader(group);
  nfulnl_msg_config_cmd cmd{command};
  request.Put(NFULA_CFG_CMD, &cmd, sizeof cmd);
  // A failure leaves the group bound until the socket closes: its last batch is then lost to us, as before.
  request.Send(fd());
}

}  // namespace nfc
