#include "proxy/upgrade/fd_passing.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace baton::proxy::upgrade {

namespace {

constexpr char kMagic[4] = {'B', 'T', 'N', 'U'};
constexpr size_t kHeaderSize = 4 + 1 + 4 + 4;

void putU32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

uint32_t getU32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return value;
}

core::Error frameError(const std::string& what) {
  return core::Error::internal("upgrade handoff: " + what);
}

core::Error errnoError(const char* what) {
  return frameError(std::string(what) + ": " + std::strerror(errno));
}

// Every descriptor in the control messages of `msg` (closed by ReceivedFds on refusal).
std::vector<int> takeRights(msghdr& msg) {
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* data = reinterpret_cast<const unsigned char*>(CMSG_DATA(c));
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
      fds.push_back(fd);
    }
  }
  return fds;
}

}  // namespace

ReceivedFds& ReceivedFds::operator=(ReceivedFds&& other) noexcept {
  if (this != &other) {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
    fds_ = std::exchange(other.fds_, {});
  }
  return *this;
}

ReceivedFds::~ReceivedFds() {
  for (int fd : fds_) {
    if (fd >= 0) ::close(fd);
  }
}

core::Result<void> sendFrame(int sock, char kind, std::string_view payload,
                             std::span<const int> fds) {
  if (payload.size() > kMaxPayload || fds.size() > kMaxFdsPerFrame) {
    return core::fail(frameError("frame too large"));
  }
  std::string data(kHeaderSize, '\0');
  std::memcpy(data.data(), kMagic, 4);
  data[4] = kind;
  putU32(data.data() + 5, static_cast<uint32_t>(payload.size()));
  putU32(data.data() + 9, static_cast<uint32_t>(fds.size()));
  data.append(payload);
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFdsPerFrame), 0);
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return core::fail(errnoError("sendmsg"));
  }
}

core::Result<Frame> receiveFrame(int sock, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{sock, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (rc > 0) break;
    if (rc == 0)
      return core::fail(frameError("no message within " + std::to_string(timeout.count()) + " ms"));
    if (errno != EINTR) return core::fail(errnoError("poll"));
  }
  std::string data(kHeaderSize + kMaxPayload + 1, '\0');
  iovec iov{data.data(), data.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFdsPerFrame), 0);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return core::fail(errnoError("recvmsg"));
  ReceivedFds fds(takeRights(msg));
  if (n == 0) return core::fail(frameError("the peer closed the handoff socket"));
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    return core::fail(frameError("message truncated"));
  }
  const auto size = static_cast<size_t>(n);
  if (size < kHeaderSize || std::memcmp(data.data(), kMagic, 4) != 0) {
    return core::fail(frameError("not a handoff message"));
  }
  const uint32_t length = getU32(data.data() + 5);
  const uint32_t count = getU32(data.data() + 9);
  if (length != size - kHeaderSize) {
    return core::fail(frameError("message length " + std::to_string(length) + " but " +
                                 std::to_string(size - kHeaderSize) + " bytes arrived"));
  }
  if (count != fds.size()) {
    return core::fail(frameError("message names " + std::to_string(count) + " descriptors but " +
                                 std::to_string(fds.size()) + " arrived"));
  }
  return Frame{data[4], data.substr(kHeaderSize, length), std::move(fds)};
}

core::Result<std::pair<int, int>> framePair() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return core::fail(errnoError("socketpair"));
  }
  return std::pair{pair[0], pair[1]};
}

}  // namespace baton::proxy::upgrade
