// Who holds an NFLOG group: for an error message that names the process
// rather than listing the usual suspects.
#pragma once

#include <cstdint>
#include <string>

namespace nfc {

// "tcpdump (pid 1234)" for the process whose socket is bound to `group` in
// the calling thread's network namespace; "" when that cannot be found
// (group not bound, no permission to look at other processes' fds).
std::string NflogGroupOwner(uint16_t group);

}  // namespace nfc
