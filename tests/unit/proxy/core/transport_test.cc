#include "proxy/core/transport.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace baton::core {
namespace {

// Records transport events; optionally stops the loop on a chosen one.
struct Recorder : Transport::Handler {
  explicit Recorder(EventLoop& loop) : loop(loop) {}
  void onTransportReadable() override {
    ++readable;
    if (stop_on_readable) loop.stop();
  }
  void onTransportDrained() override {
    ++drained;
    if (stop_on_drained) loop.stop();
  }
  void onTransportConnected() override {
    ++connected;
    loop.stop();
  }
  void onTransportClosed(bool error, int err) override {
    closed = true;
    closed_error = error;
    closed_errno = err;
    loop.stop();
  }
  EventLoop& loop;
  int readable = 0, drained = 0, connected = 0;
  bool closed = false, closed_error = false;
  int closed_errno = 0;
  bool stop_on_readable = true, stop_on_drained = false;
};

std::string drainAll(evbuffer* buf) {
  std::string out(evbuffer_get_length(buf), '\0');
  evbuffer_remove(buf, out.data(), out.size());
  return out;
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0); }
  void TearDown() override {
    if (fds_[1] >= 0) close(fds_[1]);
  }
  int fds_[2] = {-1, -1};
  EventLoop loop_;
};

TEST_F(TransportTest, ReadsWhatThePeerSends) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  ASSERT_EQ(write(fds_[1], "hello", 5), 5);
  loop_.run();
  EXPECT_EQ(rec.readable, 1);
  EXPECT_EQ(drainAll(t.input()), "hello");
}

TEST_F(TransportTest, WritesOutsideCallbacksAreSentImmediately) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  t.write("ping");
  char buf[8] = {};
  EXPECT_EQ(read(fds_[1], buf, sizeof(buf)), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  EXPECT_EQ(t.pendingOutput(), 0u);
}

TEST_F(TransportTest, WritesInsideACallbackAreBatchedIntoOneFlush) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  {
    EventLoop::CallbackScope scope(loop_);
    t.write("a");
    t.write("b");
    t.write("c");
    EXPECT_EQ(t.pendingOutput(), 3u);  // nothing sent until the scope ends
  }
  EXPECT_EQ(t.pendingOutput(), 0u);
  char buf[8] = {};
  EXPECT_EQ(read(fds_[1], buf, sizeof(buf)), 3);
}

// writeNow: with nothing queued the bytes are on the socket before the callback ends (no flush
// needed); behind queued bytes they wait their turn, in order.
TEST_F(TransportTest, WriteNowSkipsTheFlushOnlyWhenNothingIsQueued) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  char buf[8] = {};
  {
    EventLoop::CallbackScope scope(loop_);
    t.writeNow("head", 4);
    EXPECT_EQ(t.pendingOutput(), 0u);
    EXPECT_EQ(read(fds_[1], buf, sizeof(buf)), 4);  // before the scope ends
    EXPECT_EQ(std::string(buf, 4), "head");
    t.write("a");
    t.writeNow("b", 1);
    EXPECT_EQ(t.pendingOutput(), 2u);  // behind "a": queued, not sent ahead of it
  }
  EXPECT_EQ(t.pendingOutput(), 0u);
  EXPECT_EQ(read(fds_[1], buf, sizeof(buf)), 2);
  EXPECT_EQ(std::string(buf, 2), "ab");
}

// More than the socket takes: the rest is queued and sent as the peer reads, whole and in order.
TEST_F(TransportTest, WriteNowQueuesWhatTheSocketRefuses) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  std::string big(8 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  {
    EventLoop::CallbackScope scope(loop_);
    t.writeNow(big.data(), big.size());
    EXPECT_GT(t.pendingOutput(), 0u);
    EXPECT_LT(t.pendingOutput(), big.size());
  }
  std::string got;
  char buf[65536];
  while (got.size() < big.size()) {
    const ssize_t n = read(fds_[1], buf, sizeof(buf));
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
    } else {
      event_base_loop(loop_.base(), EVLOOP_NONBLOCK);  // let the transport write more
    }
  }
  EXPECT_EQ(got, big);
  EXPECT_EQ(t.pendingOutput(), 0u);
}

// A dead peer: writeNow never calls the handler itself; the failure is reported from the flush
// that follows, with the errno the send saw.
TEST_F(TransportTest, WriteNowToAClosedPeerFailsOnTheFlush) {
  std::signal(SIGPIPE, SIG_IGN);  // as baton does (server.cc): the flush's writev would raise it
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  close(fds_[1]);
  fds_[1] = -1;
  {
    EventLoop::CallbackScope scope(loop_);
    t.writeNow("head", 4);
    EXPECT_FALSE(rec.closed);
    EXPECT_EQ(t.pendingOutput(), 4u);
  }
  EXPECT_TRUE(rec.closed);
  EXPECT_TRUE(rec.closed_error);
  EXPECT_EQ(rec.closed_errno, EPIPE);
}

TEST_F(TransportTest, EofIsReportedAsCleanClose) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  close(fds_[1]);
  fds_[1] = -1;
  loop_.run();
  EXPECT_TRUE(rec.closed);
  EXPECT_FALSE(rec.closed_error);
}

TEST_F(TransportTest, StopsReadingAtTheHighWatermarkAndResumesWhenConsumed) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 8);
  std::string big(64, 'x');
  ASSERT_EQ(write(fds_[1], big.data(), big.size()), 64);
  loop_.run();
  size_t first = evbuffer_get_length(t.input());
  EXPECT_GE(first, 8u);
  // Not consumed: another loop pass must not read more (reading is paused by the watermark).
  Timer done(loop_, [&] { loop_.stop(); });
  done.arm(std::chrono::milliseconds(20));
  loop_.run();
  EXPECT_EQ(evbuffer_get_length(t.input()), first);
  evbuffer_drain(t.input(), first);
  t.inputConsumed();
  if (first < 64) {
    loop_.run();
    EXPECT_GT(evbuffer_get_length(t.input()), 0u);
  }
}

TEST_F(TransportTest, ReloadedHighWatermarkTakesEffect) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  t.setHighWatermark(8);
  EXPECT_EQ(t.highWatermark(), 8u);
  std::string big(64, 'x');
  ASSERT_EQ(write(fds_[1], big.data(), big.size()), 64);
  loop_.run();
  const size_t first = evbuffer_get_length(t.input());
  Timer done(loop_, [&] { loop_.stop(); });
  done.arm(std::chrono::milliseconds(20));
  loop_.run();
  EXPECT_EQ(evbuffer_get_length(t.input()), first);  // stopped at the new, lower watermark
}

TEST_F(TransportTest, PauseReadingHoldsBytesInTheKernel) {
  Recorder rec(loop_);
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  t.pauseReading();
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  Timer done(loop_, [&] { loop_.stop(); });
  done.arm(std::chrono::milliseconds(20));
  loop_.run();
  EXPECT_EQ(rec.readable, 0);
  t.resumeReading();
  loop_.run();
  EXPECT_EQ(rec.readable, 1);
}

TEST_F(TransportTest, DrainedFiresWhenABackloggedOutputEmpties) {
  Recorder rec(loop_);
  rec.stop_on_readable = false;
  rec.stop_on_drained = true;
  Transport t(loop_, fds_[0], &rec, 1 << 20);
  t.setWriteLowWatermark(0);
  // Fill the socket buffer so part of the write stays queued.
  std::string big(4 << 20, 'y');
  t.write(big);
  ASSERT_GT(t.pendingOutput(), 0u);
  // A reader on the other end empties the socket from a timer.
  size_t received = 0;
  Timer reader(loop_, [&] {
    char buf[65536];
    ssize_t n;
    while ((n = read(fds_[1], buf, sizeof(buf))) > 0) received += static_cast<size_t>(n);
    if (rec.drained == 0) reader.arm(std::chrono::milliseconds(1));
  });
  reader.arm(std::chrono::milliseconds(1));
  loop_.run();
  EXPECT_EQ(rec.drained, 1);
  EXPECT_EQ(t.pendingOutput(), 0u);
}

TEST(TransportConnectTest, RefusedConnectIsReportedAsError) {
  // Bind a port, then close it: connecting there is refused.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  close(probe);

  EventLoop loop;
  Recorder rec(loop);
  auto t = Transport::connect(loop, reinterpret_cast<sockaddr*>(&addr), sizeof(addr), &rec, 1024);
  if (!t) {
    SUCCEED() << "refused synchronously: " << t.error().detail;
    return;
  }
  loop.run();
  EXPECT_TRUE(rec.closed);
  EXPECT_TRUE(rec.closed_error);
  EXPECT_EQ(rec.connected, 0);
}

TEST(TransportConnectTest, ConnectsAndFlushesQueuedBytes) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  EventLoop loop;
  Recorder rec(loop);
  auto t = Transport::connect(loop, reinterpret_cast<sockaddr*>(&addr), sizeof(addr), &rec, 1024);
  ASSERT_TRUE(t);
  (*t)->write("queued before connect");
  loop.run();
  EXPECT_EQ(rec.connected, 1);
  int peer = accept(listener, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  {
    EventLoop::CallbackScope scope(loop);  // flush happens when the scope closes
  }
  char buf[64] = {};
  ssize_t n = recv(peer, buf, sizeof(buf), 0);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "queued before connect");
  close(peer);
  close(listener);
}

}  // namespace
}  // namespace baton::core
