#include "rtnl_socket.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netlink_request.h"
#include "netlink_util.h"
#include "rcvbuf.h"
#include "sys_error.h"

namespace nfc {

RtnlSocket::RtnlSocket(int rcvbuf) {
  fd_.Reset(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd_.valid()) throw ErrnoError("cannot open the rtnetlink socket", errno);
  SetReceiveBuffer(fd_.get(), rcvbuf, "rtnetlink");

  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_LINK;
  if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    throw ErrnoError("cannot subscribe to rtnetlink link events", errno);
  }

  NetlinkRequest request(RTM_GETLINK, NLM_F_DUMP, dump_seq_);
  ifinfomsg body{};
  body.ifi_family = AF_UNSPEC;
  request.PutBody(body);
  int err = request.Send(fd_.get());
  if (err != 0) throw ErrnoError("cannot request the rtnetlink link dump", err);
}

bool RtnlSocket::EndsDump(const uint8_t* data, uint32_t length) const { return nfc::EndsDump(data, length, dump_seq_); }

}  // namespace nfc
