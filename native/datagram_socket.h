// A unix datagram socket for the syslog output to /dev/log (Node has no
// AF_UNIX SOCK_DGRAM). I/O only: the messages are framed in TypeScript.
#pragma once

#include <napi.h>

namespace nfc {

// Adds datagramOpen, datagramSend, datagramClose to exports.
void DefineDatagramSocket(Napi::Env env, Napi::Object exports);

}  // namespace nfc
