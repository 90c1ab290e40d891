// Opening listening sockets. Each worker gets its own socket on the same address with
// SO_REUSEPORT, so the kernel spreads accepted connections across workers without a shared
// accept lock. Called on the main thread before the workers start.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "proxy/core/error.h"

namespace baton::proxy {

// "127.0.0.1:8080", "[::1]:8080", or ":8080" (all IPv4 addresses). Port 0 = kernel picks.
core::Result<std::pair<sockaddr_storage, socklen_t>> parseListenAddress(std::string_view text);

// A non-blocking, listening socket bound with SO_REUSEADDR and SO_REUSEPORT.
core::Result<int> openListenSocket(const sockaddr_storage& addr, socklen_t len);

// Whether openListenSocket could bind `addr` now: binds a socket the same way and closes it,
// without listen(), so the probe never joins a port's SO_REUSEPORT group and never takes a
// connection (the listener retry probes ports left out, and ports baton already serves).
bool listenAddressBindable(const sockaddr_storage& addr, socklen_t len);

// The bound address of `fd` as "ip:port" / "[v6]:port" (learns the port the kernel picked).
std::string boundAddress(int fd, uint16_t* port_out);

// How many descriptors Marathon's per-service-port listeners may hold: one socket per worker per
// port (10,000 ports x 2 workers = 20,000), which could otherwise take every descriptor and
// leave none to accept a connection with. Kept out of their reach: [limits] fd_reserve (the
// accept-time guard's own margin), then a quarter of the limit (at least 64) for connections
// (client and upstream), and whatever else the process holds. Used by the server on the control
// thread while it plans a publish's listeners. Only service-port listeners are refused;
// configured and shared listeners (the operator asked for each) are counted.
class ListenerFdBudget {
 public:
  static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();
  // `limit`: the process's descriptor limit (kUnlimited: none).
  ListenerFdBudget(uint64_t limit, uint32_t fd_reserve);

  // Counts a service port's `sockets` against the budget; false (nothing counted) when they do
  // not fit.
  bool take(size_t sockets);
  // Counts descriptors that are open whatever the budget says (other listeners, the rest of
  // the process).
  void count(size_t descriptors) { used_ += descriptors; }
  // Gives back what take() counted for sockets that were not opened after all.
  void refund(size_t sockets) { used_ -= std::min<uint64_t>(used_, sockets); }
  uint64_t limit() const { return limit_; }
  // Descriptors never given to service-port listeners.
  uint64_t reserve() const { return reserve_; }

 private:
  uint64_t limit_;
  uint64_t reserve_;
  uint64_t used_ = 0;
};

// RLIMIT_NOFILE's soft value; nullopt when unlimited or unreadable. Read by the descriptor
// budget below and by each worker's accept-time guard.
std::optional<uint64_t> descriptorLimit();

// The budget for this process's current descriptor limit.
ListenerFdBudget listenerFdBudget(uint32_t fd_reserve);

// The descriptors this process has open (/proc/self/fd); 0 when that cannot be read.
size_t openDescriptorCount();

}  // namespace baton::proxy
