#include "proxy/core/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

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

// SharedTimer: the loop's one libevent timer serves every armed SharedTimer.
TEST(EventLoopTest, SharedTimerFiresOnceAfterItsDeadlineAndCanBeRearmed) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  EventLoop loop;
  int fired = 0;
  const auto start = Clock::now();
  Clock::duration first{};
  SharedTimer timer(loop, [&] {
    if (++fired == 1) {
      first = Clock::now() - start;
      EXPECT_FALSE(timer.armed());
      timer.arm(milliseconds(1));
      return;
    }
    loop.stop();
  });
  Timer guard(loop, [&] { loop.stop(); });
  timer.arm(milliseconds(20));
  EXPECT_TRUE(timer.armed());
  guard.arm(std::chrono::seconds(5));
  loop.run();
  EXPECT_EQ(fired, 2);
  EXPECT_GE(first, milliseconds(20));
  EXPECT_FALSE(timer.armed());
}

// Cancelling (or destroying) only unlinks: the loop's timer still wakes for the earlier deadline,
// finds nothing due and sleeps until the one left, which fires at its own deadline, not before.
TEST(EventLoopTest, SharedTimerCancelledOrDestroyedDoesNotFire) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  EventLoop loop;
  int cancelled_fired = 0, later_fired = 0;
  const auto start = Clock::now();
  Clock::duration later_at{};
  SharedTimer cancelled(loop, [&] { ++cancelled_fired; });
  auto destroyed = std::make_unique<SharedTimer>(loop, [&] { ++cancelled_fired; });
  SharedTimer later(loop, [&] {
    ++later_fired;
    later_at = Clock::now() - start;
  });
  Timer done(loop, [&] { loop.stop(); });
  cancelled.arm(milliseconds(5));
  destroyed->arm(milliseconds(5));
  later.arm(milliseconds(40));
  cancelled.cancel();
  EXPECT_FALSE(cancelled.armed());
  destroyed.reset();
  done.arm(milliseconds(150));
  loop.run();
  EXPECT_EQ(cancelled_fired, 0);
  EXPECT_EQ(later_fired, 1);
  EXPECT_GE(later_at, milliseconds(40));
}

// A deadline earlier than the loop's wake-up moves the wake-up; one later only replaces the
// timer's own (push): it fires once, never before the last deadline set.
TEST(EventLoopTest, SharedTimerEarlierDeadlineIsHonouredAndLaterOneReplaces) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  EventLoop loop;
  const auto start = Clock::now();
  Clock::duration early_at{}, pushed_at{};
  int pushed_fired = 0;
  SharedTimer far(loop, [&] { ADD_FAILURE() << "30 s timer fired"; });
  SharedTimer early(loop, [&] { early_at = Clock::now() - start; });
  SharedTimer pushed(loop, [&] {
    ++pushed_fired;
    pushed_at = Clock::now() - start;
  });
  Timer done(loop, [&] { loop.stop(); });
  far.arm(std::chrono::seconds(30));
  early.arm(milliseconds(10));
  pushed.arm(milliseconds(5));
  pushed.push(milliseconds(60));
  done.arm(milliseconds(200));
  loop.run();
  EXPECT_GE(early_at, milliseconds(10));
  EXPECT_LT(early_at, milliseconds(150));
  EXPECT_EQ(pushed_fired, 1);
  EXPECT_GE(pushed_at, milliseconds(60));
  EXPECT_TRUE(far.armed());
}

// Timers due in the same wake-up fire earliest first; a callback may destroy one due later in
// the same wake-up (it then never fires) and arm another.
TEST(EventLoopTest, SharedTimersDueTogetherFireEarliestFirstAndMayDestroyEachOther) {
  using std::chrono::milliseconds;
  EventLoop loop;
  std::vector<int> order;
  std::unique_ptr<SharedTimer> victim;
  SharedTimer rearmed(loop, [&] {
    order.push_back(4);
    loop.stop();
  });
  SharedTimer second(loop, [&] { order.push_back(2); });
  SharedTimer first(loop, [&] {
    order.push_back(1);
    victim.reset();
    rearmed.arm(milliseconds(1));
  });
  victim = std::make_unique<SharedTimer>(loop, [&] { order.push_back(3); });
  Timer guard(loop, [&] { loop.stop(); });
  victim->arm(milliseconds(12));
  second.arm(milliseconds(11));
  first.arm(milliseconds(10));
  guard.arm(std::chrono::seconds(5));
  // Block past all three deadlines so that one wake-up finds them all due.
  Timer blocker(loop, [] { std::this_thread::sleep_for(milliseconds(30)); });
  blocker.arm(milliseconds(0));
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 4}));
}

// A callback that re-arms a timer due later in the same wake-up: that timer waits for its new
// deadline instead of firing now. And many timers due together each fire once, earliest first.
TEST(EventLoopTest, SharedTimerRearmedWhileDueWaitsAndManyDueFireOnceInOrder) {
  using std::chrono::milliseconds;
  EventLoop loop;
  std::vector<int> order;
  std::chrono::steady_clock::time_point rearmed_at{}, later_at{};
  SharedTimer later(loop, [&] {
    order.push_back(2);
    later_at = std::chrono::steady_clock::now();
    loop.stop();
  });
  SharedTimer first(loop, [&] {
    order.push_back(1);
    rearmed_at = std::chrono::steady_clock::now();
    later.arm(milliseconds(40));
  });
  constexpr int kMany = 2000;
  std::vector<int> fired(kMany, 0);
  std::vector<int> many_order;
  std::vector<std::unique_ptr<SharedTimer>> many;
  for (int i = 0; i < kMany; ++i) {
    many.push_back(std::make_unique<SharedTimer>(loop, [&, i] {
      ++fired[i];
      many_order.push_back(i);
    }));
  }
  Timer guard(loop, [&] { loop.stop(); });
  first.arm(milliseconds(5));
  later.arm(milliseconds(6));
  for (int i = kMany - 1; i >= 0; --i) many[i]->arm(milliseconds(7 + i % 3));
  guard.arm(std::chrono::seconds(5));
  // Block past every deadline so that one wake-up finds them all due.
  Timer blocker(loop, [] { std::this_thread::sleep_for(milliseconds(30)); });
  blocker.arm(milliseconds(0));
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_GE(later_at - rearmed_at, milliseconds(40)) << "fired at its old deadline";
  for (int i = 0; i < kMany; ++i) ASSERT_EQ(fired[i], 1) << i;
  for (size_t k = 1; k < many_order.size(); ++k) {
    EXPECT_LE(many_order[k - 1] % 3, many_order[k] % 3) << "earliest deadline first";
  }
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
