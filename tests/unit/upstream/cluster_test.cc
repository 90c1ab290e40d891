#include "upstream/cluster.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "tests/unit/upstream/test_clusters.h"

namespace baton::upstream {
namespace {

using conf::LbPolicyKind;
using testing::makeSpec;

TEST(ParseSocketAddressTest, AcceptsIpv4) {
  auto r = parseSocketAddress("1.2.3.4:80");
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->second, sizeof(sockaddr_in));
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&r->first);
  EXPECT_EQ(sin->sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin->sin_port), 80);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0x01020304u);
}

TEST(ParseSocketAddressTest, AcceptsPortBounds) {
  EXPECT_TRUE(parseSocketAddress("127.0.0.1:1").has_value());
  auto r = parseSocketAddress("127.0.0.1:65535");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&r->first)->sin_port), 65535);
}

TEST(ParseSocketAddressTest, AcceptsIpv6) {
  auto r = parseSocketAddress("[::1]:8080");
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->second, sizeof(sockaddr_in6));
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&r->first);
  EXPECT_EQ(sin6->sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(sin6->sin6_port), 8080);
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
  EXPECT_TRUE(parseSocketAddress("[2001:db8::a:b]:443").has_value());
  EXPECT_TRUE(parseSocketAddress("[::ffff:10.0.0.1]:80").has_value());
}

TEST(ParseSocketAddressTest, RefusesBadIpv4) {
  for (const char* bad : {"1.2.3:80", "1.2.3.256:80", "1.2.3.4.5:80", "01.2.3.4:80", "1.2.3.4 :80",
                          " 1.2.3.4:80", "1.2.3.-4:80", ":80", "1.2.3.4"}) {
    auto r = parseSocketAddress(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, core::ErrorCode::ConfigInvalid);
    }
  }
}

TEST(ParseSocketAddressTest, RefusesBadIpv6) {
  for (const char* bad : {"[::1]", "[::1]80", "[::1:80", "::1:80", "[::g]:80", "[]:80",
                          "[1.2.3.4]:80", "[fe80::1%eth0]:80", "[::1]:"}) {
    EXPECT_FALSE(parseSocketAddress(bad).has_value()) << bad;
  }
}

TEST(ParseSocketAddressTest, RefusesMissingOrBadPort) {
  for (const char* bad :
       {"1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:99999", "1.2.3.4:123456",
        "1.2.3.4:+80", "1.2.3.4:-1", "1.2.3.4:8o", "1.2.3.4:80 ", "[::1]:0", "[::1]:65536"}) {
    EXPECT_FALSE(parseSocketAddress(bad).has_value()) << bad;
  }
}

TEST(ParseSocketAddressTest, RefusesHostNames) {
  for (const char* bad : {"localhost:80", "example.com:443", "[localhost]:80"}) {
    auto r = parseSocketAddress(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().detail.find("numeric"), std::string::npos) << r.error().detail;
  }
}

TEST(ParseSocketAddressTest, RefusesEmpty) {
  EXPECT_FALSE(parseSocketAddress("").has_value());
}

TEST(ClusterTest, BuildsHostsInOrder) {
  conf::ClusterSpec spec =
      makeSpec(LbPolicyKind::LeastRequest, {{"10.0.0.1:80", 3}, {"[::1]:81", 1}});
  spec.max_idle_connections = 7;
  spec.connect_attempts = 2;
  auto c = Cluster::create(spec);
  ASSERT_TRUE(c.has_value()) << c.error().detail;
  const Cluster& cluster = **c;
  EXPECT_EQ(cluster.name(), "web");
  EXPECT_EQ(cluster.policy(), LbPolicyKind::LeastRequest);
  EXPECT_EQ(cluster.maxIdleConnections(), 7u);
  EXPECT_EQ(cluster.connectAttempts(), 2u);
  ASSERT_EQ(cluster.hosts().size(), 2u);
  for (uint32_t i = 0; i < 2; ++i) {
    EXPECT_EQ(cluster.hosts()[i].index, i);
    EXPECT_EQ(cluster.hosts()[i].admin_state, AdminState::Active);
  }
  EXPECT_EQ(cluster.hosts()[0].address, "10.0.0.1:80");
  EXPECT_EQ(cluster.hosts()[0].weight, 3u);
  EXPECT_EQ(cluster.hosts()[0].sockaddr_len, sizeof(sockaddr_in));
  EXPECT_EQ(cluster.hosts()[1].address, "[::1]:81");
  EXPECT_EQ(cluster.hosts()[1].sockaddr.sa.sa_family, AF_INET6);
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(cluster.hosts()[1].sockaddr.get());
  EXPECT_EQ(ntohs(v6->sin6_port), 81);
  EXPECT_EQ(cluster.hosts()[1].sockaddr_len, sizeof(sockaddr_in6));
  // A Marathon-scale snapshot holds 100,000 of them: no sockaddr_storage, no padding.
  static_assert(sizeof(Host) <= 160);
}

TEST(ClusterTest, RefusesNoHosts) {
  auto c = Cluster::create(makeSpec(LbPolicyKind::RoundRobin, {}));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, core::ErrorCode::ConfigInvalid);
  EXPECT_EQ(c.error().source, core::ErrorSource::Config);
  EXPECT_EQ(c.error().detail, "test.toml:7: clusters.web.hosts: at least one host is required");
}

TEST(ClusterTest, RefusesBadAddressNamingFileLineKey) {
  auto c = Cluster::create(
      makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}, {"backend.local:80", 1}}));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().detail.rfind("test.toml:9: clusters.web.hosts[1].address: ", 0), 0u)
      << c.error().detail;
  EXPECT_NE(c.error().detail.find("backend.local:80"), std::string::npos);
}

TEST(ClusterTest, RefusesWeightOutOfRange) {
  for (uint32_t w : {0u, 257u, 100000u}) {
    auto c = Cluster::create(makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", w}}));
    ASSERT_FALSE(c.has_value()) << w;
    EXPECT_EQ(c.error().detail.rfind("test.toml:8: clusters.web.hosts[0].weight: ", 0), 0u)
        << c.error().detail;
  }
  EXPECT_TRUE(Cluster::create(makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}})));
  EXPECT_TRUE(Cluster::create(makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 256}})));
}

TEST(ClusterTest, RefusesDuplicateAddresses) {
  auto c = Cluster::create(makeSpec(LbPolicyKind::RoundRobin,
                                    {{"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}, {"10.0.0.1:80", 2}}));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().detail,
            "test.toml:10: clusters.web.hosts[2].address: duplicate of hosts[0] (10.0.0.1:80)");
}

TEST(ClusterTest, DuplicateDetectionComparesBinaryAddresses) {
  // Two spellings of the same IPv6 endpoint.
  auto c = Cluster::create(makeSpec(LbPolicyKind::RoundRobin, {{"[::1]:80", 1}, {"[0::1]:80", 1}}));
  EXPECT_FALSE(c.has_value());
  // Same IP, different ports: distinct hosts.
  EXPECT_TRUE(Cluster::create(
      makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}, {"10.0.0.1:81", 1}})));
}

// Small clusters compare endpoints directly, large ones switch to a hash map part-way: the
// same first duplicate is reported either way, wherever it sits.
TEST(ClusterTest, DuplicateDetectionInLargeClusters) {
  for (const size_t size : {31u, 32u, 33u, 100u}) {
    conf::ClusterSpec spec = makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}});
    spec.hosts.clear();
    for (size_t i = 0; i < size; ++i) {
      spec.hosts.push_back(conf::HostSpec{{}, "10.0.1." + std::to_string(i) + ":80", 1});
    }
    ASSERT_TRUE(Cluster::create(spec).has_value()) << size;
    for (const size_t dup_of : {size_t{0}, size - 1}) {
      conf::ClusterSpec with_dup = spec;
      with_dup.hosts.push_back(conf::HostSpec{{}, "[::ffff:1.2.3.4]:80", 1});
      with_dup.hosts.push_back(spec.hosts[dup_of]);
      auto c = Cluster::create(with_dup);
      ASSERT_FALSE(c.has_value()) << size;
      EXPECT_EQ(c.error().detail, "test.toml:7: clusters.web.hosts[" + std::to_string(size + 1) +
                                      "].address: duplicate of hosts[" + std::to_string(dup_of) +
                                      "] (" + spec.hosts[dup_of].address + ")");
    }
  }
}

TEST(ClusterTest, HostWithoutLineUsesClusterLocation) {
  conf::ClusterSpec spec = makeSpec(LbPolicyKind::RoundRobin, {{"nope", 1}});
  spec.hosts[0].line = 0;
  auto c = Cluster::create(spec);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().detail.rfind("test.toml:7: clusters.web.hosts[0].address: ", 0), 0u)
      << c.error().detail;
}

TEST(ClusterTest, RefusesZeroConnectAttempts) {
  conf::ClusterSpec spec = makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:80", 1}});
  spec.connect_attempts = 0;
  auto c = Cluster::create(spec);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().detail, "test.toml:7: clusters.web.connect_attempts: must be at least 1");
}

TEST(ClusterTest, WithAdminStateCopiesAndLeavesOriginal) {
  auto c = testing::makeCluster(LbPolicyKind::RoundRobin, {1, 2, 3});
  auto drained = c->withAdminState(1, AdminState::Draining);
  EXPECT_EQ(c->hosts()[1].admin_state, AdminState::Active);
  EXPECT_EQ(drained->hosts()[1].admin_state, AdminState::Draining);
  EXPECT_EQ(drained->hosts()[0].admin_state, AdminState::Active);
  EXPECT_EQ(drained->hosts()[2].weight, 3u);
  EXPECT_EQ(drained->name(), c->name());
  auto same = c->withAdminState(99, AdminState::Maintenance);  // out of range: unchanged
  for (const Host& h : same->hosts()) EXPECT_EQ(h.admin_state, AdminState::Active);
}

// The same views cannot be pointed at a temporary: `host.name = makeName()` would dangle.
static_assert(!std::is_assignable_v<decltype((std::declval<Host&>().address)), std::string>);
static_assert(!std::is_assignable_v<decltype((std::declval<Host&>().name)), std::string>);
static_assert(!std::is_assignable_v<decltype((std::declval<Host&>().task_id)), std::string>);
static_assert(std::is_assignable_v<decltype((std::declval<Host&>().name)), const std::string&>);

// A host's address, name and task id are views of its spec's host list, which the cluster keeps:
// they outlive the spec, and a later write to the spec's list (copy on write) does not reach them.
TEST(ClusterTest, HostStringsOutliveAndIgnoreTheirSpec) {
  std::shared_ptr<const Cluster> cluster;
  std::shared_ptr<const Cluster> adjusted;
  {
    conf::ClusterSpec spec = makeSpec(LbPolicyKind::RoundRobin, {{"10.0.0.1:31000", 1}});
    spec.hosts[0].name = "shop_10_0_0_1_31000_long_enough_for_the_heap";
    spec.hosts[0].task_id = "shop.0f0e9a1c-4a1b-11f0-8000-000000000001";
    auto made = Cluster::create(spec);
    ASSERT_TRUE(made.has_value()) << made.error().detail;
    cluster = *made;
    adjusted = cluster->withAdminState(0, AdminState::Draining);
    spec.hosts[0].address = "10.0.0.2:31000";  // the spec's own copy now
    spec.hosts[0].name = "replaced";
    spec.hosts[0].task_id = "replaced";
  }
  for (const auto& c : {cluster, adjusted}) {
    const Host& h = c->hosts().at(0);
    EXPECT_EQ(h.address, "10.0.0.1:31000");
    EXPECT_EQ(h.name, "shop_10_0_0_1_31000_long_enough_for_the_heap");
    EXPECT_EQ(h.task_id, "shop.0f0e9a1c-4a1b-11f0-8000-000000000001");
  }
  cluster.reset();  // the copy keeps the list alive on its own
  EXPECT_EQ(adjusted->hosts().at(0).name, "shop_10_0_0_1_31000_long_enough_for_the_heap");
}

}  // namespace
}  // namespace baton::upstream
