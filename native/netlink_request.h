// A netlink request to the kernel, built with libmnl: the message header, the
// family header (nfgenmsg for nfnetlink, ifinfomsg for rtnetlink) and
// attributes. The one way the sockets build what they send.
#pragma once

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace nfc {

class NetlinkRequest {
 public:
  NetlinkRequest(uint16_t type, uint16_t flags, uint32_t seq) : header_(mnl_nlmsg_put_header(buffer_)) {
    header_->nlmsg_type = type;
    header_->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    header_->nlmsg_seq = seq;
  }
  NetlinkRequest(const NetlinkRequest&) = delete;
  NetlinkRequest& operator=(const NetlinkRequest&) = delete;

  // nfnetlink's header: no address family, version 0, and the resource (an
  // NFLOG group; 0 for conntrack) in network byte order.
  void PutNfgenHeader(uint16_t resource = 0) {
    auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header_, sizeof(nfgenmsg)));
    gen->nfgen_family = AF_UNSPEC;
    gen->version = NFNETLINK_V0;
    gen->res_id = htons(resource);
  }

  // A family header given whole (e.g. ifinfomsg).
  template <typename Body>
  void PutBody(const Body& body) {
    std::memcpy(mnl_nlmsg_put_extra_header(header_, sizeof body), &body, sizeof body);
  }

  // An attribute; values are in the byte order the kernel expects (callers convert).
  void Put(uint16_t type, const void* value, size_t size) {
    // The requests are a few dozen bytes; running out of room is a bug here, not an input error.
    if (!mnl_attr_put_check(header_, sizeof buffer_, type, size, value)) {
      throw std::length_error("netlink request larger than its buffer");
    }
  }
  void PutU32BigEndian(uint16_t type, uint32_t host_value) {
    uint32_t value = htonl(host_value);
    Put(type, &value, sizeof value);
  }

  uint32_t seq() const { return header_->nlmsg_seq; }

  // Sends the request to the kernel. Returns 0, or the errno.
  int Send(int fd) const {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
      sent = sendto(fd, header_, header_->nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? errno : 0;
  }

 private:
  alignas(nlmsghdr) uint8_t buffer_[256] = {};
  nlmsghdr* header_;
};

}  // namespace nfc
