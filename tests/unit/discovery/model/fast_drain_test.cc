// withTasksDraining: the fast path's drain on a translated spec.
#include "discovery/model/fast_drain.h"

#include <gtest/gtest.h>

namespace baton::discovery {
namespace {

conf::HostSpec host(std::string task_id, std::string address) {
  conf::HostSpec out;
  out.task_id = std::move(task_id);
  out.address = std::move(address);
  return out;
}

conf::DiscoveredSpec twoClusters() {
  conf::DiscoveredSpec spec;
  conf::ClusterSpec web;
  web.name = "shop_web_10000";
  web.hosts = {host("web.1", "10.0.0.1:31000"), host("web.2", "10.0.0.2:31000")};
  conf::ClusterSpec api;
  api.name = "shop_api_10001";
  api.hosts = {host("api.1", "10.0.0.3:31000")};
  spec.clusters = {web, api};
  return spec;
}

TEST(FastDrainTest, DrainsTheTasksHostsAndSharesTheOtherLists) {
  const conf::DiscoveredSpec spec = twoClusters();
  auto drained = withTasksDraining(spec, {"web.2"});
  ASSERT_NE(drained, nullptr);
  EXPECT_FALSE(drained->clusters[0].hosts[0].draining);
  EXPECT_TRUE(drained->clusters[0].hosts[1].draining);
  EXPECT_EQ(drained->clusters[1].hosts.shared(), spec.clusters[1].hosts.shared());
  EXPECT_FALSE(spec.clusters[0].hosts[1].draining) << "the original is left as it was";
  // Everything but the drain flag is the same.
  conf::DiscoveredSpec undone = *drained;
  undone.clusters[0].hosts[1].draining = false;
  EXPECT_EQ(undone, spec);
}

// Two tasks on one address are one backend entry (translate merges them): the end of one of them
// must not drain the other's traffic; the next translate decides with both tasks' states.
TEST(FastDrainTest, AHostOtherTasksShareIsLeftToTranslate) {
  conf::DiscoveredSpec spec = twoClusters();
  spec.clusters[0].hosts.mut()[1].shared_address = true;
  EXPECT_EQ(withTasksDraining(spec, {"web.2"}), nullptr);
  auto drained = withTasksDraining(spec, {"web.1", "web.2"});
  ASSERT_NE(drained, nullptr);
  EXPECT_TRUE(drained->clusters[0].hosts[0].draining);
  EXPECT_FALSE(drained->clusters[0].hosts[1].draining);
}

TEST(FastDrainTest, NothingToChangeGivesNull) {
  const conf::DiscoveredSpec spec = twoClusters();
  EXPECT_EQ(withTasksDraining(spec, {}), nullptr);
  EXPECT_EQ(withTasksDraining(spec, {"gone.1"}), nullptr);
  auto drained = withTasksDraining(spec, {"api.1"});
  ASSERT_NE(drained, nullptr);
  EXPECT_EQ(withTasksDraining(*drained, {"api.1"}), nullptr) << "already draining";
}

TEST(FastDrainTest, ConfiguredHostsWithoutATaskAreNeverDrained) {
  conf::DiscoveredSpec spec = twoClusters();
  spec.clusters[1].hosts = {host("", "10.0.0.9:80")};
  EXPECT_EQ(withTasksDraining(spec, {""}), nullptr);
}

}  // namespace
}  // namespace baton::discovery
