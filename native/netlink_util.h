// Netlink framing helpers shared by the sockets. They walk nlmsghdr headers
// only; payloads stay opaque (JS decodes them).
#pragma once

#include <cstdint>

namespace nfc {

// Whether a received datagram ends the dump requested with `seq`: it holds
// NLMSG_DONE or NLMSG_ERROR answering that request.
bool EndsDump(const uint8_t* data, uint32_t length, uint32_t seq);

// Reads `fd` until the kernel's NLMSG_ERROR answering `seq` arrives; returns
// its errno (0: acknowledged), ETIMEDOUT after `timeout_ms` without data, or
// recv's errno. Anything else received meanwhile is discarded: call it only
// before the socket's datagrams are meant for the ring.
int AwaitAck(int fd, uint32_t seq, int timeout_ms);

}  // namespace nfc
