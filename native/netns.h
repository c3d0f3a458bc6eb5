// Network namespaces for the reader thread: it enters one (setns is per
// thread) only while it opens that namespace's sockets, then returns home, so
// one thread serves many namespaces.
#pragma once

#include <cstdint>
#include <string>

namespace nfc {

// A name without '/' means /run/netns/NAME (where `ip netns add` puts it);
// anything else is a path (/proc/PID/ns/net, a bind mount elsewhere).
std::string NetnsPath(const std::string& name);

// Opens a namespace by name and says its inode (what `ls -i` and
// /proc/PID/ns/net show: the namespace's identity); throws SysError.
int OpenNetns(const std::string& name, uint64_t* inode);

// The calling thread's own namespace, to come back to; throws SysError.
int OpenOwnNetns(uint64_t* inode);

// setns(CLONE_NEWNET) for the calling thread; throws SysError naming `name`.
void EnterNetns(int fd, const std::string& name);

}  // namespace nfc
