// A libuv async handle with one owner. libuv frees a handle's memory only in
// its close callback, so the owner closes it and the callback deletes it: no
// path (a failed start, close(), the environment's cleanup) leaks or frees it
// twice.
#pragma once

#include <uv.h>

namespace nfc {

class AsyncHandle {
 public:
  AsyncHandle() = default;
  ~AsyncHandle() { Close(); }
  AsyncHandle(const AsyncHandle&) = delete;
  AsyncHandle& operator=(const AsyncHandle&) = delete;

  // Makes the handle on `loop`; `callback` runs on the loop's thread with handle->data == data.
  void Open(uv_loop_t* loop, uv_async_cb callback, void* data) {
    Close();
    handle_ = new uv_async_t;
    uv_async_init(loop, handle_, callback);
    handle_->data = data;
  }

  uv_async_t* get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

  void Close() {
    if (!handle_) return;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
    handle_ = nullptr;
  }

 private:
  uv_async_t* handle_ = nullptr;
};

}  // namespace nfc
