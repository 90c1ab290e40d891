// Descriptor passing for the binary upgrade: frames with fds round trip over a SEQPACKET pair,
// and anything malformed is refused without leaking the descriptors that came with it.
#include "proxy/upgrade/fd_passing.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "proxy/upgrade/upgrade_handoff.h"

namespace baton::proxy::upgrade {
namespace {

using std::chrono::milliseconds;

struct Pair {
  Pair() {
    auto made = framePair();
    EXPECT_TRUE(made.has_value());
    a = made->first;
    b = made->second;
  }
  ~Pair() {
    ::close(a);
    ::close(b);
  }
  int a = -1;
  int b = -1;
};

// A pipe whose read end we send; the received copy must read what the write end writes.
struct PipeFds {
  PipeFds() { EXPECT_EQ(::pipe(fds), 0); }
  ~PipeFds() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int fds[2];
};

int openFdCount() {
  int n = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) ++n;
  }
  return n;
}

TEST(FdPassing, FrameWithSeveralDescriptorsRoundTrips) {
  Pair pair;
  PipeFds p1, p2, p3;
  const int send[] = {p1.fds[0], p2.fds[0], p3.fds[0]};
  ASSERT_TRUE(sendFrame(pair.a, 'L', "three pipes", send).has_value());
  auto frame = receiveFrame(pair.b, milliseconds(1000));
  ASSERT_TRUE(frame.has_value()) << frame.error().detail;
  EXPECT_EQ(frame->kind, 'L');
  EXPECT_EQ(frame->payload, "three pipes");
  ASSERT_EQ(frame->fds.size(), 3u);
  // Same pipes: what goes into p2's write end comes out of the second received descriptor.
  ASSERT_EQ(::write(p2.fds[1], "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(frame->fds[1], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  // Received descriptors are close-on-exec (a later fork+exec must not leak them).
  EXPECT_NE(::fcntl(frame->fds[0], F_GETFD) & FD_CLOEXEC, 0);
}

TEST(FdPassing, ReceivedDescriptorsCloseUnlessReleased) {
  Pair pair;
  PipeFds p;
  const int before = openFdCount();
  int kept = -1;
  {
    ASSERT_TRUE(sendFrame(pair.a, 'L', "", std::span<const int>(&p.fds[0], 1)).has_value());
    ASSERT_TRUE(sendFrame(pair.a, 'L', "", std::span<const int>(&p.fds[0], 1)).has_value());
    auto one = receiveFrame(pair.b, milliseconds(1000));
    auto two = receiveFrame(pair.b, milliseconds(1000));
    ASSERT_TRUE(one && two);
    kept = one->fds.release(0);
    EXPECT_EQ(openFdCount(), before + 2);
  }
  EXPECT_EQ(openFdCount(), before + 1);  // the released one only
  ::close(kept);
}

TEST(FdPassing, EmptyPayloadAndNoDescriptors) {
  Pair pair;
  ASSERT_TRUE(sendFrame(pair.a, 'G', "").has_value());
  auto frame = receiveFrame(pair.b, milliseconds(1000));
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->kind, 'G');
  EXPECT_TRUE(frame->payload.empty());
  EXPECT_EQ(frame->fds.size(), 0u);
}

TEST(FdPassing, TimesOutAndReportsEof) {
  Pair pair;
  auto none = receiveFrame(pair.b, milliseconds(20));
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().detail.find("no message"), std::string::npos);
  ::close(pair.a);
  pair.a = ::open("/dev/null", O_RDONLY);
  auto eof = receiveFrame(pair.b, milliseconds(1000));
  ASSERT_FALSE(eof.has_value());
  EXPECT_NE(eof.error().detail.find("closed"), std::string::npos);
}

// Raw datagrams that are not frames, with a descriptor attached to check it is closed.
void sendRaw(int sock, std::string_view bytes, int fd) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ASSERT_EQ(::sendmsg(sock, &msg, 0), static_cast<ssize_t>(bytes.size()));
}

std::string header(char kind, uint32_t length, uint32_t fds) {
  std::string out = "BTNU";
  out += kind;
  for (uint32_t v : {length, fds}) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  return out;
}

TEST(FdPassing, GarbageAndTruncatedFramesAreRefusedWithoutLeaks) {
  Pair pair;
  PipeFds p;
  const int before = openFdCount();
  struct Case {
    const char* name;
    std::string bytes;
    const char* says;
  };
  const Case cases[] = {
      {"short", "BTN", "not a handoff message"},
      {"wrong magic", "XXXXL\x05\0\0\0\x01\0\0\0hello", "not a handoff message"},
      {"length says more", header('L', 10, 1) + "hello", "length"},
      {"length says less", header('L', 2, 1) + "hello", "length"},
      {"more descriptors named", header('L', 5, 2) + "hello", "descriptors"},
      {"fewer descriptors named", header('L', 5, 0) + "hello", "descriptors"},
  };
  for (const auto& c : cases) {
    sendRaw(pair.a, c.bytes, p.fds[0]);
    auto frame = receiveFrame(pair.b, milliseconds(1000));
    ASSERT_FALSE(frame.has_value()) << c.name;
    EXPECT_NE(frame.error().detail.find(c.says), std::string::npos)
        << c.name << ": " << frame.error().detail;
    EXPECT_EQ(openFdCount(), before) << c.name << ": the attached descriptor leaked";
  }
  // The stream stays usable: the next good frame is read.
  ASSERT_TRUE(sendFrame(pair.a, 'E', "1").has_value());
  auto good = receiveFrame(pair.b, milliseconds(1000));
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->payload, "1");
}

TEST(FdPassing, OversizedFramesAreNotSent) {
  Pair pair;
  EXPECT_FALSE(sendFrame(pair.a, 'O', std::string(kMaxPayload + 1, 'x')).has_value());
  std::vector<int> many(kMaxFdsPerFrame + 1, 0);
  EXPECT_FALSE(sendFrame(pair.a, 'L', "", many).has_value());
}

}  // namespace
}  // namespace baton::proxy::upgrade
