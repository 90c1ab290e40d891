// Test helper: a TCP socket on 127.0.0.1 at a port the kernel chose, listening (the tests'
// backends accept on it) or closed at once (connects to its port are refused).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace baton::proxy::test {

// A listening socket; `address` gets its 127.0.0.1:port. Returns the fd (the caller closes it).
inline int listenLoopback(sockaddr_in& address, int backlog = 64) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  address = sockaddr_in{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(fd, backlog), 0);
  socklen_t len = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  return fd;
}

// A port nothing listens on (bound, then closed).
inline uint16_t refusedLoopbackPort() {
  sockaddr_in address{};
  const int fd = listenLoopback(address);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace baton::proxy::test
