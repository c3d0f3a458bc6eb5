#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>

#include "sys_error.h"

namespace nfc {

std::string NetnsPath(const std::string& name) {
  return name.find('/') == std::string::npos ? "/run/netns/" + name : name;
}

void EnterNetns(const std::string& name) {
  std::string path = NetnsPath(name);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      throw SysError("network namespace " + name + " does not exist (" + path + ")", "ENOENT");
    }
    throw ErrnoError("cannot open network namespace " + name + " (" + path + ")", err);
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc == 0) return;
  if (err == EPERM) {
    throw ErrnoError("cannot enter network namespace " + name + " (" + path + ")", err,
                     "needs CAP_SYS_ADMIN (run as root or grant the capability)");
  }
  if (err == EINVAL) {
    throw ErrnoError("cannot enter network namespace " + name, err, path + " is not a network namespace");
  }
  throw ErrnoError("cannot enter network namespace " + name + " (" + path + ")", err);
}

}  // namespace nfc
