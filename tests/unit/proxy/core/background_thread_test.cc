// core/background_thread.h: lowering applies to the calling thread only (the workers' priority
// is untouched), is inherited by the threads it starts, and never raises a thread already lower.
#include "proxy/core/background_thread.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace baton::core {
namespace {

int niceOfThisThread() {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

TEST(BackgroundThreadTest, LowersOnlyTheCallingThreadAndItsChildren) {
  const int main_before = niceOfThisThread();
  int lowered = -100;
  int inherited = -100;
  std::thread([&] {
    lowerThreadPriority();
    lowered = niceOfThisThread();
    std::thread([&] { inherited = niceOfThisThread(); }).join();
  }).join();
  EXPECT_EQ(lowered, std::max(main_before, kBackgroundNice));
  EXPECT_EQ(inherited, lowered);
  EXPECT_EQ(niceOfThisThread(), main_before);
}

TEST(BackgroundThreadTest, NeverRaisesAThreadAlreadyLower) {
  int after = -100;
  std::thread([&] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 15);
    lowerThreadPriority();
    after = niceOfThisThread();
  }).join();
  EXPECT_EQ(after, 15);
}

}  // namespace
}  // namespace baton::core
