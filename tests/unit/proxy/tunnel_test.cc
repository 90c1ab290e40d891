#include "proxy/tunnel.h"
#include "tests/unit/proxy/run_on_loop.h"

#include <event2/buffer.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

namespace baton::proxy {
namespace {

struct NoHandler : core::Transport::Handler {
  void onTransportReadable() override {}
  void onTransportDrained() override {}
  void onTransportConnected() override {}
  void onTransportClosed(bool, int) override {}
};

// Reads from a blocking test-side socket until `n` bytes or EOF (within 5 s).
std::string readN(int fd, size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) break;
    const ssize_t got = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

bool readsEof(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 5000) != 1) return false;
  char c;
  return ::read(fd, &c, 1) == 0;
}

// Two socket pairs: [0] ends are the tunnel's transports (downstream, upstream), [1] ends the
// client and the backend. The loop runs on its own thread; run() executes on it.
class TunnelTest : public test::LoopThreadTest {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // as baton does (server.cc): a write to a closed peer is an error
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, down_), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, up_), 0);
    fcntl(down_[0], F_SETFL, O_NONBLOCK);
    fcntl(up_[0], F_SETFL, O_NONBLOCK);
    startLoop();
  }
  void TearDown() override {
    run([this] {
      tunnel_.reset();
      downstream_.reset();
      upstream_.reset();
    });
    stopLoop();
    close(down_[1]);
    close(up_[1]);
  }
  // `held` is put in the downstream's input first, like bytes read before a 101.
  void start(std::chrono::milliseconds idle, size_t high_watermark, std::string held = "") {
    run([&] {
      downstream_ = std::make_unique<core::Transport>(loop_, down_[0], &none_, high_watermark);
      upstream_ = std::make_unique<core::Transport>(loop_, up_[0], &none_, high_watermark);
      if (!held.empty()) evbuffer_add(downstream_->input(), held.data(), held.size());
      tunnel_ = std::make_unique<Tunnel>(loop_, *downstream_, *upstream_,
                                         Tunnel::Settings{idle, high_watermark},
                                         [this](Tunnel::End end) { ended_.set_value(end); });
      tunnel_->start(false, false);
    });
  }
  std::optional<Tunnel::End> waitEnd() {
    auto f = ended_.get_future();
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return std::nullopt;
    return f.get();
  }

  int down_[2] = {-1, -1};
  int up_[2] = {-1, -1};
  NoHandler none_;
  std::unique_ptr<core::Transport> downstream_;
  std::unique_ptr<core::Transport> upstream_;
  std::unique_ptr<Tunnel> tunnel_;
  std::promise<Tunnel::End> ended_;
};

TEST_F(TunnelTest, HeldBytesFirstThenBothWaysThenHalfClosesToEof) {
  start(std::chrono::seconds(10), 64 * 1024, "held;");
  ASSERT_EQ(::write(down_[1], "later", 5), 5);
  EXPECT_EQ(readN(up_[1], 10), "held;later");
  ASSERT_EQ(::write(up_[1], "pong", 4), 4);
  EXPECT_EQ(readN(down_[1], 4), "pong");
  // The client half-closes: the backend sees EOF, and can still answer.
  shutdown(down_[1], SHUT_WR);
  EXPECT_TRUE(readsEof(up_[1]));
  ASSERT_EQ(::write(up_[1], "bye", 3), 3);
  EXPECT_EQ(readN(down_[1], 3), "bye");
  shutdown(up_[1], SHUT_WR);
  EXPECT_TRUE(readsEof(down_[1]));
  EXPECT_EQ(waitEnd(), Tunnel::End::Eof);
  EXPECT_EQ(run([&] { return tunnel_->bytesFromDownstream(); }), 10u);
  EXPECT_EQ(run([&] { return tunnel_->bytesFromUpstream(); }), 7u);
}

TEST_F(TunnelTest, BackendThatStopsReadingStopsTheClientNotTheMemory) {
  constexpr size_t kHigh = 64 * 1024;
  start(std::chrono::seconds(10), kHigh);
  fcntl(down_[1], F_SETFL, O_NONBLOCK);
  const std::string chunk(64 * 1024, 'x');
  size_t sent = 0;
  // Write until the client's socket is full: the tunnel stopped reading it.
  for (int stalls = 0; stalls < 50;) {
    const ssize_t n = ::write(down_[1], chunk.data(), chunk.size());
    if (n > 0) {
      sent += static_cast<size_t>(n);
      stalls = 0;
      continue;
    }
    ++stalls;
    pollfd p{down_[1], POLLOUT, 0};
    poll(&p, 1, 10);
  }
  const size_t queued = run([&] { return upstream_->pendingOutput(); });
  EXPECT_LE(queued, 2 * kHigh + chunk.size()) << "sent " << sent;
  // The backend reads everything: nothing lost, nothing reordered.
  EXPECT_EQ(readN(up_[1], sent).size(), sent);
}

TEST_F(TunnelTest, BackendGoneDeliversWhatItSentThenEndsOnTheNextWrite) {
  start(std::chrono::seconds(10), 64 * 1024);
  ASSERT_EQ(::write(up_[1], "last words", 10), 10);
  close(up_[1]);
  up_[1] = socket(AF_UNIX, SOCK_STREAM, 0);  // keeps TearDown's close harmless
  EXPECT_EQ(readN(down_[1], 10), "last words");
  EXPECT_TRUE(readsEof(down_[1])) << "the backend's close is propagated as a half-close";
  // The client still writes toward the closed backend: that fails, and the tunnel ends.
  ASSERT_EQ(::write(down_[1], "anyone?", 7), 7);
  EXPECT_EQ(waitEnd(), Tunnel::End::UpstreamReset);
}

TEST_F(TunnelTest, IdleTimeoutEndsAQuietTunnel) {
  const auto started = std::chrono::steady_clock::now();
  start(std::chrono::milliseconds(150), 64 * 1024);
  EXPECT_EQ(waitEnd(), Tunnel::End::IdleTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(140));
}

}  // namespace
}  // namespace baton::proxy
