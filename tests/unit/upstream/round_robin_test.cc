#include "upstream/round_robin.h"

#include <gtest/gtest.h>

#include "tests/unit/upstream/test_clusters.h"

namespace baton::upstream {
namespace {

using conf::LbPolicyKind;
using testing::countPicks;
using testing::makeCluster;
using testing::pickSequence;

std::unique_ptr<LoadBalancer> roundRobin(std::shared_ptr<const Cluster> cluster) {
  return createLoadBalancer(std::move(cluster), 1);
}

TEST(RoundRobinTest, CreateDispatchesOnPolicy) {
  auto lb = roundRobin(makeCluster(LbPolicyKind::RoundRobin, {1}));
  EXPECT_NE(dynamic_cast<RoundRobinLoadBalancer*>(lb.get()), nullptr);
}

TEST(RoundRobinTest, NginxSmoothSequence) {
  auto lb = roundRobin(makeCluster(LbPolicyKind::RoundRobin, {5, 1, 1}));
  // a a b a c a a, twice: the cycle repeats exactly.
  EXPECT_EQ(pickSequence(*lb, 14), (std::vector<int>{0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0}));
}

TEST(RoundRobinTest, EqualWeightsRotate) {
  auto lb = roundRobin(makeCluster(LbPolicyKind::RoundRobin, {1, 1, 1}));
  EXPECT_EQ(pickSequence(*lb, 6), (std::vector<int>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobinTest, DistributionIsExactlyByWeight) {
  auto lb = roundRobin(makeCluster(LbPolicyKind::RoundRobin, {3, 2, 1, 256}));
  // One full cycle is sum(weights) = 262 picks; every cycle hands out exactly the weights.
  auto counts = countPicks(*lb, 262 * 10);
  EXPECT_EQ(counts[0], 30);
  EXPECT_EQ(counts[1], 20);
  EXPECT_EQ(counts[2], 10);
  EXPECT_EQ(counts[3], 2560);
}

TEST(RoundRobinTest, SkipsTriedHosts) {
  auto lb = roundRobin(makeCluster(LbPolicyKind::RoundRobin, {5, 1, 1}));
  TriedHosts tried;
  tried.add(0);
  EXPECT_EQ(pickSequence(*lb, 4, tried), (std::vector<int>{1, 2, 1, 2}));
}

TEST(RoundRobinTest, AllTriedGivesNull) {
  auto lb = roundRobin(makeCluster(LbPolicyKind::RoundRobin, {1, 2, 3}));
  TriedHosts tried;
  for (uint32_t i = 0; i < 3; ++i) tried.add(i);
  EXPECT_EQ(lb->pick(tried), nullptr);
}

TEST(RoundRobinTest, SkipsDrainingAndMaintenance) {
  auto cluster = makeCluster(LbPolicyKind::RoundRobin, {1, 1, 1, 1})
                     ->withAdminState(1, AdminState::Draining)
                     ->withAdminState(3, AdminState::Maintenance);
  auto lb = roundRobin(cluster);
  EXPECT_EQ(pickSequence(*lb, 6), (std::vector<int>{0, 2, 0, 2, 0, 2}));
  TriedHosts tried;
  tried.add(0);
  tried.add(2);
  EXPECT_EQ(lb->pick(tried), nullptr);
}

TEST(RoundRobinTest, NoActiveHostGivesNull) {
  auto cluster =
      makeCluster(LbPolicyKind::RoundRobin, {1})->withAdminState(0, AdminState::Draining);
  EXPECT_EQ(roundRobin(cluster)->pick({}), nullptr);
}

TEST(RoundRobinTest, RetrySequenceNeverRepeatsAHost) {
  auto lb = roundRobin(makeCluster(LbPolicyKind::RoundRobin, {5, 1, 1}));
  TriedHosts tried;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const Host* h = lb->pick(tried);
    ASSERT_NE(h, nullptr);
    EXPECT_FALSE(tried.contains(h->index));
    tried.add(h->index);
  }
  EXPECT_EQ(lb->pick(tried), nullptr);
}

}  // namespace
}  // namespace baton::upstream
