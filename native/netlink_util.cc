#include "netlink_util.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace nfc {

namespace {

// Calls visit(header) for each whole message (libmnl checks each length);
// stops when it returns true. `data` must be aligned for nlmsghdr.
template <typename Visit>
bool AnyMessage(const uint8_t* data, uint32_t length, Visit visit) {
  int left = static_cast<int>(length);
  for (auto* h = reinterpret_cast<const nlmsghdr*>(data); mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
    if (visit(*h)) return true;
  }
  return false;
}

}  // namespace

bool EndsDump(const uint8_t* data, uint32_t length, uint32_t seq) {
  return AnyMessage(data, length, [seq](const nlmsghdr& h) {
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
    bool answered = AnyMessage(buffer, static_cast<uint32_t>(got), [&](const nlmsghdr& h) {
      if (h.nlmsg_type != NLMSG_ERROR || h.nlmsg_seq != seq || h.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        return false;
      }
      nlmsgerr e;
      std::memcpy(&e, mnl_nlmsg_get_payload(&h), sizeof e);
      error = -e.error;
      return true;
    });
    if (answered) return error;
  }
}

}  // namespace nfc
