#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sys_error.h"

namespace nfc {

namespace {

uint64_t Inode(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace

std::string NetnsPath(const std::string& name) {
  return name.find('/') == std::string::npos ? "/run/netns/" + name : name;
}

int OpenNetns(const std::string& name, uint64_t* inode) {
  std::string path = NetnsPath(name);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      throw SysError("network namespace " + name + " does not exist (" + path + ")", "ENOENT");
    }
    throw ErrnoError("cannot open network namespace " + name + " (" + path + ")", err);
  }
  *inode = Inode(fd);
  return fd;
}

int OpenOwnNetns(uint64_t* inode) {
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ErrnoError("cannot open the reader thread's own network namespace", errno);
  *inode = Inode(fd);
  return fd;
}

void EnterNetns(int fd, const std::string& name) {
  if (setns(fd, CLONE_NEWNET) == 0) return;
  int err = errno;
  std::string path = NetnsPath(name);
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
