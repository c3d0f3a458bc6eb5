// Moves the calling thread into a network namespace, so the sockets it opens
// afterwards belong to that namespace (the rest of the process stays put).
#pragma once

#include <string>

namespace nfc {

// A name without '/' means /run/netns/NAME (where `ip netns add` puts it).
std::string NetnsPath(const std::string& name);

// setns(CLONE_NEWNET) for the calling thread; throws SysError.
void EnterNetns(const std::string& name);

}  // namespace nfc
