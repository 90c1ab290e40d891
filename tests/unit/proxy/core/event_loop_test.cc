#include "proxy/core/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "proxy/core/error.h"

namespace baton::core {
namespace {

TEST(EventLoopTest, PostFromAnotherThreadRunsOnLoop) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread poster([&] {
    loop.post([&] {
      ran_on = std::this_thread::get_id();
      loop.stop();
    });
  });
  loop.run();
  poster.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoopTest, TimerFiresOnceAndCanBeRearmed) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] {
    if (++fired == 2) loop.stop();
  });
  Timer rearm(loop, [&] { timer.arm(std::chrono::milliseconds(1)); });
  timer.arm(std::chrono::milliseconds(1));
  rearm.arm(std::chrono::milliseconds(5));
  loop.run();
  EXPECT_EQ(fired, 2);
  EXPECT_FALSE(timer.armed());
}

TEST(EventLoopTest, CancelledTimerDoesNotFire) {
  EventLoop loop;
  bool fired = false;
  Timer timer(loop, [&] { fired = true; });
  Timer done(loop, [&] { loop.stop(); });
  timer.arm(std::chrono::milliseconds(1));
  EXPECT_TRUE(timer.armed());
  timer.cancel();
  done.arm(std::chrono::milliseconds(10));
  loop.run();
  EXPECT_FALSE(fired);
}

struct Tracked : Deletable {
  explicit Tracked(int& count) : count_(count) {}
  ~Tracked() override { ++count_; }
  int& count_;
};

TEST(EventLoopTest, DeferredDeleteHappensAfterTheCallback) {
  EventLoop loop;
  int destroyed = 0;
  Timer timer(loop, [&] {
    loop.deferDelete(std::make_unique<Tracked>(destroyed));
    EXPECT_EQ(destroyed, 0);  // still alive inside the callback that deferred it
    loop.post([&] { loop.stop(); });
  });
  timer.arm(std::chrono::milliseconds(0));
  loop.run();
  EXPECT_EQ(destroyed, 1);
}

TEST(EventLoopTest, FlushDeferredDestroysNow) {
  EventLoop loop;
  int destroyed = 0;
  loop.deferDelete(std::make_unique<Tracked>(destroyed));
  loop.flushDeferred();
  EXPECT_EQ(destroyed, 1);
}

TEST(ErrorTest, NamesAreStableAndFactoriesSetSource) {
  EXPECT_EQ(errorCodeName(ErrorCode::NoRoute), "NoRoute");
  EXPECT_EQ(errorCodeName(ErrorCode::UpstreamConnectFailed), "UpstreamConnectFailed");
  Error up = Error::upstream(ErrorCode::UpstreamConnectFailed, true, "refused");
  EXPECT_EQ(up.source, ErrorSource::Upstream);
  EXPECT_TRUE(up.retryable);
  Error down = Error::downstream(ErrorCode::BadHeader);
  EXPECT_EQ(down.source, ErrorSource::Downstream);
  EXPECT_FALSE(down.retryable);
  Result<int> r = fail(Error::config("f.toml:3: key: bad"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::ConfigInvalid);
}

}  // namespace
}  // namespace baton::core
