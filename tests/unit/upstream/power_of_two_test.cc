#include "upstream/power_of_two.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/upstream/test_clusters.h"

namespace baton::upstream {
namespace {

using conf::LbPolicyKind;
using testing::countPicks;
using testing::makeCluster;
using testing::pickSequence;

std::shared_ptr<const Cluster> p2cCluster(const std::vector<uint32_t>& weights) {
  return makeCluster(LbPolicyKind::PowerOfTwo, weights);
}

TEST(PowerOfTwoTest, CreateDispatchesOnPolicy) {
  auto lb = createLoadBalancer(p2cCluster({1}), 1);
  EXPECT_NE(dynamic_cast<PowerOfTwoLoadBalancer*>(lb.get()), nullptr);
}

TEST(PowerOfTwoTest, DeterministicForASeed) {
  auto cluster = p2cCluster({1, 2, 3, 4, 5});
  auto a = createLoadBalancer(cluster, 42);
  auto b = createLoadBalancer(cluster, 42);
  auto c = createLoadBalancer(cluster, 43);
  auto seq = pickSequence(*a, 1000);
  EXPECT_EQ(seq, pickSequence(*b, 1000));
  EXPECT_NE(seq, pickSequence(*c, 1000));
}

TEST(PowerOfTwoTest, OfTwoHostsAlwaysPicksTheLessLoaded) {
  auto cluster = p2cCluster({1, 1});
  auto lb = createLoadBalancer(cluster, 7);
  lb->onRequestStart(cluster->hosts()[0]);
  EXPECT_EQ(countPicks(*lb, 1000)[1], 1000);
}

TEST(PowerOfTwoTest, NeverPicksTheMostLoadedHost) {
  // Any pair that includes the most loaded host has a less loaded partner.
  auto cluster = p2cCluster({1, 1, 1, 1, 1});
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto lb = createLoadBalancer(cluster, seed);
    for (uint32_t i = 0; i < 5; ++i) {
      for (uint32_t k = 0; k < i; ++k) lb->onRequestStart(cluster->hosts()[i]);
    }
    auto counts = countPicks(*lb, 2000);
    EXPECT_EQ(counts.count(4), 0u) << "seed " << seed;
    EXPECT_EQ(counts.count(-1), 0u);
    // The least loaded host wins every pair it is drawn into: it gets the most picks.
    EXPECT_GT(counts[0], counts[1]);
    EXPECT_GT(counts[1], counts[2]);
  }
}

TEST(PowerOfTwoTest, HeldLoadStaysBalanced) {
  auto cluster = p2cCluster({1, 1, 1, 1});
  auto lb = createLoadBalancer(cluster, 3);
  for (int i = 0; i < 4000; ++i) lb->onRequestStart(*lb->pick({}));
  // Two choices keep the spread between hosts tiny (one random choice would drift by ~30).
  uint32_t lo = UINT32_MAX, hi = 0;
  for (uint32_t i = 0; i < 4; ++i) {
    lo = std::min(lo, lb->outstanding(i));
    hi = std::max(hi, lb->outstanding(i));
  }
  EXPECT_LE(hi - lo, 4u);
}

TEST(PowerOfTwoTest, SpreadsRoughlyByWeightWhenIdle) {
  auto lb = createLoadBalancer(p2cCluster({1, 3}), 11);
  const int n = 40000;
  auto counts = countPicks(*lb, n);
  EXPECT_NEAR(counts[1] / double(n), 0.75, 0.03);
}

TEST(PowerOfTwoTest, WeightedDrawMatchesWeights) {
  // Idle hosts tie, and a tie keeps the first (weighted) draw: picks follow weights exactly
  // up to sampling noise. Mixed small and extreme weights exercise the alias table.
  const std::vector<uint32_t> weights{1, 2, 3, 4, 10, 256, 7, 1};
  const double total = 284;
  auto lb = createLoadBalancer(p2cCluster(weights), 13);
  const int n = 200000;
  auto counts = countPicks(*lb, n);
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_NEAR(counts[int(i)] / double(n), weights[i] / total, 0.005) << i;
  }
}

TEST(PowerOfTwoTest, SpreadsEvenlyWithEqualWeights) {
  auto lb = createLoadBalancer(p2cCluster({1, 1, 1, 1}), 5);
  const int n = 40000;
  auto counts = countPicks(*lb, n);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(counts[i] / double(n), 0.25, 0.02) << i;
}

TEST(PowerOfTwoTest, SpreadsRoughlyByWeightUnderLoad) {
  // Requests that each last a while: keep a window of in-flight requests, oldest ends first.
  auto cluster = p2cCluster({1, 2, 5});
  auto lb = createLoadBalancer(cluster, 9);
  std::vector<const Host*> window;
  std::map<int, int> counts;
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    const Host* h = lb->pick({});
    ASSERT_NE(h, nullptr);
    lb->onRequestStart(*h);
    ++counts[static_cast<int>(h->index)];
    window.push_back(h);
    if (window.size() > 8) {
      lb->onRequestEnd(*window.front());
      window.erase(window.begin());
    }
  }
  // Load feedback flattens the split towards even, but order by weight must hold.
  EXPECT_LT(counts[0], counts[1]);
  EXPECT_LT(counts[1], counts[2]);
  EXPECT_GT(counts[0], n / 20);
}

TEST(PowerOfTwoTest, TriedHostsExcludedViaFallback) {
  auto lb = createLoadBalancer(p2cCluster({1, 1, 1}), 2);
  TriedHosts tried;
  tried.add(0);
  tried.add(1);
  EXPECT_EQ(countPicks(*lb, 200, tried)[2], 200);
  tried.add(2);
  EXPECT_EQ(lb->pick(tried), nullptr);
}

TEST(PowerOfTwoTest, NeverReturnsTried) {
  auto cluster = p2cCluster({5, 1, 1, 1, 1, 1, 1, 1});
  auto lb = createLoadBalancer(cluster, 4);
  for (int round = 0; round < 200; ++round) {
    TriedHosts tried;
    std::set<uint32_t> seen;
    for (size_t attempt = 0; attempt < cluster->hosts().size(); ++attempt) {
      const Host* h = lb->pick(tried);
      ASSERT_NE(h, nullptr);
      ASSERT_TRUE(seen.insert(h->index).second) << "repeated host " << h->index;
      tried.add(h->index);
    }
    EXPECT_EQ(lb->pick(tried), nullptr);
  }
}

TEST(PowerOfTwoTest, SkipsDrainingAndMaintenance) {
  auto cluster = p2cCluster(std::vector<uint32_t>(100, 1));
  for (uint32_t i = 0; i < 100; ++i) {
    if (i == 17 || i == 64) continue;
    cluster = cluster->withAdminState(i, i % 2 ? AdminState::Draining : AdminState::Maintenance);
  }
  auto lb = createLoadBalancer(cluster, 8);
  auto counts = countPicks(*lb, 1000);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[17], 0);
  EXPECT_GT(counts[64], 0);
}

TEST(PowerOfTwoTest, SingleHost) {
  auto lb = createLoadBalancer(p2cCluster({3}), 1);
  EXPECT_EQ(countPicks(*lb, 10)[0], 10);
  TriedHosts tried;
  tried.add(0);
  EXPECT_EQ(lb->pick(tried), nullptr);
}

}  // namespace
}  // namespace baton::upstream
