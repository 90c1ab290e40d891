// UpstreamPool against real loopback connections: the pool runs on an EventLoop on its own
// thread (run_on_loop.h); the backend is a listening socket the test accepts from and closes.
// The pool recycles its entries (list nodes with their idle timers): these tests pin what a
// recycled entry must not carry over from its last use.
#include "proxy/upstream_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/unit/proxy/loopback_listener.h"
#include "tests/unit/proxy/run_on_loop.h"

namespace baton::proxy {
namespace {

using namespace std::chrono_literals;

struct NullHandler : UpstreamConnection::Handler {
  void onUpstreamConnected() override {}
  void onUpstreamInformational(http1::ResponseHead&&) override {}
  void onUpstreamHead(http1::ResponseHead&&) override {}
  void onUpstreamBody(const char*, size_t) override {}
  void onUpstreamComplete() override {}
  void onUpstreamError(core::Error) override {}
  void onUpstreamDrained() override {}
  void onUpstreamUpgraded() override {}
};

class UpstreamPoolTest : public test::LoopThreadTest {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    sockaddr_in a{};
    listen_fd_ = test::listenLoopback(a);
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    host_.address = address_;  // a view (upstream/cluster.h): address_ keeps the text
    auto* sa = reinterpret_cast<sockaddr_in*>(&host_.sockaddr);
    *sa = a;
    host_.sockaddr_len = sizeof(sockaddr_in);
    startLoop();
    run([this] { pool_ = std::make_unique<UpstreamPool>(loop_); });
  }
  void TearDown() override {
    run([this] {
      conns_.clear();
      pool_.reset();
      loop_.flushDeferred();
    });
    stopLoop();
    for (int fd : accepted_) ::close(fd);
    ::close(listen_fd_);
  }
  // A new connection to the backend, accepted on this side (its fd in accepted_).
  UpstreamConnection* connect() {
    UpstreamConnection* raw = run([this] {
      conns_.push_back(UpstreamConnection::connect(loop_, host_, 64 * 1024, &handler_));
      return conns_.back().get();
    });
    pollfd p{listen_fd_, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 5000), 1);
    accepted_.push_back(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
    return raw;
  }
  // Hands the test-owned connection `c` to the pool.
  void release(UpstreamConnection* c, std::chrono::milliseconds idle_timeout,
               uint32_t max_idle = 8) {
    run([&] {
      for (auto& owned : conns_) {
        if (owned.get() == c) pool_->release(std::move(owned), max_idle, idle_timeout);
      }
      std::erase(conns_, nullptr);
    });
  }
  UpstreamConnection* take() {
    return run([this] {
      auto c = pool_->take(host_.address);
      UpstreamConnection* raw = c.get();
      if (c) {
        c->attach(&handler_);
        conns_.push_back(std::move(c));
      }
      return raw;
    });
  }
  size_t idle() {
    return run([this] { return pool_->idleCount(host_.address); });
  }
  // Polls the loop until the idle count is `n` (bounded).
  bool waitIdle(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (idle() == n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  std::unique_ptr<UpstreamPool> pool_;
  std::vector<std::unique_ptr<UpstreamConnection>> conns_;  // loop thread only
  NullHandler handler_;
  std::string address_;
  upstream::Host host_;
  int listen_fd_ = -1;
  std::vector<int> accepted_;
};

TEST_F(UpstreamPoolTest, TakesTheMostRecentlyParkedAndCapsTheIdleCount) {
  UpstreamConnection* a = connect();
  UpstreamConnection* b = connect();
  UpstreamConnection* c = connect();
  release(a, 10s, 2);
  release(b, 10s, 2);
  release(c, 10s, 2);  // over max_idle: closed instead
  EXPECT_EQ(idle(), 2u);
  EXPECT_EQ(take(), b);
  EXPECT_EQ(take(), a);
  EXPECT_EQ(take(), nullptr);
  // The recycled entries park connections again.
  release(a, 10s, 2);
  EXPECT_EQ(idle(), 1u);
  EXPECT_EQ(take(), a);
}

TEST_F(UpstreamPoolTest, IdleTimeoutRemovesAndTheEntryIsReused) {
  UpstreamConnection* a = connect();
  release(a, 20ms);
  EXPECT_TRUE(waitIdle(0));
  EXPECT_EQ(take(), nullptr);
  UpstreamConnection* b = connect();
  release(b, 10s);
  EXPECT_EQ(take(), b);
}

// A connection taken before its idle timeout must not be removed by that timer once it (or
// another connection in the same recycled entry) is parked again with a longer timeout.
TEST_F(UpstreamPoolTest, TakenConnectionsTimerDoesNotFireLater) {
  UpstreamConnection* a = connect();
  release(a, 30ms);
  EXPECT_EQ(take(), a);
  release(a, 10s);
  std::this_thread::sleep_for(150ms);  // well past the first timeout: nothing to await
  EXPECT_EQ(idle(), 1u);
  EXPECT_EQ(take(), a);
}

TEST_F(UpstreamPoolTest, UpstreamCloseRemovesTheIdleConnection) {
  UpstreamConnection* a = connect();
  UpstreamConnection* b = connect();
  release(a, 10s);
  release(b, 10s);
  ::close(accepted_[0]);  // a's peer goes away while a is parked
  accepted_.erase(accepted_.begin());
  EXPECT_TRUE(waitIdle(1));
  EXPECT_EQ(take(), b);
  EXPECT_EQ(take(), nullptr);
}

TEST_F(UpstreamPoolTest, CloseIdleDropsAHostsConnections) {
  release(connect(), 10s);
  release(connect(), 10s);
  EXPECT_EQ(idle(), 2u);
  run([this] { pool_->closeIdle(host_.address); });
  EXPECT_EQ(idle(), 0u);
  UpstreamConnection* c = connect();
  release(c, 10s);
  EXPECT_EQ(take(), c);
}

}  // namespace
}  // namespace baton::proxy
