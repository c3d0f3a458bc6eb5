// An error from opening or configuring a socket. Thrown on the reader
// thread, carried to the JS thread through the open promise, and thrown in JS
// as an Error whose .code is the errno name.
#pragma once

#include <stdexcept>
#include <string>

namespace nfc {

class SysError : public std::runtime_error {
 public:
  SysError(const std::string& message, std::string code) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// "EBUSY" for EBUSY; "" when the C library does not know the number.
std::string ErrnoName(int err);

// "<what>: <strerror> (<ENAME>)", then ": <hint>" when there is one.
SysError ErrnoError(const std::string& what, int err, const std::string& hint = "");

// The hint for EPERM/EACCES from netlink configuration.
extern const char* const kNeedsNetAdmin;

}  // namespace nfc
