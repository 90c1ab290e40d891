// Host::healthy (issue 8): every pick path skips a host whose health check failed.
#include <gtest/gtest.h>

#include "tests/unit/upstream/test_clusters.h"

namespace baton::upstream {
namespace {

using testing::countPicks;
using testing::makeCluster;
using testing::makeSpec;

std::shared_ptr<const Cluster> withUnhealthy(const std::shared_ptr<const Cluster>& cluster,
                                             uint32_t index) {
  return cluster->withAdjustedHosts([index](Host& h) {
    if (h.index == index) h.healthy = false;
  });
}

class HealthFlagPolicies : public ::testing::TestWithParam<conf::LbPolicyKind> {};

TEST_P(HealthFlagPolicies, UnhealthyHostIsNeverPicked) {
  auto cluster = withUnhealthy(makeCluster(GetParam(), {1, 1, 1}), 1);
  EXPECT_FALSE(cluster->hosts()[1].routable());
  EXPECT_TRUE(cluster->hosts()[0].routable());
  auto lb = createLoadBalancer(cluster, 7);
  const auto counts = countPicks(*lb, 300);
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_EQ(counts.count(-1), 0u);
  if (GetParam() != conf::LbPolicyKind::SourceHash) {  // one client address: one host
    EXPECT_GT(counts.at(0), 0);
    EXPECT_GT(counts.at(2), 0);
  }
}

TEST_P(HealthFlagPolicies, NoHealthyHostMeansNoPick) {
  auto cluster = makeCluster(GetParam(), {1, 2});
  cluster = cluster->withAdjustedHosts([](Host& h) { h.healthy = false; });
  auto lb = createLoadBalancer(cluster, 7);
  EXPECT_EQ(lb->pick(TriedHosts{}), nullptr);
}

INSTANTIATE_TEST_SUITE_P(All, HealthFlagPolicies,
                         ::testing::Values(conf::LbPolicyKind::RoundRobin,
                                           conf::LbPolicyKind::LeastRequest,
                                           conf::LbPolicyKind::PowerOfTwo,
                                           conf::LbPolicyKind::SourceHash));

TEST(HealthFlag, StickyLookupSkipsUnhealthyHost) {
  auto spec = makeSpec(conf::LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}});
  spec.sticky_cookie = "srv";
  auto cluster = Cluster::create(spec);
  ASSERT_TRUE(cluster.has_value());
  const std::string value(std::string_view((*cluster)->hosts()[1].sticky_value));
  ASSERT_NE((*cluster)->findActiveBySticky(value), nullptr);
  EXPECT_EQ(withUnhealthy(*cluster, 1)->findActiveBySticky(value), nullptr);
}

TEST(HealthFlag, DrainingOfVersionSkipsUnhealthyHost) {
  auto cluster = makeCluster(conf::LbPolicyKind::RoundRobin, {1, 1});
  cluster = cluster->withAdjustedHosts([](Host& h) {
    h.version = 0;
    h.admin_state = AdminState::Draining;
  });
  ASSERT_NE(cluster->findDrainingOfVersion(0, {}, 0), nullptr);
  auto sick = withUnhealthy(cluster, 0);
  const Host* h = sick->findDrainingOfVersion(0, {}, 0);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->index, 1u);
  EXPECT_EQ(withUnhealthy(sick, 1)->findDrainingOfVersion(0, {}, 0), nullptr);
}

TEST(HealthFlag, ClusterCarriesCheckAndPanicFromSpec) {
  auto spec = makeSpec(conf::LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}});
  EXPECT_FALSE((*Cluster::create(spec))->healthCheck().has_value());
  spec.health_check = conf::HealthCheckSpec{};
  spec.health_check->path = "/health";
  spec.panic = false;
  auto cluster = *Cluster::create(spec);
  ASSERT_TRUE(cluster->healthCheck().has_value());
  EXPECT_EQ(cluster->healthCheck()->path, "/health");
  EXPECT_FALSE(cluster->panic());
}

}  // namespace
}  // namespace baton::upstream
