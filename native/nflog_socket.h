// One NFLOG (nfnetlink_log) socket with the requested groups bound and
// configured. The reader thread reads its fd directly with recvmmsg.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

struct nflog_handle;

namespace nfc {

struct NflogGroup {
  uint16_t group;
  uint8_t copy_mode;       // NFULNL_COPY_*
  uint32_t copy_range;     // bytes of each packet with NFULNL_COPY_PACKET
  uint32_t qthreshold;     // entries per datagram
  uint32_t flush_timeout;  // 1/100 s
  uint16_t flags;          // NFULNL_CFG_F_*
};

class NflogSocket {
 public:
  // Opens the socket and binds every group; throws SysError with a hint.
  NflogSocket(const std::vector<NflogGroup>& groups, uint32_t nlbufsiz, int rcvbuf);
  NflogSocket(const NflogSocket&) = delete;
  NflogSocket& operator=(const NflogSocket&) = delete;

  int fd() const;
  // Unbinds every group: the kernel sends the entries it was still batching
  // (the instance is flushed as it is destroyed) and logs no more to us.
  void Unbind();

 private:
  void Configure(const NflogGroup& group, uint32_t nlbufsiz);
  void SendCommand(uint16_t group, uint8_t command);

  std::vector<uint16_t> groups_;

  // Closing the handle closes the socket, which makes the kernel unbind its groups.
  struct CloseHandle {
    void operator()(nflog_handle* h) const;
  };
  std::unique_ptr<nflog_handle, CloseHandle> handle_;
  uint32_t seq_ = 0;
};

}  // namespace nfc
