// Lag between baton instances (proxy/peers/lag.h) and the Marathon state digest they compare
// (proxy/peers/state_digest.h).
#include <gtest/gtest.h>

#include "proxy/peers/lag.h"
#include "proxy/peers/state_digest.h"

namespace baton::proxy::peers {
namespace {

admin::InstanceStatus peer(std::string task, std::string state, int64_t since,
                           bool reachable = true) {
  admin::InstanceStatus p;
  p.task_id = std::move(task);
  p.reachable = reachable;
  p.facts.marathon_state = std::move(state);
  p.facts.marathon_state_since_unix_ms = since;
  return p;
}

TEST(PeerLagTest, InStepWhenEveryoneHasTheFreshestState) {
  std::vector<admin::InstanceStatus> peers = {peer("a", "s2", 1000), peer("b", "s2", 1020)};
  markLagging(peers, 60'000, 5000);
  EXPECT_FALSE(peers[0].lagging);
  EXPECT_FALSE(peers[1].lagging);
  EXPECT_EQ(peers[0].lag_ms, 0);
}

TEST(PeerLagTest, BehindWithinTheThresholdIsConvergingNotLagging) {
  std::vector<admin::InstanceStatus> peers = {peer("a", "s2", 10'000), peer("b", "s1", 1000)};
  markLagging(peers, 12'000, 5000);
  EXPECT_FALSE(peers[0].lagging);
  EXPECT_FALSE(peers[1].lagging);
  EXPECT_EQ(peers[1].lag_ms, 2000);
}

TEST(PeerLagTest, BehindPastTheThresholdLags) {
  std::vector<admin::InstanceStatus> peers = {peer("a", "s2", 10'000), peer("b", "s2", 10'050),
                                              peer("c", "s1", 1000)};
  markLagging(peers, 16'000, 5000);
  EXPECT_FALSE(peers[0].lagging);
  EXPECT_FALSE(peers[1].lagging);
  EXPECT_TRUE(peers[2].lagging);
  EXPECT_EQ(peers[2].lag_ms, 5950);  // since the freshest (b) changed
}

TEST(PeerLagTest, UnreachableNeverLagsNorSetsTheFreshest) {
  std::vector<admin::InstanceStatus> peers = {peer("a", "s1", 1000),
                                              peer("b", "s9", 50'000, false)};
  markLagging(peers, 60'000, 5000);
  EXPECT_FALSE(peers[0].lagging);  // b's newer state does not count: b is not reachable
  EXPECT_FALSE(peers[1].lagging);
}

TEST(PeerLagTest, NothingAppliedYetIsBehindOnceOthersHaveState) {
  std::vector<admin::InstanceStatus> peers = {peer("a", "s1", 1000), peer("b", "", 0)};
  markLagging(peers, 10'000, 5000);
  EXPECT_TRUE(peers[1].lagging);
}

TEST(PeerLagTest, TiesPickTheSameFreshestEverywhere) {
  std::vector<admin::InstanceStatus> one = {peer("a", "s1", 1000), peer("b", "s2", 1000)};
  std::vector<admin::InstanceStatus> two = {peer("b", "s2", 1000), peer("a", "s1", 1000)};
  markLagging(one, 10'000, 5000);
  markLagging(two, 10'000, 5000);
  EXPECT_TRUE(one[0].lagging);  // a (s1) behind s2
  EXPECT_TRUE(two[1].lagging);  // the same verdict whatever the order
  EXPECT_FALSE(one[1].lagging);
}

conf::DiscoveredSpec spec(bool draining) {
  conf::DiscoveredSpec s;
  conf::ClusterSpec c;
  c.name = "shop_web_10000";
  conf::HostSpec h;
  h.address = "10.0.0.1:31000";
  h.name = "10_0_0_1_31000";
  h.task_id = "shop_web.t0";
  h.draining = draining;
  c.hosts.push_back(h);
  s.clusters.push_back(c);
  return s;
}

TEST(StateDigestTest, SameStateSameDigestAnyChangeAnother) {
  const std::string a = marathonStateDigest(spec(false));
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, marathonStateDigest(spec(false)));
  EXPECT_NE(a, marathonStateDigest(spec(true)));
  conf::DiscoveredSpec moved = spec(false);
  moved.clusters[0].hosts[0].address = "10.0.0.1:31001";
  EXPECT_NE(a, marathonStateDigest(moved));
  // Instance-local parts (listeners) are not part of it.
  conf::DiscoveredSpec with_listener = spec(false);
  with_listener.listeners.emplace_back();
  EXPECT_EQ(a, marathonStateDigest(with_listener));
}

}  // namespace
}  // namespace baton::proxy::peers
