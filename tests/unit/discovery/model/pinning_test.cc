// Asset pinning on the discovery side: the PinGroupSpec each deployment group gets
// (versions, ids, order, labels), the version of each host, groups of three or more apps, and
// the BATON_PIN_* label checks (deployment_group.h, translate.h, labels.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <unordered_set>

#include "discovery/model/deployment_group.h"
#include "discovery/model/labels.h"
#include "discovery/model/translate.h"
#include "routing/pinning.h"

namespace baton::discovery {
namespace {

using conf::PinMode;
using conf::PinVersionSpec;
using routing::pin::derivedVersionId;
using Ids = std::unordered_set<std::string>;

Task task(std::string id, bool alive, std::string ip = "10.0.0.1") {
  Task t;
  t.id = std::move(id);
  t.host = ip;
  t.state = TaskState::Running;
  if (alive) t.health.push_back({true});
  t.endpoints = {{std::move(ip), 31000}};
  return t;
}

// One zdd-stamped app of group "shop"; `config` is versionInfo.lastConfigChangeAt.
App colour(std::string colour, std::string started_at, std::string config) {
  App app;
  app.id = "/shop-" + colour;
  app.instances = 1;
  app.service_ports = {10000};
  app.health_checks.push_back(HealthCheck{});
  app.last_config_change_at = std::move(config);
  app.labels = {{"HAPROXY_GROUP", "external"},
                {"HAPROXY_DEPLOYMENT_GROUP", "shop"},
                {"HAPROXY_0_PORT", "10000"},
                {"HAPROXY_DEPLOYMENT_COLOUR", colour},
                {"HAPROXY_DEPLOYMENT_TARGET_INSTANCES", "1"},
                {"HAPROXY_DEPLOYMENT_NEW_INSTANCES", "0"}};
  if (!started_at.empty()) app.labels["HAPROXY_DEPLOYMENT_STARTED_AT"] = std::move(started_at);
  return app;
}

// mergeDeploymentGroups over `apps` (sorted by id first, as translate does).
struct Merge {
  std::vector<App> input;
  Ids sticky;
  std::vector<conf::DiscoveryIssue> issues;
  DeploymentMerge out;

  explicit Merge(std::vector<App> apps) : input(std::move(apps)) { run(); }
  void run() {
    std::sort(input.begin(), input.end(), [](const App& a, const App& b) { return a.id < b.id; });
    std::vector<const App*> ptrs;
    for (const App& a : input) ptrs.push_back(&a);
    issues.clear();
    out = mergeDeploymentGroups(ptrs, &sticky, issues);
  }
  const conf::PinGroupSpec& pin() const { return out.pins.at(0).spec; }
  std::vector<std::string> ids() const {
    std::vector<std::string> v;
    for (const auto& version : pin().versions) v.push_back(version.id);
    return v;
  }
  const std::vector<conf::DiscoveryIssue>& pinIssues() const { return out.pins.at(0).issues; }
};

// The versions with started_ms cleared (the tests that compare whole versions are about ids,
// apps, colours and manifests; started_ms has its own test).
std::vector<PinVersionSpec> withoutTimes(std::vector<PinVersionSpec> versions) {
  for (auto& v : versions) v.started_ms = 0;
  return versions;
}

constexpr const char* kJan = "2024-01-01T00:00:00.000Z";
constexpr const char* kFeb = "2024-02-01T00:00:00.000Z";
constexpr const char* kMar = "2024-03-01T00:00:00.000Z";

// ---- The PinGroupSpec of a group ----

TEST(PinGroup, OneAppStillGetsOneVersion) {
  App blue = colour("blue", kJan, "2024-01-01T00:00:00.123Z");
  blue.tasks = {task("shop-blue.a", true)};
  const Merge m({blue});
  ASSERT_EQ(m.out.pins.size(), 1u);
  EXPECT_EQ(m.pin().group, "shop");
  EXPECT_EQ(m.pin().mode, PinMode::Assets);
  EXPECT_FALSE(m.pin().cache_cap.has_value());
  const std::string id = derivedVersionId("/shop-blue", "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(withoutTimes(m.pin().versions),
            (std::vector<PinVersionSpec>{{id, "/shop-blue", "blue", ""}}));
  EXPECT_EQ(m.out.pins[0].app_versions, (std::map<std::string, std::string>{{"/shop-blue", id}}));
  EXPECT_EQ(m.out.merged.at(0).tasks.at(0).app_id, "/shop-blue");  // stamped by the merge
  EXPECT_TRUE(m.pinIssues().empty());
}

TEST(PinGroup, AppsOutsideGroupsGetNoPin) {
  App plain;
  plain.id = "/plain";
  const Merge m({plain});
  EXPECT_TRUE(m.out.pins.empty());
  EXPECT_TRUE(m.out.merged.empty());
}

// Versions are oldest first by STARTED_AT, whatever the app ids say.
TEST(PinGroup, VersionsOldestFirstByStartedAt) {
  App blue = colour("blue", kFeb, "c1");  // "blue" < "green" by id, but the newer one
  App green = colour("green", kJan, "c2");
  const Merge m({blue, green});
  ASSERT_EQ(m.pin().versions.size(), 2u);
  EXPECT_EQ(m.pin().versions[0].app_id, "/shop-green");
  EXPECT_EQ(m.pin().versions[0].colour, "green");
  EXPECT_EQ(m.pin().versions[1].app_id, "/shop-blue");
  EXPECT_EQ(m.out.groups.at(0).new_app, "/shop-blue");  // the drain rule agrees
}

// Missing STARTED_AT sorts oldest; equal ones fall back to lastConfigChangeAt, then app id.
TEST(PinGroup, OrderTiesAndMissingStartedAt) {
  App a = colour("a", kJan, "2024-01-05");
  App b = colour("b", kJan, "2024-01-02");  // same start, older config
  App c = colour("c", "", "2024-09-09");    // no start: oldest
  App d = colour("d", kJan, "2024-01-05");  // same start and config as a: by id
  Merge m({d, c, b, a});
  std::vector<std::string> apps;
  for (const auto& v : m.pin().versions) apps.push_back(v.app_id);
  EXPECT_EQ(apps, (std::vector<std::string>{"/shop-c", "/shop-b", "/shop-a", "/shop-d"}));
}

TEST(PinGroup, LabelVersionIdUsedAndValidated) {
  App blue = colour("blue", kJan, "c1");
  blue.labels["BATON_PIN_VERSION"] = " 3f9a0c1 ";  // trimmed
  App green = colour("green", kFeb, "c2");
  green.labels["BATON_PIN_VERSION"] = "build 42";
  const Merge m({blue, green});
  EXPECT_EQ(m.ids(), (std::vector<std::string>{"3f9a0c1", derivedVersionId("/shop-green", "c2")}));
  ASSERT_EQ(m.pinIssues().size(), 1u);
  EXPECT_EQ(m.pinIssues()[0].app_id, "/shop-green");  // the app that carries the label
  EXPECT_EQ(m.pinIssues()[0].subject, "BATON_PIN_VERSION");
  EXPECT_NE(m.pinIssues()[0].message.find("derived"), std::string::npos);
  EXPECT_TRUE(m.issues.empty());  // pin issues are kept apart (reported only when served)
  App long_id = colour("blue", kJan, "c1");
  long_id.labels["BATON_PIN_VERSION"] = std::string(65, 'a');
  EXPECT_EQ(Merge({long_id}).pinIssues().size(), 1u);
  long_id.labels["BATON_PIN_VERSION"] = std::string(64, 'a');
  EXPECT_EQ(Merge({long_id}).ids(), (std::vector<std::string>{std::string(64, 'a')}));
}

// The same build deployed again: one version, both apps' hosts carry its id.
TEST(PinGroup, SameVersionIdTwiceIsOneVersion) {
  App blue = colour("blue", kJan, "c1");
  App green = colour("green", kFeb, "c2");
  blue.labels["BATON_PIN_VERSION"] = "abc";
  green.labels["BATON_PIN_VERSION"] = "abc";
  green.labels["BATON_PIN_MANIFEST"] = "/green.json";
  const Merge m({blue, green});
  EXPECT_EQ(withoutTimes(m.pin().versions),
            (std::vector<PinVersionSpec>{{"abc", "/shop-blue", "blue", ""}}));
  EXPECT_EQ(m.out.pins[0].app_versions,
            (std::map<std::string, std::string>{{"/shop-blue", "abc"}, {"/shop-green", "abc"}}));
}

// Scenario 10: v1 blue -> v2 green -> v3 blue gets a new id (lastConfigChangeAt moved);
// BATON_PIN_VERSION equal to v1's brings v1's id back.
TEST(PinGroup, ColourReuseGetsANewId) {
  const App v1 = colour("blue", kJan, "2024-01-01T00:00:00Z");
  const App v3 = colour("blue", kMar, "2024-03-01T00:00:00Z");
  const std::string id1 = Merge({v1}).ids().at(0);
  const std::string id3 = Merge({v3}).ids().at(0);
  EXPECT_NE(id1, id3);
  App v3_labelled = v3;
  v3_labelled.labels["BATON_PIN_VERSION"] = id1;
  EXPECT_EQ(Merge({v3_labelled}).ids().at(0), id1);
}

TEST(PinGroup, ModeAndCacheCapFromTheNewestApp) {
  App blue = colour("blue", kJan, "c1");
  App green = colour("green", kFeb, "c2");
  blue.labels["BATON_PIN_MODE"] = "off";  // the older app's: ignored, not even checked
  blue.labels["BATON_PIN_CACHE_CAP"] = "maybe";
  green.labels["BATON_PIN_MODE"] = " FULL ";
  green.labels["BATON_PIN_CACHE_CAP"] = "no";
  Merge m({blue, green});
  EXPECT_EQ(m.pin().mode, PinMode::Full);
  EXPECT_EQ(m.pin().cache_cap, false);
  EXPECT_TRUE(m.pinIssues().empty());
  m.input[1].labels["BATON_PIN_MODE"] = "off";
  m.input[1].labels["BATON_PIN_CACHE_CAP"] = "true";
  m.run();
  EXPECT_EQ(m.pin().mode, PinMode::Off);
  EXPECT_EQ(m.pin().cache_cap, true);
}

TEST(PinGroup, BadModeAndCacheCapAreIssues) {
  App green = colour("green", kFeb, "c2");
  green.labels["BATON_PIN_MODE"] = "sticky";
  green.labels["BATON_PIN_CACHE_CAP"] = "2";
  const Merge m({green});
  EXPECT_EQ(m.pin().mode, PinMode::Assets);
  EXPECT_FALSE(m.pin().cache_cap.has_value());
  ASSERT_EQ(m.pinIssues().size(), 2u);
  EXPECT_EQ(m.pinIssues()[0].subject, "BATON_PIN_MODE");
  EXPECT_EQ(m.pinIssues()[0].message, "\"sticky\" is not one of off, assets, full; using assets");
  EXPECT_EQ(m.pinIssues()[1].subject, "BATON_PIN_CACHE_CAP");
}

// Issue 10: the CDN version label and the limits of the hold come from the newest app, so every
// instance reads the same ones.
TEST(PinGroup, CdnVersionAndMaxFreshLabels) {
  App blue = colour("blue", kJan, "c1");
  App green = colour("green", kFeb, "c2");
  blue.labels["BATON_PIN_VERSION"] = "b1";
  green.labels["BATON_PIN_VERSION"] = "g2";
  green.labels["BATON_PIN_CDN_VERSION"] = " g2 ";
  green.labels["BATON_PIN_CDN_MAX_FRESH"] = "300";
  std::vector<conf::DiscoveryIssue> issues;
  PinGroupLabels labels = readPinGroupLabels(green, issues);
  EXPECT_EQ(labels.cdn_version, "g2");
  EXPECT_EQ(labels.cdn_max_fresh_ms, 300'000);
  green.labels["BATON_PIN_CDN_MAX_FRESH"] = "5m";
  EXPECT_EQ(readPinGroupLabels(green, issues).cdn_max_fresh_ms, 300'000);
  EXPECT_TRUE(issues.empty());
  for (const char* bad : {"-1", "1.5", "two", "400d"}) {
    green.labels["BATON_PIN_CDN_MAX_FRESH"] = bad;
    labels = readPinGroupLabels(green, issues);
    EXPECT_FALSE(labels.cdn_max_fresh_ms.has_value()) << bad;
  }
  EXPECT_EQ(issues.size(), 4u);
  green.labels["BATON_PIN_CDN_MAX_FRESH"] = "300";
  green.labels["BATON_PIN_CDN_VERSION"] = "no spaces";
  issues.clear();
  EXPECT_EQ(readPinGroupLabels(green, issues).cdn_version, "");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].subject, "BATON_PIN_CDN_VERSION");

  green.labels["BATON_PIN_CDN_VERSION"] = "b1";
  green.labels["BATON_PIN_CDN_MAX_FRESH"] = "60";
  blue.labels["BATON_PIN_CDN_VERSION"] = "g2";  // the older app's: ignored
  Merge m({blue, green});
  EXPECT_EQ(m.pin().cdn_version, "b1");
  EXPECT_EQ(m.pin().cdn_max_fresh_ms, 60'000);
  // Each version's start on Marathon's clock: STARTED_AT, else lastConfigChangeAt.
  EXPECT_EQ(m.pin().versions[0].started_ms, 1'704'067'200'000);
  EXPECT_EQ(m.pin().versions[1].started_ms, 1'706'745'600'000);
  EXPECT_TRUE(m.pinIssues().empty());
  m.input[1].labels["BATON_PIN_CDN_VERSION"] = "zz";  // names no version of the group
  m.input[0].labels.erase("HAPROXY_DEPLOYMENT_STARTED_AT");
  m.input[0].last_config_change_at = kMar;
  m.run();
  ASSERT_EQ(m.pinIssues().size(), 1u);
  EXPECT_EQ(m.pinIssues()[0].subject, "BATON_PIN_CDN_VERSION");
  EXPECT_EQ(m.pin().versions[0].started_ms, 1'709'251'200'000);
}

TEST(PinGroup, Manifest) {
  App blue = colour("blue", kJan, "c1");
  App green = colour("green", kFeb, "c2");
  blue.labels["BATON_PIN_MANIFEST"] = "/_next/build-manifest.json";
  green.labels["BATON_PIN_MANIFEST"] = "manifest.json";
  const Merge m({blue, green});
  EXPECT_EQ(m.pin().versions.at(0).manifest, "/_next/build-manifest.json");
  EXPECT_EQ(m.pin().versions.at(1).manifest, "");
  ASSERT_EQ(m.pinIssues().size(), 1u);
  EXPECT_EQ(m.pinIssues()[0].app_id, "/shop-green");
  EXPECT_EQ(m.pinIssues()[0].subject, "BATON_PIN_MANIFEST");
  EXPECT_EQ(m.pinIssues()[0].message, "path \"manifest.json\" must start with \"/\"; ignored");
}

// ---- Three or more apps ----

struct ThreeApps {
  App v1 = colour("a", kJan, "c1");  // superseded
  App v2 = colour("b", kFeb, "c2");  // the pair's old app
  App v3 = colour("c", kMar, "c3");  // the pair's new app
  ThreeApps() {
    v1.tasks = {task("v1.a", true), task("v1.b", true)};
    v2.tasks = {task("v2.a", true), task("v2.b", true)};
    v2.instances = 2;
    v3.labels["HAPROXY_DEPLOYMENT_TARGET_INSTANCES"] = "2";
  }
};

TEST(PinGroupThreeApps, EveryAppMergedAndListed) {
  ThreeApps t;
  t.v3.tasks = {task("v3.a", false)};
  const Merge m({t.v3, t.v1, t.v2});
  ASSERT_EQ(m.out.merged.size(), 1u);
  const App& merged = m.out.merged[0];
  EXPECT_EQ(merged.tasks.size(), 5u);
  EXPECT_EQ(merged.instances, 4u);
  EXPECT_EQ(merged.labels.at("HAPROXY_DEPLOYMENT_COLOUR"), "c");  // the new app's labels
  std::map<std::string, std::string> app_of;
  for (const Task& task : merged.tasks) app_of[task.id] = task.app_id;
  EXPECT_EQ(app_of.at("v1.b"), "/shop-a");
  EXPECT_EQ(app_of.at("v2.a"), "/shop-b");
  EXPECT_EQ(app_of.at("v3.a"), "/shop-c");
  std::vector<std::string> apps;
  for (const auto& v : m.pin().versions) apps.push_back(v.app_id);
  EXPECT_EQ(apps, (std::vector<std::string>{"/shop-a", "/shop-b", "/shop-c"}));
  // `show groups` describes the pair.
  EXPECT_EQ(m.out.groups.at(0),
            (conf::DeploymentGroupInfo{"shop", "/shop-b", "/shop-c", 2, 1, 0, 0, 2}));
}

// The pair's old app can serve: the superseded app is drained entirely, at once; the pair's
// drain rule is the two-app rule (nothing yet: the new app has no healthy task).
TEST(PinGroupThreeApps, SupersededAppDrainedWhileThePairServes) {
  ThreeApps t;
  t.v3.tasks = {task("v3.a", false)};
  Merge m({t.v1, t.v2, t.v3});
  EXPECT_EQ(m.out.drained, (Ids{"v1.a", "v1.b"}));
  // v3 healthy: N = min(2, 1, 1 + 2 - 2) = 1 of the pair's old tasks, as with two apps.
  m.input[2].tasks = {task("v3.a", true)};
  m.run();
  EXPECT_EQ(m.out.drained, (Ids{"v1.a", "v1.b", "v2.a"}));
  EXPECT_EQ(m.out.groups.at(0).old_drained, 1u);
  EXPECT_EQ(deploymentDrainCount(t.v2, m.input[2]), 1u);
}

// Nothing in the pair can serve: the superseded app keeps serving (no drain into an outage).
TEST(PinGroupThreeApps, SupersededAppKeptWhenThePairCannotServe) {
  ThreeApps t;
  t.v2.tasks = {task("v2.a", false)};
  t.v3.tasks = {task("v3.a", false)};
  Merge m({t.v1, t.v2, t.v3});
  EXPECT_EQ(m.out.drained, Ids{});
  // Once drained, a superseded task stays drained (sticky) even if the pair fails again.
  m.input[1].tasks = {task("v2.a", true)};
  m.run();
  EXPECT_EQ(m.out.drained, (Ids{"v1.a", "v1.b"}));
  m.input[1].tasks = {task("v2.a", false)};
  m.run();
  EXPECT_EQ(m.out.drained, (Ids{"v1.a", "v1.b"}));
}

// Without health checks any task of the pair counts as able to serve.
TEST(PinGroupThreeApps, PairWithoutHealthChecks) {
  ThreeApps t;
  t.v3.health_checks.clear();
  t.v3.tasks = {task("v3.a", false)};
  t.v2.tasks.clear();
  const Merge m({t.v1, t.v2, t.v3});
  EXPECT_EQ(m.out.drained, (Ids{"v1.a", "v1.b"}));
}

// ---- translate(): clusters, hosts, issues ----

struct Fixture {
  TranslateOptions options;
  Ids deployment_drained;
  TranslateContext context;
  Fixture() {
    options.groups = {"external"};
    context.resolve = [](std::string_view host) -> std::optional<std::string> {
      return std::string(host);
    };
    context.deployment_drained = &deployment_drained;
  }
  conf::DiscoveredSpec run(const std::vector<App>& apps) {
    return translate(apps, options, context);
  }
};

const conf::ClusterSpec& clusterNamed(const conf::DiscoveredSpec& s, std::string_view name) {
  for (const auto& c : s.clusters) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no cluster " << name;
  static const conf::ClusterSpec none;
  return none;
}

bool hasIssue(const conf::DiscoveredSpec& s, std::string_view app_id, std::string_view subject) {
  return std::any_of(s.issues.begin(), s.issues.end(), [&](const conf::DiscoveryIssue& i) {
    return i.app_id == app_id && i.subject == subject;
  });
}

// Two service ports: both clusters carry the same pin; every host names its app's version.
TEST(PinTranslate, EveryClusterOfTheGroupPinnedAndHostsVersioned) {
  Fixture f;
  App blue = colour("blue", kJan, "c1");
  App green = colour("green", kFeb, "c2");
  for (App* a : {&blue, &green}) {
    a->service_ports = {a == &blue ? uint16_t{10000} : uint16_t{10001}, 0};
    a->labels["HAPROXY_0_VHOST"] = "shop.example.com";
    a->labels["HAPROXY_1_MODE"] = "tcp";
    a->labels["HAPROXY_1_PORT"] = "10100";
  }
  green.labels["BATON_PIN_VERSION"] = "green-build";
  blue.tasks = {task("shop-blue.a", true, "10.0.0.1")};
  green.tasks = {task("shop-green.a", true, "10.0.0.2"), task("shop-green.b", true, "10.0.0.3")};
  for (Task* t : {&blue.tasks[0], &green.tasks[0], &green.tasks[1]}) {
    t->endpoints.push_back({t->host, 32000});
    t->app_id = "";  // a document without appId: the merge stamps it
  }
  App plain = colour("plain", "", "c0");
  plain.id = "/plain";
  plain.labels.erase("HAPROXY_DEPLOYMENT_GROUP");
  plain.service_ports = {10200};
  plain.tasks = {task("plain.a", true, "10.0.0.9")};
  const conf::DiscoveredSpec s = f.run({green, plain, blue});
  const std::string blue_id = derivedVersionId("/shop-blue", "c1");
  for (const char* name : {"shop_10000", "shop_10100"}) {
    const conf::ClusterSpec& c = clusterNamed(s, name);
    ASSERT_TRUE(c.pin.has_value()) << name;
    EXPECT_EQ(c.pin->group, "shop");
    EXPECT_EQ(withoutTimes(c.pin->versions),
              (std::vector<PinVersionSpec>{{blue_id, "/shop-blue", "blue", ""},
                                           {"green-build", "/shop-green", "green", ""}}));
    ASSERT_EQ(c.hosts.size(), 3u) << name;
    EXPECT_EQ(c.hosts[0].task_id, "shop-blue.a");
    EXPECT_EQ(c.hosts[0].version, blue_id);
    EXPECT_EQ(c.hosts[1].version, "green-build");
    EXPECT_EQ(c.hosts[2].version, "green-build");
  }
  const conf::ClusterSpec& other = clusterNamed(s, "plain_10200");
  EXPECT_FALSE(other.pin.has_value());
  EXPECT_EQ(other.hosts.at(0).version, "");
  EXPECT_EQ(s, f.run({blue, green, plain}));  // deterministic
}

// Pin label issues: reported for served groups, under the app that carries the label; the
// BATON_PIN_* labels are never "unknown".
TEST(PinTranslate, IssuesOnlyForServedGroups) {
  Fixture f;
  App blue = colour("blue", kJan, "c1");
  App green = colour("green", kFeb, "c2");
  blue.labels["BATON_PIN_VERSION"] = "bad id";
  green.labels["BATON_PIN_VERSION"] = "v2";
  green.labels["BATON_PIN_MODE"] = "full";
  green.labels["BATON_PIN_MANIFEST"] = "/m.json";
  green.labels["BATON_PIN_CACHE_CAP"] = "false";
  conf::DiscoveredSpec s = f.run({blue, green});
  EXPECT_TRUE(hasIssue(s, "/shop-blue", "BATON_PIN_VERSION"));
  EXPECT_EQ(s.issues.size(), 1u) << s.issues.at(0).text();
  EXPECT_EQ(s.clusters.at(0).pin->mode, PinMode::Full);
  // Another load balancer's group: nothing reported here.
  f.options.groups = {"internal"};
  s = f.run({blue, green});
  EXPECT_TRUE(s.issues.empty());
  EXPECT_TRUE(s.clusters.empty());
}

TEST(PinLabels, KnownOnGroupsIgnoredWithAnIssueElsewhere) {
  App grouped = colour("blue", kJan, "c1");
  for (const char* l :
       {"BATON_PIN_VERSION", "BATON_PIN_MODE", "BATON_PIN_MANIFEST", "BATON_PIN_CACHE_CAP"}) {
    grouped.labels[l] = "x";
  }
  std::vector<conf::DiscoveryIssue> issues;
  checkAppLabels(grouped, issues);
  EXPECT_TRUE(issues.empty()) << issues.at(0).text();
  App plain = grouped;
  plain.labels.erase("HAPROXY_DEPLOYMENT_GROUP");
  checkAppLabels(plain, issues);
  ASSERT_EQ(issues.size(), 4u);
  for (const auto& issue : issues) {
    EXPECT_EQ(issue.message,
              "asset pinning applies to deployment groups (HAPROXY_DEPLOYMENT_GROUP) only; label "
              "ignored");
  }
  issues.clear();
  grouped.labels["BATON_PIN_COLOR"] = "x";
  checkAppLabels(grouped, issues);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].message, "unknown baton label; ignored");
}

}  // namespace
}  // namespace baton::discovery
