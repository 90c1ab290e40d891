// Framed messages with file descriptors over a SOCK_SEQPACKET UNIX socket (SCM_RIGHTS): the
// wire under the binary upgrade's handoff (upgrade_handoff.h). One frame = one datagram:
//
//   "BTNU" | kind (1 byte) | payload length (u32, little endian) | fd count (u32) | payload
//
// with exactly `fd count` descriptors attached. A frame that is short, has another magic, a
// payload length that is not the datagram's, a descriptor count that is not what arrived, or was
// truncated by the kernel (MSG_TRUNC / MSG_CTRUNC) is refused, and any descriptor that came with
// it is closed: a garbage peer can neither confuse the handoff nor leak descriptors into us.
//
// Threading: blocking calls with poll() deadlines, made on the control thread during an upgrade
// (the new process before its loop runs; the old one on readable events of its loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"

namespace baton::proxy::upgrade {

// SCM_RIGHTS carries at most 253 descriptors per message (SCM_MAX_FD); callers split larger sets.
inline constexpr size_t kMaxFdsPerFrame = 200;
// A datagram must fit the socket buffer (net.core.wmem_default, ~208 KiB): keep well below.
inline constexpr size_t kMaxPayload = 64 * 1024;

// Owns received descriptors: closes whatever the caller did not release().
class ReceivedFds {
 public:
  ReceivedFds() = default;
  explicit ReceivedFds(std::vector<int> fds) : fds_(std::move(fds)) {}
  ReceivedFds(ReceivedFds&& other) noexcept : fds_(std::exchange(other.fds_, {})) {}
  ReceivedFds& operator=(ReceivedFds&& other) noexcept;
  ~ReceivedFds();
  size_t size() const { return fds_.size(); }
  int operator[](size_t i) const { return fds_[i]; }
  // Gives up ownership of descriptor i (the slot becomes -1).
  int release(size_t i) { return std::exchange(fds_[i], -1); }

 private:
  std::vector<int> fds_;
};

struct Frame {
  char kind = 0;
  std::string payload;
  ReceivedFds fds;
};

// Sends one frame (payload <= kMaxPayload, fds <= kMaxFdsPerFrame). The descriptors are
// duplicated into the peer by the kernel; ours stay open.
core::Result<void> sendFrame(int sock, char kind, std::string_view payload,
                             std::span<const int> fds = {});

// Waits up to `timeout` for one frame. EOF (the peer closed or died) is an error saying so.
core::Result<Frame> receiveFrame(int sock, std::chrono::milliseconds timeout);

// A socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC) for the handoff.
core::Result<std::pair<int, int>> framePair();

}  // namespace baton::proxy::upgrade
