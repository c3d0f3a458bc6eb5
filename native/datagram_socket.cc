#include "datagram_socket.h"

#include <uv.h>

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

// The address of path ('@NAME': Linux's abstract namespace); its length goes to *length.
sockaddr_un Address(Napi::Env env, const std::string& path, socklen_t* length) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    throw Napi::RangeError::New(env, "datagram socket: the path is empty or longer than sun_path");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';
  *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  return address;
}

std::string LastErrorName() {
  std::string name = ErrnoName(errno);
  return name.empty() ? "E" + std::to_string(errno) : name;
}

// datagramConnect(fd, path): connects the socket to path (again, after the receiver restarted), so
// that a full receiver queue makes it unwritable (poll waits) rather than failing each send.
// Returns '' or the errno name (ENOENT, ECONNREFUSED: nobody listens there).
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  socklen_t length = 0;
  sockaddr_un address = Address(env, info[1].As<Napi::String>().Utf8Value(), &length);
  int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), length);
  return Napi::String::New(env, rc == 0 ? "" : LastErrorName());
}

// datagramSend(fd, buffers, first): sends buffers[first..] as one datagram each on the connected
// socket until one fails. Returns [sent, errnoName]: errnoName is '' when all were sent, else the
// error of buffers[first + sent] (EAGAIN: the receiver's queue is full; ECONNREFUSED: it is gone).
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array buffers = info[1].As<Napi::Array>();
  uint32_t first = info[2].As<Napi::Number>().Uint32Value();
  uint32_t sent = 0;
  std::string failure;
  for (uint32_t i = first; i < buffers.Length(); i++) {
    Napi::Buffer<uint8_t> buffer = buffers.Get(i).As<Napi::Buffer<uint8_t>>();
    if (send(fd, buffer.Data(), buffer.Length(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      failure = LastErrorName();
      break;
    }
    sent++;
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, sent));
  result.Set(1u, Napi::String::New(env, failure));
  return result;
}

// One wait for a socket to become writable (the receiver's queue has room again): a one-shot uv_poll.
struct WritableWait {
  uv_poll_t poll;
  Napi::FunctionReference callback;
  napi_env env;
};

void OnWritable(uv_poll_t* handle, int status, int /*events*/) {
  auto* wait = static_cast<WritableWait*>(handle->data);
  uv_poll_stop(handle);
  {
    Napi::HandleScope scope(Napi::Env(wait->env));
    Napi::Env env(wait->env);
    // An error of the poll (EBADF after close) is passed on; the caller retries the send, which says why.
    wait->callback.MakeCallback(env.Global(), {Napi::Number::New(env, status)});
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) { delete static_cast<WritableWait*>(h->data); });
}

// datagramWhenWritable(fd, callback): calls callback(status) once, when fd can take a datagram again,
// so that a full receiver queue is waited on by the event loop rather than retried on a timer.
Napi::Value WhenWritable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto* wait = new WritableWait();
  wait->env = env;
  wait->callback = Napi::Persistent(info[1].As<Napi::Function>());
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int err = uv_poll_init(loop, &wait->poll, fd);
  if (err == 0) {
    wait->poll.data = wait;
    err = uv_poll_start(&wait->poll, UV_WRITABLE, OnWritable);
    // A receiver that never drains must not keep the process alive.
    uv_unref(reinterpret_cast<uv_handle_t*>(&wait->poll));
    if (err != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&wait->poll),
               [](uv_handle_t* h) { delete static_cast<WritableWait*>(h->data); });
    }
  } else {
    delete wait;
  }
  if (err != 0) throw Napi::Error::New(env, std::string("datagramWhenWritable: ") + uv_strerror(err));
  return env.Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

void DefineDatagramSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("datagramOpen", Napi::Function::New(env, Open, "datagramOpen"));
  exports.Set("datagramConnect", Napi::Function::New(env, Connect, "datagramConnect"));
  exports.Set("datagramSend", Napi::Function::New(env, Send, "datagramSend"));
  exports.Set("datagramWhenWritable", Napi::Function::New(env, WhenWritable, "datagramWhenWritable"));
  exports.Set("datagramClose", Napi::Function::New(env, Close, "datagramClose"));
}

}  // namespace nfc
