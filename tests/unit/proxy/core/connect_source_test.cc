// core::setConnectSource: every Transport::connect binds to the source address ([upstream]
// source_address), the kernel still picks the port, and other threads see a change.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "proxy/core/transport.h"

namespace baton::core {
namespace {

struct Connected : Transport::Handler {
  explicit Connected(EventLoop& loop) : loop(loop) {}
  void onTransportReadable() override {}
  void onTransportDrained() override {}
  void onTransportConnected() override {
    connected = true;
    loop.stop();
  }
  void onTransportClosed(bool, int) override { loop.stop(); }
  EventLoop& loop;
  bool connected = false;
};

class ConnectSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)), 0);
    ASSERT_EQ(listen(listener_, 8), 0);
    socklen_t len = sizeof(addr_);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr_), &len);
  }
  void TearDown() override {
    ASSERT_TRUE(setConnectSource(""));
    close(listener_);
  }
  // Connects through a Transport (on this thread) and returns the peer address the listener saw.
  sockaddr_in connectOnce() {
    EventLoop loop;
    Connected rec(loop);
    auto t =
        Transport::connect(loop, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_), &rec, 1024);
    EXPECT_TRUE(t) << (t ? "" : t.error().detail);
    if (t) loop.run();
    EXPECT_TRUE(rec.connected);
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    const int fd = accept(listener_, reinterpret_cast<sockaddr*>(&peer), &len);
    EXPECT_GE(fd, 0);
    close(fd);
    return peer;
  }
  static std::string ip(const sockaddr_in& a) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof(text));
    return text;
  }
  int listener_ = -1;
  sockaddr_in addr_{};
};

TEST_F(ConnectSourceTest, ConnectsFromTheSourceAddressOnAKernelChosenPort) {
  ASSERT_TRUE(setConnectSource("127.0.0.3"));
  EXPECT_EQ(connectSource(), "127.0.0.3");
  const sockaddr_in first = connectOnce();
  const sockaddr_in second = connectOnce();
  EXPECT_EQ(ip(first), "127.0.0.3");
  EXPECT_EQ(ip(second), "127.0.0.3");
  EXPECT_NE(ntohs(first.sin_port), 0);
  EXPECT_NE(first.sin_port, second.sin_port);
}

TEST_F(ConnectSourceTest, UnsetIsTheKernelsChoice) {
  ASSERT_TRUE(setConnectSource("127.0.0.3"));
  ASSERT_TRUE(setConnectSource(""));
  EXPECT_EQ(connectSource(), "");
  EXPECT_EQ(ip(connectOnce()), "127.0.0.1");
}

TEST_F(ConnectSourceTest, AnotherThreadSeesAChange) {
  ASSERT_TRUE(setConnectSource("127.0.0.4"));
  std::string seen;
  std::thread([&] { seen = ip(connectOnce()); }).join();
  EXPECT_EQ(seen, "127.0.0.4");
  ASSERT_TRUE(setConnectSource("127.0.0.5"));
  std::thread([&] { seen = ip(connectOnce()); }).join();
  EXPECT_EQ(seen, "127.0.0.5");
  EXPECT_EQ(ip(connectOnce()), "127.0.0.5");  // this thread's cached copy is refreshed too
}

TEST_F(ConnectSourceTest, ADestinationOfTheOtherFamilyIsNotBound) {
  ASSERT_TRUE(setConnectSource("::1"));
  EXPECT_EQ(connectSource(), "::1");
  EXPECT_EQ(ip(connectOnce()), "127.0.0.1");  // IPv4 backend: the kernel's choice
}

TEST_F(ConnectSourceTest, AnAddressThisHostDoesNotHaveFailsTheConnect) {
  ASSERT_TRUE(setConnectSource("192.0.2.1"));  // TEST-NET-1: not on this machine
  EventLoop loop;
  Connected rec(loop);
  auto t = Transport::connect(loop, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_), &rec, 1024);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::UpstreamConnectFailed);
  EXPECT_NE(t.error().detail.find("bind to source address 192.0.2.1"), std::string::npos)
      << t.error().detail;
}

TEST(ConnectSource, RefusesANonNumericAddress) {
  EXPECT_FALSE(setConnectSource("edge-1.example.com"));
  EXPECT_FALSE(setConnectSource("127.0.0.3:80"));
  EXPECT_EQ(connectSource(), "");
}

}  // namespace
}  // namespace baton::core
