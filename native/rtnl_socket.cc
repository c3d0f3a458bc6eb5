#include "rtnl_socket.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netlink_util.h"
#include "rcvbuf.h"
#include "sys_error.h"

namespace nfc {

RtnlSocket::RtnlSocket(int rcvbuf) {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ < 0) throw ErrnoError("cannot open the rtnetlink socket", errno);
  try {
    SetReceiveBuffer(fd_, rcvbuf, "rtnetlink");

    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
      throw ErrnoError("cannot subscribe to rtnetlink link events", errno);
    }

    struct {
      nlmsghdr header;
      ifinfomsg body;
    } request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_GETLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = dump_seq_;
    request.body.ifi_family = AF_UNSPEC;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
      throw ErrnoError("cannot request the rtnetlink link dump", errno);
    }
  } catch (...) {
    close(fd_);
    throw;
  }
}

RtnlSocket::~RtnlSocket() {
  if (fd_ >= 0) close(fd_);
}

bool RtnlSocket::EndsDump(const uint8_t* data, uint32_t length) const {
  return nfc::EndsDump(data, length, dump_seq_);
}

}  // namespace nfc
