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

// LazyTimer: nothing to cancel before the first arm; once armed it behaves as a Timer (fires
// once, can be cancelled and armed again).
TEST(EventLoopTest, LazyTimerActsAsATimerFromItsFirstArm) {
  EventLoop loop;
  int fired = 0;
  LazyTimer timer(loop, [&] {
    ++fired;
    loop.stop();
  });
  EXPECT_FALSE(timer.armed());
  timer.cancel();  // never armed: nothing to do
  timer.arm(std::chrono::milliseconds(1));
  EXPECT_TRUE(timer.armed());
  timer.cancel();
  EXPECT_FALSE(timer.armed());
  Timer done(loop, [&] { loop.stop(); });
  done.arm(std::chrono::milliseconds(10));
  loop.run();
  EXPECT_EQ(fired, 0);
  timer.arm(std::chrono::milliseconds(1));
  loop.run();
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
}

// push(): a later deadline is only stored while libevent would wake the timer earlier anyway;
// the callback still runs once, and never before the last deadline pushed.
TEST(EventLoopTest, PushedDeadlineMovesLaterAndFiresOnce) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  EventLoop loop;
  int fired = 0;
  Clock::time_point fired_at{}, last_push{};
  Timer timer(loop, [&] {
    ++fired;
    fired_at = Clock::now();
  });
  Timer pusher(loop, [&] {
    last_push = Clock::now();
    timer.push(milliseconds(60));  // later than the 30 ms set first: stored, not re-added
    EXPECT_TRUE(timer.armed());
  });
  Timer done(loop, [&] { loop.stop(); });
  timer.push(milliseconds(30));
  pusher.arm(milliseconds(15));
  done.arm(milliseconds(250));
  loop.run();
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at - last_push, milliseconds(60));
  EXPECT_FALSE(timer.armed());
}

TEST(EventLoopTest, PushedEarlierDeadlineIsHonoured) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  EventLoop loop;
  const auto start = Clock::now();
  Clock::duration took{};
  Timer timer(loop, [&] {
    took = Clock::now() - start;
    loop.stop();
  });
  Timer guard(loop, [&] { loop.stop(); });
  timer.push(std::chrono::seconds(30));
  timer.push(milliseconds(10));  // earlier than what libevent holds: re-added
  guard.arm(std::chrono::seconds(5));
  loop.run();
  EXPECT_GT(took.count(), 0);
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_GE(took, milliseconds(10));
}

// arm() after push() replaces the pushed deadline, and cancel() after push() stops it, even
// while an early wake-up is pending in libevent.
TEST(EventLoopTest, ArmAndCancelOverridePush) {
  using std::chrono::milliseconds;
  EventLoop loop;
  int armed_fired = 0, cancelled_fired = 0;
  Timer armed(loop, [&] { ++armed_fired; });
  Timer cancelled(loop, [&] { ++cancelled_fired; });
  Timer done(loop, [&] { loop.stop(); });
  armed.push(milliseconds(5));
  armed.push(milliseconds(500));  // stored only
  armed.arm(milliseconds(20));    // a real re-arm: fires at 20 ms, not 500
  cancelled.push(milliseconds(5));
  cancelled.push(milliseconds(30));
  cancelled.cancel();
  done.arm(milliseconds(120));
  loop.run();
  EXPECT_EQ(armed_fired, 1);
  EXPECT_EQ(cancelled_fired, 0);
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
