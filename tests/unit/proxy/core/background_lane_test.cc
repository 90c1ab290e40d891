// core/background_lane.h: a member runs at nice 10 and idle-class; raise() gives every member,
// and every thread joining meanwhile, SCHED_OTHER until lower(); forEachOnTwoThreads' helper
// joins its caller's lane. Idle-class needs the right to come back from it (CAP_SYS_NICE, as in
// CI); without it, members stay at nice 10 and the idle-class expectations are skipped.
#include "proxy/core/background_lane.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <latch>
#include <thread>

#include "proxy/core/background_thread.h"
#include "proxy/core/two_threads.h"

namespace baton::core {
namespace {

int policyOf(pid_t tid) {
  return sched_getscheduler(tid);
}
int niceOf(pid_t tid) {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
}

// A thread in `lane` until released; reports its tid.
class MemberThread {
 public:
  explicit MemberThread(BackgroundLane& lane)
      : thread_([this, &lane] {
          BackgroundLane::Member member(&lane);
          tid_ = gettid();
          joined_.count_down();
          release_.wait();
        }) {
    joined_.wait();
  }
  ~MemberThread() {
    release_.count_down();
    thread_.join();
  }
  pid_t tid() const { return tid_; }

 private:
  std::latch joined_{1};
  std::latch release_{1};
  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

TEST(BackgroundLaneTest, AMemberIsLoweredAndTheCallerIsNot) {
  const int own_policy = policyOf(0);
  const int own_nice = niceOf(0);
  BackgroundLane lane;
  MemberThread member(lane);
  EXPECT_GE(niceOf(member.tid()), kBackgroundNice);
  if (BackgroundLane::idleClassAvailable()) {
    EXPECT_EQ(policyOf(member.tid()), SCHED_IDLE);
  }
  EXPECT_EQ(policyOf(0), own_policy);
  EXPECT_EQ(niceOf(0), own_nice);
  EXPECT_EQ(BackgroundLane::current(), nullptr);
}

TEST(BackgroundLaneTest, LeavingTheLaneRestoresTheClassButNotTheNice) {
  BackgroundLane lane;
  int inside = -1;
  int after = -1;
  int nice_after = -100;
  std::thread([&] {
    {
      BackgroundLane::Member member(&lane);
      inside = policyOf(0);
      BackgroundLane::Foreground foreground;  // around a lock others take
      EXPECT_EQ(policyOf(0), SCHED_OTHER);
    }
    after = policyOf(0);
    nice_after = niceOf(0);
  }).join();
  if (BackgroundLane::idleClassAvailable()) {
    EXPECT_EQ(inside, SCHED_IDLE);
  }
  EXPECT_EQ(after, SCHED_OTHER);
  EXPECT_GE(nice_after, kBackgroundNice);
}

TEST(BackgroundLaneTest, RaiseReachesMembersAndJoinersUntilLowered) {
  if (!BackgroundLane::idleClassAvailable()) GTEST_SKIP() << "no right to leave SCHED_IDLE";
  BackgroundLane lane;
  MemberThread before(lane);
  EXPECT_TRUE(lane.raise());
  EXPECT_FALSE(lane.raise());  // already raised
  EXPECT_TRUE(lane.raised());
  EXPECT_EQ(policyOf(before.tid()), SCHED_OTHER);
  EXPECT_GE(niceOf(before.tid()), kBackgroundNice);  // raised to the old share, not to nice 0
  MemberThread during(lane);
  EXPECT_EQ(policyOf(during.tid()), SCHED_OTHER);
  lane.lower();
  EXPECT_FALSE(lane.raised());
  EXPECT_EQ(policyOf(before.tid()), SCHED_IDLE);
  EXPECT_EQ(policyOf(during.tid()), SCHED_IDLE);
}

TEST(BackgroundLaneTest, TwoThreadsHelperJoinsTheCallersLaneAndARaiseReachesIt) {
  BackgroundLane lane;
  std::atomic<BackgroundLane*> helper_lane{nullptr};
  std::atomic<int> helper_before{-1};
  std::atomic<int> helper_after{-1};
  std::atomic<int> helper_nice{-100};
  std::atomic<int> parent_during{-1};
  std::latch helper_started{1};
  std::latch raised{1};
  std::thread([&] {
    BackgroundLane::Member member(&lane);
    // Item 0 runs here, item 1 on the helper: the raise comes while the helper runs.
    forEachOnTwoThreads(
        2, 0, [](size_t) { return 1; },
        [&](size_t i) {
          if (i == 0) {
            parent_during = policyOf(0);  // back in its lane's class once the helper started
            helper_started.wait();
            lane.raise();
            raised.count_down();
            return;
          }
          helper_nice = niceOf(0);
          helper_lane = BackgroundLane::current();
          helper_before = policyOf(0);
          helper_started.count_down();
          raised.wait();
          helper_after = policyOf(0);
        });
  }).join();
  EXPECT_EQ(helper_lane.load(), &lane);
  EXPECT_GE(helper_nice.load(), kBackgroundNice);
  if (BackgroundLane::idleClassAvailable()) {
    EXPECT_EQ(parent_during.load(), SCHED_IDLE);
    EXPECT_EQ(helper_before.load(), SCHED_IDLE);  // a member like its caller
    EXPECT_EQ(helper_after.load(), SCHED_OTHER);  // registered: the raise reached it
  }
}

TEST(BackgroundLaneTest, AHelperOfAThreadInNoLaneStaysAsItIs) {
  const int own_nice = niceOf(0);
  std::atomic<int> helper_nice[2] = {-100, -100};
  std::atomic<BackgroundLane*> lanes[2] = {nullptr, nullptr};
  forEachOnTwoThreads(
      2, 0, [](size_t) { return 1; },
      [&](size_t i) {
        helper_nice[i] = niceOf(0);
        lanes[i] = BackgroundLane::current();
      });
  EXPECT_EQ(helper_nice[1].load(), own_nice);
  EXPECT_EQ(lanes[1].load(), nullptr);
}

}  // namespace
}  // namespace baton::core
