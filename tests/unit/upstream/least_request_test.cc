#include "upstream/least_request.h"

#include <gtest/gtest.h>

#include "tests/unit/upstream/test_clusters.h"

namespace baton::upstream {
namespace {

using conf::LbPolicyKind;
using testing::countPicks;
using testing::makeCluster;
using testing::pickSequence;

std::unique_ptr<LoadBalancer> leastRequest(std::shared_ptr<const Cluster> cluster) {
  return createLoadBalancer(std::move(cluster), 1);
}

// Picks and starts a request on the picked host (never ends it): load accumulates.
std::map<int, int> pickAndHold(LoadBalancer& lb, int n) {
  std::map<int, int> counts;
  for (int i = 0; i < n; ++i) {
    const Host* h = lb.pick({});
    if (h == nullptr) {
      ++counts[-1];
      continue;
    }
    lb.onRequestStart(*h);
    ++counts[static_cast<int>(h->index)];
  }
  return counts;
}

TEST(LeastRequestTest, CreateDispatchesOnPolicy) {
  auto lb = leastRequest(makeCluster(LbPolicyKind::LeastRequest, {1}));
  EXPECT_NE(dynamic_cast<LeastRequestLoadBalancer*>(lb.get()), nullptr);
}

TEST(LeastRequestTest, EqualHostsTakeTurns) {
  auto lb = leastRequest(makeCluster(LbPolicyKind::LeastRequest, {1, 1, 1}));
  EXPECT_EQ(pickSequence(*lb, 7), (std::vector<int>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(LeastRequestTest, FollowsOutstandingCounts) {
  auto cluster = makeCluster(LbPolicyKind::LeastRequest, {1, 1, 1});
  auto lb = leastRequest(cluster);
  const auto& hosts = cluster->hosts();
  lb->onRequestStart(hosts[0]);
  lb->onRequestStart(hosts[0]);
  lb->onRequestStart(hosts[1]);
  EXPECT_EQ(lb->outstanding(0), 2u);
  EXPECT_EQ(lb->pick({})->index, 2u);
  EXPECT_EQ(lb->pick({})->index, 2u);  // still the least loaded: no request started on it
  lb->onRequestStart(hosts[2]);
  lb->onRequestStart(hosts[2]);
  EXPECT_EQ(lb->pick({})->index, 1u);
  lb->onRequestEnd(hosts[0]);
  lb->onRequestEnd(hosts[0]);
  EXPECT_EQ(lb->outstanding(0), 0u);
  EXPECT_EQ(lb->pick({})->index, 0u);
}

TEST(LeastRequestTest, HeldLoadStaysBalanced) {
  auto lb = leastRequest(makeCluster(LbPolicyKind::LeastRequest, {1, 1, 1}));
  auto counts = pickAndHold(*lb, 30);
  EXPECT_EQ(counts[0], 10);
  EXPECT_EQ(counts[1], 10);
  EXPECT_EQ(counts[2], 10);
}

TEST(LeastRequestTest, HeldLoadFollowsWeights) {
  auto lb = leastRequest(makeCluster(LbPolicyKind::LeastRequest, {3, 1, 2}));
  auto counts = pickAndHold(*lb, 600);
  EXPECT_EQ(counts[0], 300);
  EXPECT_EQ(counts[1], 100);
  EXPECT_EQ(counts[2], 200);
}

TEST(LeastRequestTest, WeightedComparison) {
  auto cluster = makeCluster(LbPolicyKind::LeastRequest, {3, 1});
  auto lb = leastRequest(cluster);
  const auto& hosts = cluster->hosts();
  // Host 0: 4 outstanding on weight 3 -> 5/3; host 1: 1 on weight 1 -> 2/1. Host 0 wins.
  for (int i = 0; i < 4; ++i) lb->onRequestStart(hosts[0]);
  lb->onRequestStart(hosts[1]);
  EXPECT_EQ(lb->pick({})->index, 0u);
  // Host 0 now 6/3 == 2/1: a tie, broken by rotation (both get a turn).
  lb->onRequestStart(hosts[0]);
  auto counts = countPicks(*lb, 10);
  EXPECT_EQ(counts[0], 5);
  EXPECT_EQ(counts[1], 5);
  // Host 0 at 7/3 > 2/1: host 1 only.
  lb->onRequestStart(hosts[0]);
  EXPECT_EQ(countPicks(*lb, 10)[1], 10);
}

TEST(LeastRequestTest, TiesSpreadAroundTriedHost) {
  auto lb = leastRequest(makeCluster(LbPolicyKind::LeastRequest, {1, 1, 1}));
  TriedHosts tried;
  tried.add(1);
  EXPECT_EQ(pickSequence(*lb, 4, tried), (std::vector<int>{0, 2, 0, 2}));
}

TEST(LeastRequestTest, NeverPicksTriedEvenWhenLeastLoaded) {
  auto cluster = makeCluster(LbPolicyKind::LeastRequest, {1, 1});
  auto lb = leastRequest(cluster);
  for (int i = 0; i < 50; ++i) lb->onRequestStart(cluster->hosts()[0]);
  TriedHosts tried;
  tried.add(1);
  EXPECT_EQ(lb->pick(tried)->index, 0u);
  tried.add(0);
  EXPECT_EQ(lb->pick(tried), nullptr);
}

TEST(LeastRequestTest, SkipsDrainingAndMaintenance) {
  auto cluster = makeCluster(LbPolicyKind::LeastRequest, {1, 1, 1})
                     ->withAdminState(0, AdminState::Draining)
                     ->withAdminState(2, AdminState::Maintenance);
  auto lb = leastRequest(cluster);
  // Host 1 is loaded, the others idle, yet it is the only Active one.
  for (int i = 0; i < 10; ++i) lb->onRequestStart(cluster->hosts()[1]);
  EXPECT_EQ(countPicks(*lb, 20)[1], 20);
  TriedHosts tried;
  tried.add(1);
  EXPECT_EQ(lb->pick(tried), nullptr);
}

}  // namespace
}  // namespace baton::upstream
