// The kernel's count of messages it could not queue to a socket (sk_drops,
// through SO_MEMINFO). For netlink broadcasts (conntrack events) it grows by
// one per event that passed the socket's filter but found the queue full: an
// exact count where ENOBUFS only says "some".
#pragma once

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <cstdint>

namespace nfc {

// Returns false when the kernel cannot say (SO_MEMINFO needs Linux 4.6).
inline bool SocketDrops(int fd, uint32_t* drops) {
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof meminfo;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &length) != 0 || length <= SK_MEMINFO_DROPS * sizeof(uint32_t)) {
    return false;
  }
  *drops = meminfo[SK_MEMINFO_DROPS];
  return true;
}

}  // namespace nfc
