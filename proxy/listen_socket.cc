#include "proxy/listen_socket.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "upstream/cluster.h"

namespace baton::proxy {

namespace {
constexpr int kListenBacklog = 4096;

core::Error socketError(const char* what) {
  return core::Error::internal(std::string(what) + ": " + std::strerror(errno));
}
}  // namespace

core::Result<std::pair<sockaddr_storage, socklen_t>> parseListenAddress(std::string_view text) {
  if (!text.empty() && text.front() == ':') {
    return upstream::parseSocketAddress("0.0.0.0" + std::string(text),
                                        upstream::PortRule::ZeroAllowed);
  }
  return upstream::parseSocketAddress(text, upstream::PortRule::ZeroAllowed);
}

namespace {

// A socket bound as every listener's is (SO_REUSEPORT: one per worker), not listening yet.
core::Result<int> bindListenSocket(const sockaddr_storage& addr, socklen_t len) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::fail(socketError("socket"));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    auto error = socketError("bind");
    ::close(fd);
    return core::fail(std::move(error));
  }
  return fd;
}

}  // namespace

bool listenAddressBindable(const sockaddr_storage& addr, socklen_t len) {
  auto fd = bindListenSocket(addr, len);
  if (!fd) return false;
  ::close(*fd);
  return true;
}

core::Result<int> openListenSocket(const sockaddr_storage& addr, socklen_t len) {
  auto bound = bindListenSocket(addr, len);
  if (!bound) return bound;
  const int fd = *bound;
  if (::listen(fd, kListenBacklog) != 0) {
    auto error = socketError("listen");
    ::close(fd);
    return core::fail(std::move(error));
  }
  return fd;
}

std::string boundAddress(int fd, uint16_t* port_out) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  char text[INET6_ADDRSTRLEN] = "";
  uint16_t port = 0;
  std::string out;
  if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    port = ntohs(v6->sin6_port);
    out = "[" + std::string(text) + "]:" + std::to_string(port);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    port = ntohs(v4->sin_port);
    out = std::string(text) + ":" + std::to_string(port);
  }
  if (port_out != nullptr) *port_out = port;
  return out;
}

ListenerFdBudget::ListenerFdBudget(uint64_t limit, uint32_t fd_reserve)
    : limit_(limit),
      reserve_(limit == kUnlimited
                   ? 0
                   : std::min(limit, uint64_t{fd_reserve} + std::max<uint64_t>(limit / 4, 64))) {}

bool ListenerFdBudget::take(size_t sockets) {
  if (limit_ == kUnlimited) return true;
  if (used_ + sockets > limit_ - reserve_) return false;
  used_ += sockets;
  return true;
}

std::optional<uint64_t> descriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<uint64_t>(limit.rlim_cur);
}

ListenerFdBudget listenerFdBudget(uint32_t fd_reserve) {
  return ListenerFdBudget(descriptorLimit().value_or(ListenerFdBudget::kUnlimited), fd_reserve);
}

size_t openDescriptorCount() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  size_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the directory's own descriptor
}

}  // namespace baton::proxy
