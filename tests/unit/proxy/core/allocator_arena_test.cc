// core/allocator_arena.h with jemalloc linked (core_test links it, as the binary does): a lane
// member allocates from the background arena, shared by the lane's helpers and apart from the
// arena of the thread that started them.
#include "proxy/core/allocator_arena.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "proxy/core/background_lane.h"

namespace baton::core {
namespace {

TEST(AllocatorArenaTest, LaneThreadsAllocateFromTheBackgroundArena) {
  const int own = currentArena();
  if (own < 0) GTEST_SKIP() << "jemalloc is not linked";
  BackgroundLane lane;
  std::atomic<int> member_arena{-1};
  std::atomic<int> helper_arena{-1};
  std::atomic<int> after_leaving{-1};
  std::thread([&] {
    {
      BackgroundLane::Member member(&lane);
      member_arena = currentArena();
      BackgroundLane::startHelper([&] { helper_arena = currentArena(); }).join();
    }
    after_leaving = currentArena();  // it stays there between its turns in a lane
  }).join();
  const int background = useBackgroundArena();  // this thread too, now (the test's last step)
  EXPECT_GE(background, 0);
  EXPECT_NE(background, own);
  EXPECT_EQ(member_arena.load(), background);
  EXPECT_EQ(helper_arena.load(), background);
  EXPECT_EQ(after_leaving.load(), background);
}

TEST(AllocatorArenaTest, AThreadOutsideALaneKeepsItsArena) {
  if (currentArena() < 0) GTEST_SKIP() << "jemalloc is not linked";
  const int background = useBackgroundArena();
  std::atomic<int> arena{-1};
  std::thread([&] {
    void* warm = ::operator new(64);  // the thread's arena is chosen on its first allocation
    ::operator delete(warm);
    arena = currentArena();
  }).join();
  EXPECT_NE(arena.load(), background);
}

}  // namespace
}  // namespace baton::core
