#include "netlink_util.h"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace nfc {

namespace {

// Calls visit(header, offset) for each whole message; stops when it returns true.
template <typename Visit>
bool AnyMessage(const uint8_t* data, uint32_t length, Visit visit) {
  uint32_t at = 0;
  while (length - at >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, data + at, sizeof header);
    if (header.nlmsg_len < sizeof header || header.nlmsg_len > length - at) break;
    if (visit(header, at)) return true;
    at += NLMSG_ALIGN(header.nlmsg_len);
    if (at > length) break;
  }
  return false;
}

}  // namespace

bool EndsDump(const uint8_t* data, uint32_t length, uint32_t seq) {
  return AnyMessage(data, length, [seq](const nlmsghdr& h, uint32_t) {
    return h.nlmsg_seq == seq && (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR);
  });
}

int AwaitAck(int fd, uint32_t seq, int timeout_ms) {
  std::vector<uint8_t> datagram(65536);
  const uint8_t* buffer = datagram.data();
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? ETIMEDOUT : errno;
    ssize_t got = recv(fd, datagram.data(), datagram.size(), 0);
    if (got < 0) {
      if (errno == EINTR || errno == ENOBUFS) continue;
      return errno;
    }
    int error = 0;
    bool answered = AnyMessage(buffer, static_cast<uint32_t>(got), [&](const nlmsghdr& h, uint32_t at) {
      if (h.nlmsg_type != NLMSG_ERROR || h.nlmsg_seq != seq || h.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        return false;
      }
      nlmsgerr e;
      std::memcpy(&e, buffer + at + NLMSG_HDRLEN, sizeof e);
      error = -e.error;
      return true;
    });
    if (answered) return error;
  }
}

}  // namespace nfc
