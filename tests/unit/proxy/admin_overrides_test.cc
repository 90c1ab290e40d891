// Operator overrides: the stricter state wins, ready clears only the operator's state, weights
// apply, and an unchanged cluster keeps one adjusted object.
#include "proxy/admin_overrides.h"

#include <gtest/gtest.h>

namespace baton::proxy {
namespace {

using upstream::AdminState;

std::shared_ptr<const upstream::Cluster> cluster(bool second_draining = false) {
  conf::ClusterSpec spec;
  spec.name = "web";
  spec.origin = "marathon:/web";
  conf::HostSpec a;
  a.address = "127.0.0.1:1000";
  a.name = "a";
  conf::HostSpec b;
  b.address = "127.0.0.1:1001";
  b.name = "b";
  b.draining = second_draining;
  spec.hosts = {a, b};
  auto built = upstream::Cluster::create(spec);
  EXPECT_TRUE(built.has_value());
  return *built;
}

TEST(AdminOverrides, NoOverrideSharesTheCluster) {
  AdminOverrides overrides;
  auto c = cluster();
  EXPECT_EQ(overrides.applyAll({c})[0], c);
  EXPECT_TRUE(overrides.empty());
}

TEST(AdminOverrides, HostStateAndWeight) {
  AdminOverrides overrides;
  overrides.setHostState("web", "a", AdminState::Maintenance);
  overrides.setHostWeight("web", "b", 7);
  auto out = overrides.applyAll({cluster()})[0];
  EXPECT_EQ(out->hosts()[0].admin_state, AdminState::Maintenance);
  EXPECT_EQ(out->hosts()[1].admin_state, AdminState::Active);
  EXPECT_EQ(out->hosts()[1].weight, 7u);
  EXPECT_EQ(overrides.host("web", "b").weight, 7u);
}

TEST(AdminOverrides, ReadyNeverUndoesDiscoveryDrain) {
  AdminOverrides overrides;
  overrides.setHostWeight("web", "b", 2);  // something to apply
  overrides.setHostState("web", "b", AdminState::Active);
  auto out = overrides.applyAll({cluster(/*second_draining=*/true)})[0];
  EXPECT_EQ(out->hosts()[1].admin_state, AdminState::Draining);
}

TEST(AdminOverrides, ClusterStateCoversEveryHostAndReadyClearsHostStates) {
  AdminOverrides overrides;
  overrides.setHostState("web", "a", AdminState::Maintenance);
  overrides.setClusterState("web", AdminState::Draining);
  auto out = overrides.applyAll({cluster()})[0];
  EXPECT_EQ(out->hosts()[0].admin_state, AdminState::Maintenance) << "stricter wins";
  EXPECT_EQ(out->hosts()[1].admin_state, AdminState::Draining);
  overrides.setClusterState("web", AdminState::Active);
  EXPECT_TRUE(overrides.empty());
}

TEST(AdminOverrides, MemoKeepsOneAdjustedObjectUntilAChange) {
  AdminOverrides overrides;
  overrides.setHostState("web", "a", AdminState::Draining);
  auto base = cluster();
  auto first = overrides.applyAll({base})[0];
  auto again = overrides.applyAll({base})[0];
  EXPECT_EQ(first, again);
  overrides.setHostState("web", "a", AdminState::Maintenance);
  auto changed = overrides.applyAll({base})[0];
  EXPECT_NE(changed, first);
  EXPECT_EQ(changed->hosts()[0].admin_state, AdminState::Maintenance);
}

TEST(AdminOverrides, RepeatedCommandsChangeNothing) {
  AdminOverrides overrides;
  EXPECT_FALSE(overrides.setHostState("web", "a", AdminState::Active));
  EXPECT_TRUE(overrides.setHostState("web", "a", AdminState::Draining));
  EXPECT_FALSE(overrides.setHostState("web", "a", AdminState::Draining));
  EXPECT_TRUE(overrides.setHostWeight("web", "a", 3));
  EXPECT_FALSE(overrides.setHostWeight("web", "a", 3));
  EXPECT_FALSE(overrides.setClusterState("other", AdminState::Active));
  EXPECT_TRUE(overrides.setClusterState("web", AdminState::Maintenance));
  EXPECT_FALSE(overrides.setClusterState("web", AdminState::Maintenance));
}

TEST(StricterState, Order) {
  EXPECT_EQ(stricterState(AdminState::Active, AdminState::Draining), AdminState::Draining);
  EXPECT_EQ(stricterState(AdminState::Maintenance, AdminState::Draining), AdminState::Maintenance);
  EXPECT_EQ(stricterState(AdminState::Active, AdminState::Active), AdminState::Active);
}

}  // namespace
}  // namespace baton::proxy
