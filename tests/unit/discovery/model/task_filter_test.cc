// task_filter.h: marathon-lb's routable states and the health filter with its last-known cache
// (marathon.md §1.4, §4.3), including what happens across a Marathon leader failover.
#include "discovery/model/task_filter.h"

#include <gtest/gtest.h>

#include <list>
#include <random>
#include <string>
#include <unordered_map>

namespace baton::discovery {
namespace {

App appWithHealthChecks() {
  App app;
  app.id = "/web";
  app.health_checks.push_back(HealthCheck{});
  return app;
}

Task task(std::string id, std::vector<bool> results) {
  Task t;
  t.id = std::move(id);
  t.state = TaskState::Running;
  for (bool alive : results) t.health.push_back(HealthCheckResult{alive});
  return t;
}

TEST(TaskFilterTest, RoutableStates) {
  EXPECT_TRUE(isRoutable(TaskState::Running));
  EXPECT_TRUE(isRoutable(TaskState::Lost));
  EXPECT_TRUE(isRoutable(TaskState::Unreachable));
  for (TaskState s :
       {TaskState::Staging, TaskState::Starting, TaskState::Killing, TaskState::Finished,
        TaskState::Failed, TaskState::Killed, TaskState::Error, TaskState::Dropped, TaskState::Gone,
        TaskState::GoneByOperator, TaskState::Unknown}) {
    EXPECT_FALSE(isRoutable(s)) << static_cast<int>(s);
  }
}

TEST(HealthCacheTest, AppWithoutHealthChecksPassesEverything) {
  HealthCache cache;
  App app;
  EXPECT_TRUE(cache.passes(app, task("a.1", {})));
  EXPECT_TRUE(cache.passes(app, task("a.2", {false})));
  EXPECT_EQ(cache.size(), 0u);  // nothing cached for such apps
}

TEST(HealthCacheTest, AnyAliveResultPasses) {
  HealthCache cache;
  App app = appWithHealthChecks();
  EXPECT_TRUE(cache.passes(app, task("a.1", {true})));
  EXPECT_TRUE(cache.passes(app, task("a.2", {false, true})));
  EXPECT_FALSE(cache.passes(app, task("a.3", {false})));
  EXPECT_FALSE(cache.passes(app, task("a.4", {false, false})));
}

TEST(HealthCacheTest, NeverSeenTaskWithoutResultsIsExcluded) {
  HealthCache cache;
  EXPECT_FALSE(cache.passes(appWithHealthChecks(), task("new.1", {})));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(HealthCacheTest, FailoverKeepsLastVerdict) {
  HealthCache cache;
  App app = appWithHealthChecks();
  // Before the failover: one healthy task, one unhealthy.
  EXPECT_TRUE(cache.passes(app, task("a.up", {true})));
  EXPECT_FALSE(cache.passes(app, task("a.down", {false})));
  // New leader: every task comes back without results. The last verdicts hold.
  for (int document = 0; document < 3; ++document) {
    EXPECT_TRUE(cache.passes(app, task("a.up", {})));
    EXPECT_FALSE(cache.passes(app, task("a.down", {})));
    EXPECT_FALSE(cache.passes(app, task("a.never", {})));
  }
  // Checks run again: the fresh results win and are cached in turn.
  EXPECT_FALSE(cache.passes(app, task("a.up", {false})));
  EXPECT_TRUE(cache.passes(app, task("a.down", {true})));
  EXPECT_FALSE(cache.passes(app, task("a.up", {})));
  EXPECT_TRUE(cache.passes(app, task("a.down", {})));
}

TEST(HealthCacheTest, LruEvictionIsBounded) {
  HealthCache cache(3);
  App app = appWithHealthChecks();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(cache.passes(app, task("t" + std::to_string(i), {true})));
  EXPECT_EQ(cache.size(), 3u);
  // Reading t0 refreshes it, so t1 is now the least recently used.
  EXPECT_TRUE(cache.passes(app, task("t0", {})));
  EXPECT_TRUE(cache.passes(app, task("t3", {true})));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.passes(app, task("t1", {})));  // evicted: excluded
  EXPECT_TRUE(cache.passes(app, task("t0", {})));
  EXPECT_TRUE(cache.passes(app, task("t2", {})));
  EXPECT_TRUE(cache.passes(app, task("t3", {})));
  for (int i = 4; i < 1000; ++i) cache.passes(app, task("t" + std::to_string(i), {i % 2 == 0}));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.capacity(), 3u);
}

TEST(HealthCacheTest, DefaultCapacityHoldsAHundredThousandTasks) {
  HealthCache cache;
  EXPECT_EQ(cache.capacity(), 100'000u);
  App app = appWithHealthChecks();
  for (int i = 0; i < 100'000; ++i) cache.passes(app, task("t" + std::to_string(i), {true}));
  EXPECT_EQ(cache.size(), 100'000u);
  EXPECT_TRUE(cache.passes(app, task("t0", {})));  // the oldest is still there
}

// The flat table (open addressing, backward-shift deletion, index-linked LRU) against the
// std::list + std::unordered_map LRU it replaced: same verdict for every call, over random
// stores, reads and evictions with few enough ids that probes collide and wrap.
TEST(HealthCacheTest, SameVerdictsAsAReferenceLru) {
  for (size_t capacity : {1u, 2u, 7u, 64u, 300u}) {
    HealthCache cache(capacity);
    std::list<std::pair<std::string, bool>> lru;  // most recent first
    std::unordered_map<std::string, std::list<std::pair<std::string, bool>>::iterator> map;
    std::mt19937 rng(static_cast<uint32_t>(capacity));
    App app = appWithHealthChecks();
    for (int step = 0; step < 20'000; ++step) {
      const std::string id = "app.task-" + std::to_string(rng() % (capacity * 3 + 5));
      const uint32_t kind = rng() % 3;  // 0: read (no results), 1: alive, 2: not alive
      bool expected = false;
      auto it = map.find(id);
      if (kind == 0) {
        if (it != map.end()) {
          lru.splice(lru.begin(), lru, it->second);
          expected = it->second->second;
        }
      } else {
        expected = kind == 1;
        if (it != map.end()) {
          it->second->second = expected;
          lru.splice(lru.begin(), lru, it->second);
        } else {
          if (map.size() >= capacity) {
            map.erase(lru.back().first);
            lru.pop_back();
          }
          lru.emplace_front(id, expected);
          map.emplace(id, lru.begin());
        }
      }
      const Task t = kind == 0 ? task(id, {}) : task(id, {kind == 1});
      ASSERT_EQ(cache.passes(app, t), expected) << "capacity " << capacity << " step " << step;
      ASSERT_EQ(cache.size(), map.size());
    }
  }
}

}  // namespace
}  // namespace baton::discovery
