#include "sys_error.h"

#include <cstring>

namespace nfc {

const char* const kNeedsNetAdmin = "needs CAP_NET_ADMIN (run as root or grant the capability)";

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "";
}

SysError ErrnoError(const std::string& what, int err, const std::string& hint) {
  std::string name = ErrnoName(err);
  std::string message = what + ": " + std::strerror(err);
  if (!name.empty()) message += " (" + name + ")";
  if (!hint.empty()) message += ": " + hint;
  return SysError(message, name);
}

}  // namespace nfc
