#include "datagram_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "sys_error.h"

namespace nfc {

namespace {

// datagramOpen(): a non-blocking, close-on-exec AF_UNIX SOCK_DGRAM socket's fd. Throws on failure.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    SysError e = ErrnoError("socket(AF_UNIX, SOCK_DGRAM)", errno);
    Napi::Error error = Napi::Error::New(env, e.what());
    error.Set("code", Napi::String::New(env, e.code()));
    throw error;
  }
  return Napi::Number::New(env, fd);
}

// datagramSend(fd, path, buffers, first): sends buffers[first..] as one datagram each to path
// ('@NAME' for the abstract namespace) until one fails. Returns [sent, errnoName]: errnoName is ''
// when all were sent, else the error of buffers[first + sent] (EAGAIN: the receiver's queue is full).
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  Napi::Array buffers = info[2].As<Napi::Array>();
  uint32_t first = info[3].As<Napi::Number>().Uint32Value();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    throw Napi::RangeError::New(env, "datagramSend: the socket path is empty or longer than sun_path");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  uint32_t sent = 0;
  std::string failure;
  for (uint32_t i = first; i < buffers.Length(); i++) {
    Napi::Buffer<uint8_t> buffer = buffers.Get(i).As<Napi::Buffer<uint8_t>>();
    ssize_t n = sendto(fd, buffer.Data(), buffer.Length(), MSG_DONTWAIT | MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&address), length);
    if (n < 0) {
      failure = ErrnoName(errno);
      if (failure.empty()) failure = "E" + std::to_string(errno);
      break;
    }
    sent++;
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, sent));
  result.Set(1u, Napi::String::New(env, failure));
  return result;
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

void DefineDatagramSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("datagramOpen", Napi::Function::New(env, Open, "datagramOpen"));
  exports.Set("datagramSend", Napi::Function::New(env, Send, "datagramSend"));
  exports.Set("datagramClose", Napi::Function::New(env, Close, "datagramClose"));
}

}  // namespace nfc
