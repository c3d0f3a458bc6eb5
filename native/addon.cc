// The JS face of the reader: class NativeReader (see src/native.ts).
// Validates the options, starts the reader thread, and calls onData from a
// uv_async handle, which libuv coalesces: at most one call per loop turn.
#include <napi.h>
#include <uv.h>

#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "async_handle.h"
#include "datagram_socket.h"
#include "reader.h"
#include "sys_error.h"

namespace {

using nfc::ConntrackOptions;
using nfc::NflogGroup;
using nfc::Reader;
using nfc::ReaderOptions;

constexpr uint32_t kMinDatagram = 8192;  // a netlink dump part must fit (NLMSG_GOODSIZE is up to 8 KiB)
constexpr uint32_t kMaxDatagram = 1u << 28;
constexpr uint32_t kMaxNamespaces = 65536;  // the ring's u16 netns index

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "NativeReader: " + message);
}

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, "NativeReader: " + message);
}

// An integer option in [min, max]: TypeError if not a number, RangeError if out of range.
uint32_t Integer(Napi::Value value, const std::string& name, double min, double max) {
  Napi::Env env = value.Env();
  if (!value.IsNumber()) ThrowType(env, name + " must be a number");
  double n = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(n) || std::floor(n) != n || n < min || n > max) {
    ThrowRange(env, name + " must be an integer from " + std::to_string(static_cast<uint64_t>(min)) + " to " +
                        std::to_string(static_cast<uint64_t>(max)) + ", got " + value.ToString().Utf8Value());
  }
  return static_cast<uint32_t>(n);
}

uint32_t Integer(Napi::Object object, const char* key, const std::string& name, double min, double max) {
  return Integer(object.Get(key), name, min, max);
}

bool Boolean(Napi::Object object, const char* key, const std::string& name) {
  Napi::Value value = object.Get(key);
  if (!value.IsBoolean()) ThrowType(object.Env(), name + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

Napi::Array Array(Napi::Object object, const char* key, const std::string& name) {
  Napi::Value value = object.Get(key);
  if (!value.IsArray()) ThrowType(object.Env(), name + " must be an array");
  return value.As<Napi::Array>();
}

// Networks as src/packet/ip-text.ts parsed them: { bytes: Uint8Array of 4
// or 16, prefix }. Only their shape is checked here; the text was checked in JS.
std::vector<nfc::Cidr> Cidrs(Napi::Object filter, const char* key) {
  Napi::Env env = filter.Env();
  std::string name = std::string("options.conntrack.filter.") + key;
  Napi::Array array = Array(filter, key, name);
  std::vector<nfc::Cidr> cidrs;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    std::string item_name = name + "[" + std::to_string(i) + "]";
    if (!item.IsObject()) ThrowType(env, item_name + " must be { bytes, prefix }");
    Napi::Value bytes_value = item.As<Napi::Object>().Get("bytes");
    Napi::Value prefix_value = item.As<Napi::Object>().Get("prefix");
    if (!bytes_value.IsTypedArray() || bytes_value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        !prefix_value.IsNumber()) {
      ThrowType(env, item_name + " must be { bytes: Uint8Array, prefix: number }");
    }
    Napi::Uint8Array bytes = bytes_value.As<Napi::Uint8Array>();
    double prefix = prefix_value.As<Napi::Number>().DoubleValue();
    unsigned bits = static_cast<unsigned>(bytes.ElementLength() * 8);
    if ((bits != 32 && bits != 128) || !(prefix >= 0 && prefix <= bits) || prefix != static_cast<unsigned>(prefix)) {
      ThrowType(env, item_name + " must hold 4 or 16 address bytes and a prefix up to their bits");
    }
    cidrs.push_back(nfc::MakeCidr(bytes.Data(), bits == 128, static_cast<unsigned>(prefix)));
  }
  return cidrs;
}

// options.conntrack: absent (undefined) for no conntrack.
std::optional<ConntrackOptions> Conntrack(Napi::Object options) {
  Napi::Env env = options.Env();
  Napi::Value value = options.Get("conntrack");
  if (value.IsUndefined() || value.IsNull()) return std::nullopt;
  if (!value.IsObject()) ThrowType(env, "options.conntrack must be an object or undefined");
  Napi::Object ct = value.As<Napi::Object>();
  ConntrackOptions o;
  o.events = Integer(ct, "events", "options.conntrack.events", 1, 7);
  o.dump = Boolean(ct, "dump", "options.conntrack.dump");
  o.resync_on_overflow = Boolean(ct, "resyncOnOverflow", "options.conntrack.resyncOnOverflow");
  o.reliable = Boolean(ct, "reliable", "options.conntrack.reliable");
  o.enable_accounting = Boolean(ct, "enableAccounting", "options.conntrack.enableAccounting");
  o.enable_timestamps = Boolean(ct, "enableTimestamps", "options.conntrack.enableTimestamps");
  Napi::Value filter_value = ct.Get("filter");
  if (!filter_value.IsObject()) ThrowType(env, "options.conntrack.filter must be an object");
  Napi::Object filter = filter_value.As<Napi::Object>();
  Napi::Array protocols = Array(filter, "protocols", "options.conntrack.filter.protocols");
  for (uint32_t i = 0; i < protocols.Length(); i++) {
    std::string name = "options.conntrack.filter.protocols[" + std::to_string(i) + "]";
    o.protocols.push_back(static_cast<uint8_t>(Integer(protocols.Get(i), name, 0, 255)));
  }
  o.sources = Cidrs(filter, "sources");
  o.destinations = Cidrs(filter, "destinations");
  Napi::Value mark = filter.Get("mark");
  if (!mark.IsUndefined() && !mark.IsNull()) {
    if (!mark.IsObject()) ThrowType(env, "options.conntrack.filter.mark must be an object or undefined");
    Napi::Object m = mark.As<Napi::Object>();
    o.has_mark = true;
    o.mark = Integer(m, "value", "options.conntrack.filter.mark.value", 0, 0xffffffffu);
    o.mark_mask = Integer(m, "mask", "options.conntrack.filter.mark.mask", 0, 0xffffffffu);
  }
  return o;
}

std::vector<NflogGroup> Groups(Napi::Object options) {
  Napi::Env env = options.Env();
  Napi::Value value = options.Get("nflogGroups");
  if (!value.IsArray()) ThrowType(env, "options.nflogGroups must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<NflogGroup> groups;
  std::set<uint32_t> seen;
  for (uint32_t i = 0; i < array.Length(); i++) {
    std::string name = "options.nflogGroups[" + std::to_string(i) + "]";
    Napi::Value item = array.Get(i);
    if (!item.IsObject()) ThrowType(env, name + " must be an object");
    Napi::Object g = item.As<Napi::Object>();
    NflogGroup group;
    group.group = static_cast<uint16_t>(Integer(g, "group", name + ".group", 0, 65535));
    group.copy_mode = static_cast<uint8_t>(Integer(g, "copyMode", name + ".copyMode", 0, 2));
    group.copy_range = Integer(g, "copyRange", name + ".copyRange", 0, 0xffffffffu);
    group.qthreshold = Integer(g, "qthreshold", name + ".qthreshold", 0, 0xffffffffu);
    group.flush_timeout = Integer(g, "flushTimeoutCs", name + ".flushTimeoutCs", 0, 0xffffffffu);
    group.flags = static_cast<uint16_t>(Integer(g, "flags", name + ".flags", 0, 0xffff));
    if (!seen.insert(group.group).second)
      ThrowRange(env, "NFLOG group " + std::to_string(group.group) + " is listed twice");
    groups.push_back(group);
  }
  return groups;
}

// options.namespaces: names or paths, '' for the current namespace; or the
// older options.netns, one of them.
std::vector<std::string> Namespaces(Napi::Object options) {
  Napi::Env env = options.Env();
  Napi::Value list = options.Get("namespaces");
  if (list.IsUndefined()) {
    Napi::Value netns = options.Get("netns");
    if (!netns.IsString()) ThrowType(env, "options.netns must be a string ('' for the current namespace)");
    return {netns.As<Napi::String>().Utf8Value()};
  }
  Napi::Array array = Array(options, "namespaces", "options.namespaces");
  if (array.Length() > kMaxNamespaces) ThrowRange(env, "options.namespaces has more than 65536 entries");
  std::vector<std::string> names;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) ThrowType(env, "options.namespaces[" + std::to_string(i) + "] must be a string");
    names.push_back(item.As<Napi::String>().Utf8Value());
  }
  return names;
}

Napi::Object StatsObject(Napi::Env env, const nfc::Stats& s) {
  Napi::Object out = Napi::Object::New(env);
  auto put = [&](const char* key, const std::atomic<uint64_t>& counter) {
    out.Set(key, Napi::Number::New(env, static_cast<double>(counter.load(std::memory_order_relaxed))));
  };
  put("datagrams", s.datagrams);
  put("bytes", s.bytes);
  put("enobufs", s.enobufs);
  put("truncated", s.truncated);
  put("ringFull", s.ring_full);
  put("reads", s.reads);
  put("wakeups", s.wakeups);
  put("conntrackEvents", s.conntrack_events);
  put("conntrackEnobufs", s.conntrack_enobufs);
  put("conntrackDumps", s.conntrack_dumps);
  return out;
}

[[noreturn]] void ThrowSys(Napi::Env env, const nfc::SysError& e) {
  Napi::Error error = Napi::Error::New(env, "netfilter-collector: " + std::string(e.what()));
  if (!e.code().empty()) error.Set("code", Napi::String::New(env, e.code()));
  throw error;
}

class NativeReader : public Napi::ObjectWrap<NativeReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeReader",
                       {
                           InstanceMethod<&NativeReader::Stats>("stats"),
                           InstanceMethod<&NativeReader::ConntrackSettings>("conntrackSettings"),
                           InstanceMethod<&NativeReader::Attach>("attach"),
                           InstanceMethod<&NativeReader::Detach>("detach"),
                           InstanceMethod<&NativeReader::NamespaceInfo>("namespace"),
                           InstanceMethod<&NativeReader::Release>("release"),
                           InstanceMethod<&NativeReader::Finish>("finish"),
                           InstanceMethod<&NativeReader::DrainRemaining>("drainRemaining"),
                           InstanceMethod<&NativeReader::Close>("close"),
                           InstanceMethod<&NativeReader::Ref>("ref"),
                           InstanceMethod<&NativeReader::Unref>("unref"),
                       });
  }

  explicit NativeReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeReader>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "needs an options object");
    Napi::Object options = info[0].As<Napi::Object>();
    ReaderOptions o;

    Napi::Value ring = options.Get("ring");
    if (!ring.IsArrayBuffer()) ThrowType(env, "options.ring must be an ArrayBuffer");
    Napi::ArrayBuffer buffer = ring.As<Napi::ArrayBuffer>();
    size_t size = buffer.ByteLength();
    size_t capacity = size > nfc::kDataOffset ? size - nfc::kDataOffset : 0;
    if (capacity < 4096 || capacity > (1u << 31) || (capacity & (capacity - 1)) != 0) {
      ThrowType(env, "options.ring must be an ArrayBuffer of 128 + a power of two (at least 4096) bytes, got " +
                         std::to_string(size) + " bytes");
    }
    o.ring = static_cast<uint8_t*>(buffer.Data());
    o.capacity = static_cast<uint32_t>(capacity);

    o.max_datagram = Integer(options, "maxDatagram", "options.maxDatagram", kMinDatagram, kMaxDatagram);
    // Progress needs two slots: one may be cut short by the end of the data area.
    if (2ull * nfc::Align8(nfc::kEntryHeaderBytes + o.max_datagram) > capacity) {
      ThrowRange(env, "options.ring (" + std::to_string(capacity) + " bytes of data) must hold two datagrams of " +
                          "options.maxDatagram (" + std::to_string(o.max_datagram) + ") bytes");
    }
    o.namespaces = Namespaces(options);
    o.rcvbuf = static_cast<int>(Integer(options, "rcvbuf", "options.rcvbuf", 0, 2147483647));
    o.groups = Groups(options);
    o.nflog_buffer_size = Integer(options, "nflogBufferSize", "options.nflogBufferSize", 0, 0xffffffffu);
    Napi::Value links = options.Get("links");
    if (!links.IsBoolean()) ThrowType(env, "options.links must be a boolean");
    o.links = links.As<Napi::Boolean>().Value();
    o.conntrack = Conntrack(options);
    Napi::Value on_data = options.Get("onData");
    if (!on_data.IsFunction()) ThrowType(env, "options.onData must be a function");

    // The reader thread writes into the ArrayBuffer: keep it alive until close().
    ring_ = Napi::Persistent(buffer);
    on_data_ = Napi::Persistent(on_data.As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "NetfilterCollectorReader");

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "NativeReader: no event loop");
    async_.Open(loop, OnAsync, this);

    try {
      reader_ = std::make_unique<Reader>(std::move(o), async_.get());
    } catch (const nfc::SysError& e) {
      FreeHandles();
      ThrowSys(env, e);
    } catch (const std::exception& e) {
      FreeHandles();
      throw Napi::Error::New(env, "netfilter-collector: cannot start the reader: " + std::string(e.what()));
    }
    napi_add_env_cleanup_hook(env, OnCleanup, this);
  }

  ~NativeReader() override { Shutdown(false); }

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info) { return StatsObject(info.Env(), reader_->stats()); }

  // The namespace at an index (default 0): name, inode, attached, its
  // counters, and its conntrack settings; null if never attached.
  Napi::Value NamespaceInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const nfc::Namespace* ns = reader_->space(Index(info));
    if (!ns) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", Napi::String::New(env, ns->name));
    out.Set("inode", Napi::Number::New(env, static_cast<double>(ns->inode)));
    out.Set("attached", Napi::Boolean::New(env, ns->attached));
    out.Set("stats", StatsObject(env, ns->stats));
    return out;
  }

  Napi::Value ConntrackSettings(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const nfc::Namespace* ns = reader_->space(Index(info));
    if (!ns || !reader_->has_conntrack()) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    out.Set("accounting", Napi::Number::New(env, ns->conntrack_settings.accounting));
    out.Set("timestamps", Napi::Number::New(env, ns->conntrack_settings.timestamps));
    return out;
  }

  // attach(index, name): opens the namespace's sockets; returns its inode.
  Napi::Value Attach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint16_t index = Index(info);
    if (info.Length() < 2 || !info[1].IsString()) ThrowType(env, "attach(index, name): name must be a string");
    if (closed_) ThrowSys(env, nfc::SysError("the reader is closed", "ERR_CLOSED"));
    try {
      return Napi::Number::New(env,
                               static_cast<double>(reader_->Attach(index, info[1].As<Napi::String>().Utf8Value())));
    } catch (const nfc::SysError& e) {
      ThrowSys(env, e);
    }
  }

  void Detach(const Napi::CallbackInfo& info) {
    uint16_t index = Index(info);
    if (!closed_) reader_->Detach(index);
  }

  static uint16_t Index(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || info[0].IsUndefined()) return 0;
    return static_cast<uint16_t>(Integer(info[0], "the namespace index", 0, kMaxNamespaces - 1));
  }

  void Release(const Napi::CallbackInfo&) {
    if (!closed_) reader_->Release();
  }

  void Finish(const Napi::CallbackInfo&) {
    if (!closed_) reader_->Finish();
  }

  Napi::Value DrainRemaining(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), closed_ || reader_->DrainRemaining());
  }

  void Close(const Napi::CallbackInfo&) { Shutdown(false); }

  void Ref(const Napi::CallbackInfo&) {
    if (async_) uv_ref(reinterpret_cast<uv_handle_t*>(async_.get()));
  }

  void Unref(const Napi::CallbackInfo&) {
    if (async_) uv_unref(reinterpret_cast<uv_handle_t*>(async_.get()));
  }

  static void OnAsync(uv_async_t* handle) {
    auto* self = static_cast<NativeReader*>(handle->data);
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    // Empty when V8 collected the reader and its finalizer (which closes us) has not run yet.
    Napi::Object receiver = self->Value();
    if (receiver.IsEmpty()) return;
    try {
      self->on_data_.MakeCallback(receiver, {}, *self->context_);
    } catch (const Napi::Error& e) {
      // As if onData had thrown from a plain callback: 'uncaughtException', or exit.
      napi_fatal_exception(env, e.Value());
    }
  }

  static void OnCleanup(void* data) { static_cast<NativeReader*>(data)->Shutdown(true); }

  // Stops the thread (it closes the sockets), then closes the async handle,
  // so a process whose readers are closed can exit. Stats stay readable.
  void Shutdown(bool from_cleanup) {
    if (closed_) return;
    closed_ = true;
    if (reader_) reader_->Stop();
    FreeHandles();
    if (!from_cleanup) napi_remove_env_cleanup_hook(env_, OnCleanup, this);
  }

  // Frees what the constructor set up for the thread: the async handle and
  // the references. Safe after a failed start (the thread has ended).
  void FreeHandles() {
    async_.Close();
    context_.reset();
    on_data_.Reset();
    ring_.Reset();
  }

  napi_env env_;
  Napi::Reference<Napi::ArrayBuffer> ring_;
  Napi::FunctionReference on_data_;
  std::unique_ptr<Napi::AsyncContext> context_;
  nfc::AsyncHandle async_;
  std::unique_ptr<Reader> reader_;
  bool closed_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeReader", NativeReader::Define(env));
  nfc::DefineDatagramSocket(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(netfilter_collector, Init)
