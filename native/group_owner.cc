#include "group_owner.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace nfc {

namespace {

constexpr int kNetlinkNetfilter = 12;

// /proc/thread-self: the calling thread's network namespace (the reader
// thread may have entered another one than the process's).
// The portid bound to the group, from "group portid qlen mode range timeout refcnt" lines.
bool GroupPortid(uint16_t group, uint32_t* portid) {
  std::ifstream file("/proc/thread-self/net/netfilter/nfnetlink_log");
  uint32_t g, id;
  std::string rest;
  while (file >> g >> id && std::getline(file, rest)) {
    if (g == group) {
      *portid = id;
      return true;
    }
  }
  return false;
}

// The inode of the netfilter netlink socket with that portid, from
// "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode" lines.
bool SocketInode(uint32_t portid, unsigned long* inode) {
  std::ifstream file("/proc/thread-self/net/netlink");
  std::string line;
  std::getline(file, line);  // header
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string sk, groups, rmem, wmem, dump, locks, drops;
    int protocol;
    uint32_t id;
    unsigned long ino;
    if (fields >> sk >> protocol >> id >> groups >> rmem >> wmem >> dump >> locks >> drops >> ino &&
        protocol == kNetlinkNetfilter && id == portid) {
      *inode = ino;
      return true;
    }
  }
  return false;
}

bool HoldsSocket(const std::string& pid, const std::string& target) {
  std::string dir = "/proc/" + pid + "/fd";
  DIR* fds = opendir(dir.c_str());
  if (!fds) return false;
  bool found = false;
  char link[64];
  while (dirent* entry = readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    ssize_t n = readlink((dir + "/" + entry->d_name).c_str(), link, sizeof link - 1);
    if (n > 0 && target.compare(0, std::string::npos, link, static_cast<size_t>(n)) == 0) {
      found = true;
      break;
    }
  }
  closedir(fds);
  return found;
}

}  // namespace

std::string NflogGroupOwner(uint16_t group) {
  uint32_t portid = 0;
  unsigned long inode = 0;
  if (!GroupPortid(group, &portid) || !SocketInode(portid, &inode)) return "";
  std::string target = "socket:[" + std::to_string(inode) + "]";
  DIR* proc = opendir("/proc");
  if (!proc) return "";
  std::string owner;
  while (dirent* entry = readdir(proc)) {
    std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos || !HoldsSocket(pid, target)) continue;
    // The program's file name: comm is the main thread's name, which Node.js 22+ renames to MainThread.
    std::string comm;
    char exe[4096];
    ssize_t n = readlink(("/proc/" + pid + "/exe").c_str(), exe, sizeof exe - 1);
    if (n > 0) {
      comm.assign(exe, static_cast<size_t>(n));
      comm = comm.substr(comm.rfind('/') + 1);
      if (comm.size() > 10 && comm.compare(comm.size() - 10, 10, " (deleted)") == 0) comm.resize(comm.size() - 10);
    } else {
      std::getline(std::ifstream("/proc/" + pid + "/comm"), comm);
    }
    if (pid == std::to_string(getpid())) {
      owner = "another collector of this process (pid " + pid + ")";
    } else {
      owner = (comm.empty() ? "a process" : comm) + " (pid " + pid + ")";
    }
    break;
  }
  closedir(proc);
  return owner;
}

}  // namespace nfc
