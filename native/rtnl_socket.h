// A NETLINK_ROUTE socket subscribed to link events (RTMGRP_LINK), with a dump
// of the current links requested at open. Its datagrams go to the ring
// whole; JS learns interface names from them.
#pragma once

#include <cstdint>

#include "unique_fd.h"

namespace nfc {

class RtnlSocket {
 public:
  // Opens, subscribes and sends the RTM_GETLINK dump request; throws SysError.
  explicit RtnlSocket(int rcvbuf);
  RtnlSocket(const RtnlSocket&) = delete;
  RtnlSocket& operator=(const RtnlSocket&) = delete;

  int fd() const { return fd_.get(); }

  // Whether a received datagram ends the dump: NLMSG_DONE or NLMSG_ERROR
  // answering our request. Walks the nlmsghdr framing only.
  bool EndsDump(const uint8_t* data, uint32_t length) const;

 private:
  UniqueFd fd_;
  uint32_t dump_seq_ = 1;
};

}  // namespace nfc
