// core/background_thread.h: lowering applies to the calling thread only, is inherited by the
// threads it starts, never raises a thread already lower, and a forked child can go back to the
// value the process started with (baton runs as root in CI; without CAP_SYS_NICE that last step
// is allowed to fail, and the test says so instead of failing).
#include "proxy/core/background_thread.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

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

TEST(BackgroundThreadTest, AForkedChildGoesBackToTheStartValue) {
  int child_nice = -100;
  std::thread([&] {
    lowerThreadPriority();
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t pid = fork();
    if (pid == 0) {
      restoreStartPriority();
      const int now = getpriority(PRIO_PROCESS, 0);
      (void)!write(pipe_fds[1], &now, sizeof now);
      _exit(0);
    }
    close(pipe_fds[1]);
    ASSERT_EQ(read(pipe_fds[0], &child_nice, sizeof child_nice),
              static_cast<ssize_t>(sizeof child_nice));
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
  }).join();
  const int start = g_nice_before_lowering.load();
  ASSERT_NE(start, INT_MIN);
  if (geteuid() != 0 && child_nice != start) GTEST_SKIP() << "raising priority needs CAP_SYS_NICE";
  EXPECT_EQ(child_nice, start);
}

}  // namespace
}  // namespace baton::core
