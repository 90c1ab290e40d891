// Reclaimer: what it is handed is destroyed on its own thread, nothing is lost at shutdown.
#include "proxy/core/reclaimer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
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

}  // namespace
}  // namespace baton::core
