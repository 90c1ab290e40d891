// BufferAccount (the per-thread share of [limits] buffer_budget) and the Transport hook that
// feeds it: every byte a transport buffers is counted, drains made directly on input() included,
// and nothing is left on the shared total when transports and accounts go away.
#include <event2/buffer.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "proxy/core/transport.h"

namespace baton::core {
namespace {

struct NullHandler : Transport::Handler {
  explicit NullHandler(EventLoop& loop) : loop(loop) {}
  void onTransportReadable() override { loop.stop(); }
  void onTransportDrained() override {}
  void onTransportConnected() override {}
  void onTransportClosed(bool, int) override { loop.stop(); }
  EventLoop& loop;
};

TEST(BufferAccountTest, PublishesOnlyWholeSteps) {
  std::atomic<int64_t> total{0};
  BufferAccount account(total);
  account.add(BufferAccount::kStep - 1);
  EXPECT_EQ(total.load(), 0);
  account.add(1);
  EXPECT_EQ(total.load(), BufferAccount::kStep);
  account.add(3 * BufferAccount::kStep + 5);
  EXPECT_EQ(total.load(), 4 * BufferAccount::kStep);
  account.add(-(3 * BufferAccount::kStep + 6));
  EXPECT_EQ(account.bytes(), BufferAccount::kStep - 1);
  EXPECT_EQ(total.load(), 0);
}

TEST(BufferAccountTest, TwoThreadSharesSumAndLeaveNothingBehind) {
  std::atomic<int64_t> total{0};
  {
    BufferAccount a(total);
    BufferAccount b(total);
    a.add(2 * BufferAccount::kStep);
    b.add(BufferAccount::kStep + 100);
    EXPECT_EQ(total.load(), 3 * BufferAccount::kStep);
  }
  EXPECT_EQ(total.load(), 0);  // destroyed accounts take their published share with them
}

class TransportAccountingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0);
    BufferAccount::setCurrent(&account_);
  }
  void TearDown() override {
    BufferAccount::setCurrent(nullptr);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  int fds_[2] = {-1, -1};
  EventLoop loop_;
  std::atomic<int64_t> total_{0};
  BufferAccount account_{total_};
};

TEST_F(TransportAccountingTest, CountsInputAndExternalDrains) {
  NullHandler handler(loop_);
  Transport t(loop_, fds_[0], &handler, 1 << 20);
  const std::string data(40'000, 'x');
  ASSERT_EQ(write(fds_[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  while (evbuffer_get_length(t.input()) < data.size()) loop_.run();
  EXPECT_EQ(account_.bytes(), 40'000);
  EXPECT_EQ(total_.load(), 2 * BufferAccount::kStep);
  evbuffer_drain(t.input(), 30'000);  // the handler consumes input directly
  EXPECT_EQ(account_.bytes(), 10'000);
  EXPECT_EQ(total_.load(), 0);
}

TEST_F(TransportAccountingTest, CountsUnsentOutputUntilTheTransportGoes) {
  NullHandler handler(loop_);
  fds_[0] = -1;
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
  {
    Transport t(loop_, pair[0], &handler, 1 << 20);
    // The peer never reads: the kernel takes what fits, the rest stays queued and counted.
    const std::string chunk(1 << 20, 'y');
    for (int i = 0; i < 8; ++i) t.write(chunk);
    EXPECT_GT(t.pendingOutput(), 0u);
    EXPECT_EQ(account_.bytes(), static_cast<int64_t>(t.pendingOutput()));
  }
  EXPECT_EQ(account_.bytes(), 0);
  EXPECT_EQ(total_.load(), 0);
  close(pair[1]);
}

TEST_F(TransportAccountingTest, NotCountedWithoutAnAccount) {
  BufferAccount::setCurrent(nullptr);
  NullHandler handler(loop_);
  Transport t(loop_, fds_[0], &handler, 1 << 20);
  ASSERT_EQ(write(fds_[1], "abc", 3), 3);
  loop_.run();
  EXPECT_EQ(evbuffer_get_length(t.input()), 3u);
  EXPECT_EQ(account_.bytes(), 0);
}

TEST_F(TransportAccountingTest, SuspendedReadingWaitsForResume) {
  NullHandler handler(loop_);
  Transport t(loop_, fds_[0], &handler, 1 << 20);
  t.setReadSuspended(true);
  ASSERT_EQ(write(fds_[1], "abc", 3), 3);
  Timer done(loop_, [&] { loop_.stop(); });
  done.arm(std::chrono::milliseconds(20));
  loop_.run();
  EXPECT_EQ(evbuffer_get_length(t.input()), 0u);
  t.pauseReading();
  t.resumeReading();  // the other pause reason lifted: still suspended
  done.arm(std::chrono::milliseconds(20));
  loop_.run();
  EXPECT_EQ(evbuffer_get_length(t.input()), 0u);
  t.setReadSuspended(false);
  loop_.run();
  EXPECT_EQ(evbuffer_get_length(t.input()), 3u);
}

}  // namespace
}  // namespace baton::core
