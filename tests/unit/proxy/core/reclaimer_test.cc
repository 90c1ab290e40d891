// Reclaimer: what it is handed is destroyed on its own thread, nothing is lost at shutdown, and
// garbage that waited too long raises the thread (background lane) until it has caught up.
#include "proxy/core/reclaimer.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace baton::core {
namespace {

// Records the thread its destructor ran on.
struct Witness {
  std::atomic<std::thread::id>* died_on;
  std::atomic<int>* deaths;
  Witness(std::atomic<std::thread::id>* d, std::atomic<int>* n) : died_on(d), deaths(n) {}
  Witness(Witness&& other) noexcept : died_on(other.died_on), deaths(other.deaths) {
    other.deaths = nullptr;
  }
  ~Witness() {
    if (deaths == nullptr) return;  // moved from
    *died_on = std::this_thread::get_id();
    ++*deaths;
  }
};

TEST(ReclaimerTest, DestroysOnItsOwnThread) {
  std::atomic<std::thread::id> died_on;
  std::atomic<int> deaths{0};
  Reclaimer reclaimer;
  reclaimer.dispose(Witness(&died_on, &deaths));
  reclaimer.drain();
  EXPECT_EQ(deaths.load(), 1);
  EXPECT_NE(died_on.load(), std::this_thread::get_id());
}

TEST(ReclaimerTest, SharedObjectsDieWithTheirLastOwner) {
  std::atomic<std::thread::id> died_on;
  std::atomic<int> deaths{0};
  auto shared = std::make_shared<Witness>(&died_on, &deaths);
  std::vector<std::shared_ptr<Witness>> old_state{shared, shared};
  Reclaimer reclaimer;
  reclaimer.dispose(std::move(old_state));
  reclaimer.drain();
  EXPECT_EQ(deaths.load(), 0);  // `shared` still holds it
  shared.reset();
  EXPECT_EQ(deaths.load(), 1);
  EXPECT_EQ(died_on.load(), std::this_thread::get_id());
}

TEST(ReclaimerTest, DestructorFreesEverythingStillQueued) {
  std::atomic<std::thread::id> died_on;
  std::atomic<int> deaths{0};
  {
    Reclaimer reclaimer;
    for (int i = 0; i < 1000; ++i) reclaimer.dispose(Witness(&died_on, &deaths));
  }
  EXPECT_EQ(deaths.load(), 1000);
}

// The scheduling policy of the process's thread named `name` (-1: none).
int policyOfThread(const std::string& name) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string found;
    std::getline(comm, found);
    if (found == name) return sched_getscheduler(std::stoi(entry.path().filename().string()));
  }
  return -1;
}

// Blocks the reclaimer's thread in its destructor until released.
struct Blocker {
  std::latch* entered;
  std::latch* release;
  Blocker(std::latch* e, std::latch* r) : entered(e), release(r) {}
  Blocker(Blocker&& other) noexcept : entered(other.entered), release(other.release) {
    other.release = nullptr;
  }
  ~Blocker() {
    if (release == nullptr) return;  // moved from
    entered->count_down();
    release->wait();
  }
};

TEST(ReclaimerTest, GarbageThatWaitedTooLongRaisesTheThreadUntilItCaughtUp) {
  using namespace std::chrono_literals;
  std::latch entered{1};
  std::latch release{1};
  Reclaimer reclaimer(300ms);
  const bool idle_class = BackgroundLane::idleClassAvailable();
  reclaimer.dispose(Blocker(&entered, &release));
  entered.wait();  // the thread is inside that batch now
  if (idle_class) {
    EXPECT_EQ(policyOfThread("baton-reclaim"), SCHED_IDLE);
  }
  reclaimer.dispose(1);  // the batch under way is younger than 300 ms
  EXPECT_EQ(reclaimer.raises(), 0u);
  std::this_thread::sleep_for(400ms);  // the condition under test is time passing
  reclaimer.dispose(2);
  reclaimer.dispose(3);  // raised once, not per disposal
  EXPECT_EQ(reclaimer.raises(), 1u);
  if (idle_class) {
    EXPECT_EQ(policyOfThread("baton-reclaim"), SCHED_OTHER);
  }
  release.count_down();
  reclaimer.drain();
  if (idle_class) {
    EXPECT_EQ(policyOfThread("baton-reclaim"), SCHED_IDLE);  // caught up
  }
  reclaimer.dispose(4);  // young again
  reclaimer.drain();
  EXPECT_EQ(reclaimer.raises(), 1u);
}

}  // namespace
}  // namespace baton::core
