// Opening listening sockets. Each worker gets its own socket on the same address with
// SO_REUSEPORT, so the kernel spreads accepted connections across workers without a shared
// accept lock. Called on the main thread before the workers start.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <utility>

#include "proxy/core/error.h"

namespace baton::proxy {

// "127.0.0.1:8080", "[::1]:8080", or ":8080" (all IPv4 addresses). Port 0 = kernel picks.
core::Result<std::pair<sockaddr_storage, socklen_t>> parseListenAddress(std::string_view text);

// A non-blocking, listening socket bound with SO_REUSEADDR and SO_REUSEPORT.
core::Result<int> openListenSocket(const sockaddr_storage& addr, socklen_t len);

// The bound address of `fd` as "ip:port" / "[v6]:port" (learns the port the kernel picked).
std::string boundAddress(int fd, uint16_t* port_out);

}  // namespace baton::proxy
