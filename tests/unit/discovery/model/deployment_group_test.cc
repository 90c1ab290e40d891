#include "discovery/model/deployment_group.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace baton::discovery {
namespace {

Task task(std::string id, bool alive) {
  Task t;
  t.id = std::move(id);
  t.host = "10.0.0.1";
  t.state = TaskState::Running;
  if (alive) t.health.push_back({true});
  t.endpoints = {{"10.0.0.1", 31000}};
  return t;
}

// A zdd-stamped colour of deployment group "shop" (marathon.md §4.1 step 3).
App colour(std::string colour, std::string started_at, uint32_t instances, uint16_t port) {
  App app;
  app.id = "/shop-" + colour;
  app.instances = instances;
  app.service_ports = {port};
  app.health_checks.push_back(HealthCheck{});
  app.labels = {{"HAPROXY_GROUP", "external"},
                {"HAPROXY_DEPLOYMENT_GROUP", "shop"},
                {"HAPROXY_DEPLOYMENT_ALT_PORT", "10001"},
                {"HAPROXY_0_PORT", "10000"},
                {"HAPROXY_DEPLOYMENT_COLOUR", colour},
                {"HAPROXY_DEPLOYMENT_STARTED_AT", std::move(started_at)},
                {"HAPROXY_DEPLOYMENT_TARGET_INSTANCES", "2"},
                {"HAPROXY_DEPLOYMENT_NEW_INSTANCES", "0"}};
  return app;
}

using Ids = std::unordered_set<std::string>;

// Test shorthand: the merge of `apps` (sorted by id), with the merged app first when there is one.
struct Merged {
  std::vector<App> apps;
  Ids drained;
};
Merged merge(std::vector<App> input, Ids* sticky, std::vector<conf::DiscoveryIssue>& issues) {
  std::sort(input.begin(), input.end(), [](const App& a, const App& b) { return a.id < b.id; });
  std::vector<const App*> ptrs;
  for (const App& a : input) ptrs.push_back(&a);
  DeploymentMerge m = mergeDeploymentGroups(ptrs, sticky, issues);
  Merged out{std::move(m.merged), std::move(m.drained)};
  for (const App* a : m.others) out.apps.push_back(*a);
  return out;
}

struct Deploy {
  App blue = colour("blue", "2024-01-01T00:00:00Z", 2, 10000);
  App green = colour("green", "2024-02-01T00:00:00Z", 1, 10001);
  std::unordered_set<std::string> sticky;
  std::vector<conf::DiscoveryIssue> issues;

  Deploy() { blue.tasks = {task("shop-blue.b", true), task("shop-blue.a", true)}; }
  std::unordered_set<std::string> step() { return merge({blue, green}, &sticky, issues).drained; }
};

TEST(DeploymentGroup, MergesIntoOneAppNamedAfterTheGroup) {
  Deploy d;
  d.green.labels["HAPROXY_0_VHOST"] = "shop.example.com";
  d.green.tasks = {task("shop-green.x", false)};
  const Merged m = merge({d.blue, d.green}, &d.sticky, d.issues);
  ASSERT_EQ(m.apps.size(), 1u);
  EXPECT_EQ(m.apps[0].id, "/shop");
  EXPECT_EQ(m.apps[0].service_ports, (std::vector<uint16_t>{10000}));     // HAPROXY_0_PORT
  EXPECT_EQ(m.apps[0].labels.at("HAPROXY_0_VHOST"), "shop.example.com");  // the new app's
  EXPECT_EQ(m.apps[0].tasks.size(), 3u);
  EXPECT_TRUE(d.issues.empty());
}

TEST(DeploymentGroup, AppsOutsideGroupsUntouched) {
  App plain;
  plain.id = "/other";
  std::vector<conf::DiscoveryIssue> issues;
  const Merged m = merge({plain}, nullptr, issues);
  ASSERT_EQ(m.apps.size(), 1u);
  EXPECT_EQ(m.apps[0].id, "/other");
  EXPECT_TRUE(m.drained.empty());
}

// zdd.py 2 -> 2 with the default --initial-instances 1, one resync per step.
TEST(DeploymentGroup, TwoToTwoDeployDrainsStepByStepAndStaysDrained) {
  Deploy d;
  // 1. green has one task, not healthy yet: nothing drained.
  d.green.tasks = {task("shop-green.x", false)};
  EXPECT_EQ(deploymentDrainCount(d.blue, d.green), 0u);
  EXPECT_EQ(d.step(), Ids{});
  // 2. green's task is healthy: N = min(2, 1, 1 + 2 - 2) = 1, the first old task by id.
  d.green.tasks = {task("shop-green.x", true)};
  EXPECT_EQ(deploymentDrainCount(d.blue, d.green), 1u);
  EXPECT_EQ(d.step(), Ids{"shop-blue.a"});
  EXPECT_EQ(d.step(), Ids{"shop-blue.a"});  // same state, same decision
  // 3. zdd kills shop-blue.a with scale=true: blue.instances drops to 1 while the task is still
  //    listed (killing), green scales to 2 with one healthy. marathon-lb's N is now
  //    min(2, 1, 1 + 1 - 2) = 0 and puts shop-blue.a back into rotation: baton keeps it drained.
  d.blue.instances = 1;
  d.green.instances = 2;
  d.green.tasks = {task("shop-green.x", true), task("shop-green.y", false)};
  EXPECT_EQ(deploymentDrainCount(d.blue, d.green), 0u);
  EXPECT_EQ(d.step(), Ids{"shop-blue.a"});
  // 4. shop-blue.a is gone: pruned; shop-blue.b still serves (N = 0).
  d.blue.tasks = {task("shop-blue.b", true)};
  EXPECT_EQ(d.step(), Ids{});
  EXPECT_FALSE(d.sticky.contains("shop-blue.a"));
  // 5. both green tasks healthy: N = min(1, 2, 2 + 1 - 2) = 1 -> shop-blue.b drained.
  d.green.tasks = {task("shop-green.x", true), task("shop-green.y", true)};
  EXPECT_EQ(d.step(), Ids{"shop-blue.b"});
  // 6. zdd deletes blue: nothing left to drain, sticky set empties.
  EXPECT_EQ(merge({d.green}, &d.sticky, d.issues).drained, Ids{});
  EXPECT_TRUE(d.sticky.empty());
}

TEST(DeploymentGroup, StickyTaskStillListedCountsTowardsN) {
  Deploy d;
  d.green.tasks = {task("shop-green.x", true)};
  EXPECT_EQ(d.step(), Ids{"shop-blue.a"});
  // Both new tasks healthy while shop-blue.a is still listed: N = min(2, 2, 2 + 2 - 2) = 2.
  d.green.instances = 2;
  d.green.tasks = {task("shop-green.x", true), task("shop-green.y", true)};
  EXPECT_EQ(d.step(), (Ids{"shop-blue.a", "shop-blue.b"}));
  // N back to 1 (blue scaled down) never un-drains either.
  d.blue.instances = 1;
  EXPECT_EQ(d.step(), (Ids{"shop-blue.a", "shop-blue.b"}));
}

TEST(DeploymentGroup, WithoutHealthChecksNewInstancesCountAsHealthy) {
  Deploy d;
  d.green.health_checks.clear();
  d.green.tasks = {task("shop-green.x", false)};
  EXPECT_EQ(deploymentDrainCount(d.blue, d.green), 1u);
}

TEST(DeploymentGroup, HybridSwapsWhenOldWasScaledLater) {
  Deploy d;
  d.green.labels["HAPROXY_DEPLOYMENT_NEW_INSTANCES"] = "1";
  d.green.last_scaling_at = "2024-02-01T00:00:00Z";
  d.blue.last_scaling_at = "2024-03-01T00:00:00Z";  // --complete-prev scaled blue back up
  d.green.tasks = {task("shop-green.x", true)};
  d.blue.instances = 2;
  const Merged m = merge({d.blue, d.green}, nullptr, d.issues);
  // Blue is "new" now: green's task is the old one drained (N = min(1, 2, 2 + 1 - 2) = 1).
  EXPECT_EQ(m.drained, Ids{"shop-green.x"});
  EXPECT_EQ(m.apps[0].labels.at("HAPROXY_DEPLOYMENT_COLOUR"), "blue");
}

TEST(DeploymentGroup, NoHybridSwapWhenNewInstancesIsZero) {
  Deploy d;  // NEW_INSTANCES = 0: a plain deploy, even when blue was scaled down last
  d.green.last_scaling_at = "2024-02-01T00:00:00Z";
  d.blue.last_scaling_at = "2024-03-01T00:00:00Z";
  d.green.tasks = {task("shop-green.x", true)};
  const Merged m = merge({d.blue, d.green}, nullptr, d.issues);
  EXPECT_EQ(m.drained, Ids{"shop-blue.a"});
  EXPECT_EQ(m.apps[0].labels.at("HAPROXY_DEPLOYMENT_COLOUR"), "green");
}

TEST(DeploymentGroup, BadPortLabelReported) {
  Deploy d;
  d.green.labels["HAPROXY_0_PORT"] = "x";
  const Merged m = merge({d.blue, d.green}, nullptr, d.issues);
  EXPECT_EQ(m.apps[0].service_ports, (std::vector<uint16_t>{10001}));
  ASSERT_EQ(d.issues.size(), 1u);
  EXPECT_EQ(d.issues[0].subject, "HAPROXY_0_PORT");
}

// What `show groups` reports, step by step through the same cutover (one resync per step).
TEST(DeploymentGroup, GroupInfoFollowsTheCutover) {
  Deploy d;
  d.green.tasks = {task("shop-green.x", false)};
  auto info = [&] {
    DeploymentMerge m;
    std::vector<const App*> ptrs = {&d.blue, &d.green};
    m = mergeDeploymentGroups(ptrs, &d.sticky, d.issues);
    EXPECT_EQ(m.groups.size(), m.merged.size());
    return m.groups.empty() ? conf::DeploymentGroupInfo{} : m.groups[0];
  };
  conf::DeploymentGroupInfo g = info();
  EXPECT_EQ(g, (conf::DeploymentGroupInfo{"shop", "/shop-blue", "/shop-green", 2, 1, 0, 0, 2}));
  d.green.tasks = {task("shop-green.x", true)};
  g = info();
  EXPECT_EQ(g.old_drained, 1u);
  EXPECT_EQ(g.new_healthy, 1u);
  // The drain count falls to 0 (blue scaled down) but the drained task still counts: sticky.
  d.blue.instances = 1;
  d.green.instances = 2;
  d.green.tasks = {task("shop-green.x", true), task("shop-green.y", false)};
  g = info();
  EXPECT_EQ(g.old_drained, 1u);
  EXPECT_EQ(g.new_tasks, 2u);
  EXPECT_EQ(g.new_healthy, 1u);
}

TEST(DeploymentGroup, GroupInfoForOneColourAndSortedByGroup) {
  App zed = colour("blue", "2024-01-01T00:00:00Z", 3, 10000);
  zed.id = "/zed-blue";
  zed.labels["HAPROXY_DEPLOYMENT_GROUP"] = "zed";
  zed.labels.erase("HAPROXY_DEPLOYMENT_TARGET_INSTANCES");
  zed.tasks = {task("zed.1", true), task("zed.2", false)};
  Deploy d;
  d.green.tasks = {task("shop-green.x", true)};
  App plain;
  plain.id = "/plain";
  std::vector<const App*> ptrs = {&plain, &d.blue, &d.green, &zed};
  const DeploymentMerge m = mergeDeploymentGroups(ptrs, nullptr, d.issues);
  ASSERT_EQ(m.groups.size(), 2u);
  EXPECT_EQ(m.groups[0].group, "shop");
  EXPECT_EQ(m.merged[0].id, "/shop");
  // One colour: nothing old, the app is the new one; target defaults to 1 like marathon-lb.
  EXPECT_EQ(m.groups[1], (conf::DeploymentGroupInfo{"zed", "", "/zed-blue", 0, 2, 0, 1, 1}));
  EXPECT_EQ(m.merged[1].id, "/zed");
}

TEST(DeploymentGroup, GroupInfoWithoutHealthChecksCountsInstances) {
  Deploy d;
  d.green.health_checks.clear();
  d.green.instances = 2;
  d.green.tasks = {task("shop-green.x", false)};
  std::vector<const App*> ptrs = {&d.blue, &d.green};
  const DeploymentMerge m = mergeDeploymentGroups(ptrs, nullptr, d.issues);
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.groups[0].new_healthy, 2u);  // the rule's healthy_new, as the drain count uses it
  EXPECT_EQ(m.groups[0].old_drained, 2u);  // N = min(2, 2, 2 + 2 - 2)
}

}  // namespace
}  // namespace baton::discovery
