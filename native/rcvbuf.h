// Sets a socket's receive buffer: the kernel's queue that absorbs bursts
// while JS (and then the reader thread) is behind.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "sys_error.h"

namespace nfc {

// SO_RCVBUFFORCE goes past net.core.rmem_max but needs CAP_NET_ADMIN; without
// it, SO_RCVBUF still gets up to rmem_max. 0 leaves the default.
inline void SetReceiveBuffer(int fd, int bytes, const std::string& what) {
  if (bytes <= 0) return;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return;
  if (errno == EPERM && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == 0) return;
  throw ErrnoError("cannot set the receive buffer of the " + what + " socket to " + std::to_string(bytes), errno);
}

}  // namespace nfc
