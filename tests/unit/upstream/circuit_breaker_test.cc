// Circuit-breaking counters: exact limits across threads, slots that return their unit once.
#include "upstream/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "upstream/cluster.h"

namespace baton::upstream {
namespace {

TEST(ClusterLoad, LimitIsExact) {
  auto load = std::make_shared<ClusterLoad>();
  LoadSlot a, b, c;
  EXPECT_TRUE(a.acquire(load, LoadKind::Requests, 2));
  EXPECT_TRUE(b.acquire(load, LoadKind::Requests, 2));
  EXPECT_FALSE(c.acquire(load, LoadKind::Requests, 2));
  EXPECT_FALSE(c.held());
  EXPECT_EQ(load->current(LoadKind::Requests), 2u);
  a.reset();
  EXPECT_TRUE(c.acquire(load, LoadKind::Requests, 2));
  EXPECT_EQ(load->current(LoadKind::Pending), 0u);  // kinds are separate
}

TEST(ClusterLoad, NoLimitTakesNothing) {
  auto load = std::make_shared<ClusterLoad>();
  LoadSlot slot;
  EXPECT_TRUE(slot.acquire(load, LoadKind::Connections, 0));
  EXPECT_FALSE(slot.held());
  EXPECT_EQ(load->current(LoadKind::Connections), 0u);
}

TEST(ClusterLoad, SlotsReturnTheirUnitOnceWhenMovedOrDestroyed) {
  auto load = std::make_shared<ClusterLoad>();
  {
    LoadSlot slot;
    ASSERT_TRUE(slot.acquire(load, LoadKind::Pending, 5));
    LoadSlot moved(std::move(slot));
    EXPECT_EQ(load->current(LoadKind::Pending), 1u);
    LoadSlot assigned;
    assigned = std::move(moved);
    EXPECT_EQ(load->current(LoadKind::Pending), 1u);
  }
  EXPECT_EQ(load->current(LoadKind::Pending), 0u);
  LoadSlot again;
  ASSERT_TRUE(again.acquire(load, LoadKind::Pending, 5));
  ASSERT_TRUE(again.acquire(load, LoadKind::Pending, 5));  // re-acquire returns the old unit
  EXPECT_EQ(load->current(LoadKind::Pending), 1u);
}

TEST(ClusterLoad, ManyThreadsNeverPassTheLimit) {
  auto load = std::make_shared<ClusterLoad>();
  constexpr uint32_t kLimit = 7;
  std::atomic<uint32_t> held{0}, worst{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        LoadSlot slot;
        if (!slot.acquire(load, LoadKind::Requests, kLimit)) continue;
        const uint32_t now = held.fetch_add(1) + 1;
        uint32_t seen = worst.load();
        while (now > seen && !worst.compare_exchange_weak(seen, now)) {
        }
        held.fetch_sub(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(worst.load(), kLimit);
  EXPECT_EQ(load->current(LoadKind::Requests), 0u);
}

TEST(ClusterLoad, ARebuiltClusterAdoptsTheCounters) {
  conf::ClusterSpec spec;
  spec.name = "web";
  spec.hosts.push_back(conf::HostSpec{});
  spec.hosts[0].address = "127.0.0.1:9000";
  auto first = Cluster::create(spec);
  ASSERT_TRUE(first.has_value());
  LoadSlot slot;
  ASSERT_TRUE(slot.acquire((*first)->load(), LoadKind::Requests, 1));
  spec.limits.max_requests = 1;
  auto second = Cluster::create(spec, (*first)->load());
  ASSERT_TRUE(second.has_value());
  LoadSlot next;
  EXPECT_FALSE(
      next.acquire((*second)->load(), LoadKind::Requests, (*second)->limits().max_requests));
  auto fresh = Cluster::create(spec);
  EXPECT_TRUE(next.acquire((*fresh)->load(), LoadKind::Requests, 1));
}

}  // namespace
}  // namespace baton::upstream
