#include "proxy/tcp_proxy.h"
#include "tests/unit/proxy/run_on_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

namespace baton::proxy {
namespace {

// A loopback listening socket standing in for an upstream host.
struct Origin {
  Origin() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd, 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~Origin() { close(fd); }
  // The next connection within `ms`, or -1.
  int accept(int ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1) return -1;
    return ::accept(fd, nullptr, nullptr);
  }
  int fd;
  std::string address;
};

// `draining` = indices of hosts discovery marks draining (HostSpec::draining).
std::shared_ptr<const upstream::Cluster> makeCluster(const std::vector<std::string>& addresses,
                                                     uint32_t attempts = 3,
                                                     std::vector<size_t> draining = {}) {
  conf::ClusterSpec spec;
  spec.name = "c";
  spec.connect_attempts = attempts;
  for (const auto& a : addresses) {
    conf::HostSpec host;
    host.address = a;
    spec.hosts.push_back(host);
  }
  for (size_t i : draining) spec.hosts[i].draining = true;
  auto cluster = upstream::Cluster::create(spec);
  EXPECT_TRUE(cluster.has_value());
  return *cluster;
}

// Runs the loop on its own thread; everything touching the proxy goes through run().
class TcpProxyTest : public test::LoopThreadTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair_), 0);
    fcntl(pair_[0], F_SETFL, O_NONBLOCK);
    startLoop();
  }
  void TearDown() override {
    run([this] { proxy_.reset(); });
    stopLoop();
    if (pair_[1] >= 0) close(pair_[1]);
  }
  // Starts a proxy for the client end pair_[0]; `closed` gets its end reason.
  void startProxy(std::shared_ptr<const upstream::Cluster> cluster, TcpProxySettings settings) {
    cluster_ = cluster;
    lb_ = upstream::createLoadBalancer(cluster, 1);
    run([&] {
      proxy_ =
          std::make_unique<TcpProxy>(loop_, pair_[0], cluster_, lb_, settings,
                                     [this](TcpProxy* p) { closed_.set_value(p->endReason()); });
      proxy_->start();
    });
  }
  std::string waitClosed() {
    auto f = closed_.get_future();
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return "still open";
    return f.get();
  }
  uint32_t outstanding(uint32_t host) {
    return run([&] { return lb_->outstanding(host); });
  }

  int pair_[2] = {-1, -1};
  std::shared_ptr<const upstream::Cluster> cluster_;
  std::shared_ptr<upstream::LoadBalancer> lb_;
  std::unique_ptr<TcpProxy> proxy_;
  std::promise<std::string> closed_;
};

TEST_F(TcpProxyTest, SplicesBothWaysCountsTheHostAndEndsOnBothEofs) {
  Origin origin;
  startProxy(makeCluster({origin.address}), {});
  int up = origin.accept(5000);
  ASSERT_GE(up, 0);
  EXPECT_EQ(outstanding(0), 1u);  // counted for least-request and the admin stats
  ASSERT_EQ(write(pair_[1], "ping", 4), 4);
  char buf[16];
  ASSERT_EQ(read(up, buf, sizeof(buf)), 4);
  ASSERT_EQ(write(up, "pong", 4), 4);
  ASSERT_EQ(read(pair_[1], buf, sizeof(buf)), 4);
  EXPECT_EQ(std::string(buf, 4), "pong");
  shutdown(pair_[1], SHUT_WR);
  EXPECT_EQ(read(up, buf, sizeof(buf)), 0);  // the client's FIN reached the origin
  ASSERT_EQ(write(up, "late", 4), 4);        // the other direction still flows
  ASSERT_EQ(read(pair_[1], buf, sizeof(buf)), 4);
  close(up);
  EXPECT_EQ(waitClosed(), "eof");
  EXPECT_EQ(outstanding(0), 0u);
  EXPECT_EQ(run([&] { return proxy_->bytesFromClient() + proxy_->bytesFromUpstream(); }), 12u);
}

TEST_F(TcpProxyTest, DrainingHostGetsNoNewConnection) {
  Origin draining;
  Origin active;
  startProxy(makeCluster({draining.address, active.address}, 3, {0}), {});
  int up = active.accept(5000);
  ASSERT_GE(up, 0);
  EXPECT_EQ(draining.accept(0), -1);
  EXPECT_EQ(outstanding(0), 0u);
  EXPECT_EQ(outstanding(1), 1u);
  close(up);
  close(pair_[1]);
  pair_[1] = -1;
  const std::string reason = waitClosed();
  EXPECT_TRUE(reason == "eof" || reason == "reset") << reason;
}

TEST_F(TcpProxyTest, NoHostClosesAtOnce) {
  Origin origin;
  startProxy(makeCluster({origin.address}, 3, {0}), {});
  EXPECT_EQ(waitClosed(), "no host");
  EXPECT_EQ(origin.accept(0), -1);
  run([this] { proxy_.reset(); });
  char c;
  EXPECT_EQ(read(pair_[1], &c, 1), 0);  // client sees the close
}

TEST_F(TcpProxyTest, RefusedHostsUpToConnectAttempts) {
  // Three refusing hosts (bound, not listening), two attempts allowed; the live one is never
  // reached because round-robin puts it last.
  int dead[3];
  std::vector<std::string> addresses;
  for (int& fd : dead) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    addresses.push_back("127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  }
  Origin live;
  addresses.push_back(live.address);
  startProxy(makeCluster(addresses, 2), {});
  EXPECT_EQ(waitClosed(), "connect failed");
  EXPECT_EQ(live.accept(0), -1);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(outstanding(i), 0u);
  for (int fd : dead) close(fd);
}

TEST_F(TcpProxyTest, IdleTimeoutEndsTheTunnel) {
  Origin origin;
  TcpProxySettings settings;
  settings.idle_timeout = std::chrono::milliseconds(50);
  startProxy(makeCluster({origin.address}), settings);
  int up = origin.accept(5000);
  ASSERT_GE(up, 0);
  EXPECT_EQ(waitClosed(), "idle timeout");
  EXPECT_EQ(outstanding(0), 0u);
  close(up);
}

}  // namespace
}  // namespace baton::proxy
