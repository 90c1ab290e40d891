// Cluster fields discovery and stickiness rely on: empty discovered clusters, host names,
// task ids, draining hosts, marathon-lb-compatible sticky values, per-cluster settings.
#include <gtest/gtest.h>

#include "tests/unit/upstream/test_clusters.h"
#include "upstream/cluster.h"
#include "upstream/load_balancer.h"

namespace baton::upstream {
namespace {

using conf::LbPolicyKind;
using testing::makeSpec;

TEST(ClusterDiscoveryTest, DiscoveredClusterMayBeEmptyAndAnswersNoHost) {
  for (const auto policy : {LbPolicyKind::RoundRobin, LbPolicyKind::LeastRequest,
                            LbPolicyKind::PowerOfTwo, LbPolicyKind::SourceHash}) {
    conf::ClusterSpec spec = makeSpec(policy, {});
    spec.origin = "marathon:/shop/web";
    auto cluster = Cluster::create(spec);
    ASSERT_TRUE(cluster.has_value()) << cluster.error().detail;
    EXPECT_TRUE((*cluster)->hosts().empty());
    auto lb = createLoadBalancer(*cluster, 1);
    EXPECT_EQ(lb->pick({}, PickContext{42}), nullptr);
  }
}

TEST(ClusterDiscoveryTest, ConfiguredClusterStillNeedsHosts) {
  auto cluster = Cluster::create(makeSpec(LbPolicyKind::RoundRobin, {}));
  ASSERT_FALSE(cluster.has_value());
  EXPECT_EQ(cluster.error().detail,
            "test.toml:7: clusters.web.hosts: at least one host is required");
}

TEST(ClusterDiscoveryTest, NamesDefaultToTheAddressAndTaskIdsAreKept) {
  conf::ClusterSpec spec =
      makeSpec(LbPolicyKind::RoundRobin, {{"10.0.6.25:31704", 1}, {"10.0.0.1:80", 2}});
  spec.hosts[0].name = "10_0_6_25_31704";
  spec.hosts[0].task_id = "shop_web.1234";
  auto cluster = Cluster::create(spec);
  ASSERT_TRUE(cluster.has_value()) << cluster.error().detail;
  const auto& hosts = (*cluster)->hosts();
  EXPECT_EQ(hosts[0].name, "10_0_6_25_31704");
  EXPECT_EQ(hosts[0].address, "10.0.6.25:31704");
  EXPECT_EQ(hosts[0].task_id, "shop_web.1234");
  EXPECT_EQ(hosts[1].name, "10.0.0.1:80");
  EXPECT_EQ(hosts[1].task_id, "");
}

TEST(ClusterDiscoveryTest, StickyValueIsMarathonLbsSha1Prefix) {
  // python3 -c "import hashlib; print(hashlib.sha1(b'10_0_6_25_31704').hexdigest()[:10])"
  EXPECT_EQ(stickyValueFor("10_0_6_25_31704"), "107b97c58d");
  EXPECT_EQ(stickyValueFor("10.0.0.1:80"), "84c5b17305");
  conf::ClusterSpec spec = makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}});
  auto plain = Cluster::create(spec);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ((*plain)->hosts()[0].sticky_value, "");  // not computed without a sticky cookie
  spec.sticky_cookie = "mesosphere_server_id";
  auto cluster = Cluster::create(spec);
  ASSERT_TRUE(cluster.has_value());
  EXPECT_EQ((*cluster)->hosts()[0].sticky_value, "84c5b17305");
}

TEST(ClusterDiscoveryTest, DrainingHostsAreNeverPickedNorStickyTargets) {
  conf::ClusterSpec spec =
      makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}});
  spec.hosts[0].draining = true;
  spec.sticky_cookie = "mesosphere_server_id";
  auto cluster = Cluster::create(spec);
  ASSERT_TRUE(cluster.has_value());
  const Cluster& c = **cluster;
  EXPECT_EQ(c.hosts()[0].admin_state, AdminState::Draining);
  EXPECT_EQ(c.hosts()[1].admin_state, AdminState::Active);
  EXPECT_EQ(c.stickyCookie(), "mesosphere_server_id");
  EXPECT_EQ(c.findActiveBySticky(c.hosts()[0].sticky_value), nullptr);
  EXPECT_EQ(c.findActiveBySticky(c.hosts()[1].sticky_value), &c.hosts()[1]);
  EXPECT_EQ(c.findActiveBySticky("0000000000"), nullptr);
  EXPECT_EQ(c.findActiveBySticky(""), nullptr);
  auto lb = createLoadBalancer(*cluster, 1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(lb->pick({})->index, 1u);
}

TEST(ClusterDiscoveryTest, TimeoutOverridesAreKept) {
  conf::ClusterSpec spec = makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}});
  spec.timeouts.upstream_connect = std::chrono::milliseconds(250);
  spec.timeouts.body_idle = std::chrono::milliseconds(1500);
  auto cluster = Cluster::create(spec);
  ASSERT_TRUE(cluster.has_value());
  EXPECT_EQ((*cluster)->timeouts().upstream_connect, std::chrono::milliseconds(250));
  EXPECT_FALSE((*cluster)->timeouts().upstream_first_byte.has_value());
  EXPECT_EQ((*cluster)->timeouts().body_idle, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace baton::upstream
