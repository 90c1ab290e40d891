#include "discovery/model/deployment_group.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>

#include "discovery/model/labels.h"
#include "routing/pinning.h"

namespace baton::discovery {
namespace {

constexpr const char* kGroupLabel = "HAPROXY_DEPLOYMENT_GROUP";

std::string label(const App& app, const std::string& key) {
  const auto it = app.labels.find(key);
  return it == app.labels.end() ? std::string() : it->second;
}

std::optional<int64_t> intLabel(const App& app, const std::string& key) {
  const std::string v = label(app, key);
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

bool alive(const Task& task) {
  return std::any_of(task.health.begin(), task.health.end(),
                     [](const HealthCheckResult& r) { return r.alive; });
}

// Returns {old, new} for two apps of one group (ISO-8601 timestamps compare as strings).
std::pair<const App*, const App*> orderPair(const App& prev, const App& cur) {
  const std::string prev_at = label(prev, "HAPROXY_DEPLOYMENT_STARTED_AT");
  const std::string cur_at = label(cur, "HAPROXY_DEPLOYMENT_STARTED_AT");
  const App* old_app = &cur;
  const App* new_app = &prev;
  if (prev_at < cur_at) std::swap(old_app, new_app);
  if (intLabel(*new_app, "HAPROXY_DEPLOYMENT_NEW_INSTANCES").value_or(0) > 0 &&
      old_app->last_scaling_at > new_app->last_scaling_at) {
    std::swap(old_app, new_app);
  }
  return {old_app, new_app};
}

// The old tasks to drain now: those drained before and still listed count towards N.
void drainOld(const App& old_app, const App& new_app, const std::unordered_set<std::string>* sticky,
              std::unordered_set<std::string>& drained) {
  std::vector<const Task*> old_tasks;
  for (const Task& t : old_app.tasks) old_tasks.push_back(&t);
  std::sort(old_tasks.begin(), old_tasks.end(),
            [](const Task* a, const Task* b) { return a->id < b->id; });
  uint32_t remaining = deploymentDrainCount(old_app, new_app);
  for (const Task* t : old_tasks) {
    if (sticky != nullptr && sticky->contains(t->id)) remaining -= remaining > 0 ? 1 : 0;
  }
  for (const Task* t : old_tasks) {
    if (remaining == 0) break;
    if (sticky != nullptr && sticky->contains(t->id)) continue;
    drained.insert(t->id);
    --remaining;
  }
}

// One group while it is being merged: the app so far and what `show groups` reports of it.
struct GroupState {
  App app;
  conf::DeploymentGroupInfo info;
  std::vector<std::string> old_ids;  // old-colour task ids (old_drained is counted at the end)
};

int64_t healthyNew(const App& new_app) {
  if (new_app.health_checks.empty()) return new_app.instances;
  return std::count_if(new_app.tasks.begin(), new_app.tasks.end(), alive);
}

uint32_t targetInstances(const App& new_app) {
  const int64_t target = intLabel(new_app, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES").value_or(1);
  return static_cast<uint32_t>(std::clamp<int64_t>(target, 0, UINT32_MAX));
}

// The first (or only) colour of a group: everything is "new", nothing drained.
GroupState startGroup(const std::string& group, const App& app) {
  GroupState g{app, {}, {}};
  for (Task& t : g.app.tasks) t.app_id = app.id;  // as mergedApp() does
  g.info.group = group;
  g.info.new_app = app.id;
  g.info.new_tasks = static_cast<uint32_t>(app.tasks.size());
  g.info.new_healthy = static_cast<uint32_t>(healthyNew(app));
  g.info.target = targetInstances(app);
  return g;
}

std::string startedAt(const App& app) {
  return label(app, "HAPROXY_DEPLOYMENT_STARTED_AT");
}

// The version's start on Marathon's clock, the same for every instance: its
// HAPROXY_DEPLOYMENT_STARTED_AT (zdd stamps it when the deploy begins), else
// versionInfo.lastConfigChangeAt; 0 when neither parses.
int64_t versionStartedMs(const App& app) {
  if (auto at = routing::pin::parseMarathonTimeMs(startedAt(app))) return *at;
  if (auto at = routing::pin::parseMarathonTimeMs(app.last_config_change_at)) return *at;
  return 0;
}

// Version order (deployment_group.h), oldest first: a total order on (started, config, id).
bool olderVersion(const App* a, const App* b) {
  const std::string a_at = startedAt(*a);
  const std::string b_at = startedAt(*b);
  return std::tie(a_at, a->last_config_change_at, a->id) <
         std::tie(b_at, b->last_config_change_at, b->id);
}

// Can the app serve? A task with an alive result, or any task when it has no health checks.
bool anyHealthy(const App& app) {
  if (app.health_checks.empty()) return !app.tasks.empty();
  return std::any_of(app.tasks.begin(), app.tasks.end(), alive);
}

// The merged app: the new app's labels, health checks and ports; every app's tasks, each
// stamped with the id of the app it came from (the version it runs).
App mergedApp(const App& new_app, const std::vector<const App*>& ordered) {
  App merged = new_app;
  merged.instances = 0;
  merged.deploying = false;
  merged.tasks.clear();
  for (const App* app : ordered) {
    merged.instances += app->instances;
    merged.deploying = merged.deploying || app->deploying;
    for (const Task& t : app->tasks) {
      merged.tasks.push_back(t);
      merged.tasks.back().app_id = app->id;
    }
  }
  return merged;
}

// A group of two or more apps (`members` by app id): the drain rule on the two newest, the
// older ones superseded (deployment_group.h).
GroupState mergeGroup(const std::string& group, const std::vector<const App*>& members,
                      const std::vector<const App*>& ordered,
                      const std::unordered_set<std::string>* sticky,
                      std::unordered_set<std::string>& drained) {
  const App* a = ordered[ordered.size() - 2];
  const App* b = ordered.back();
  if (b->id < a->id) std::swap(a, b);  // argument order by app id, as with two apps
  const auto [old_app, new_app] = orderPair(*a, *b);
  drainOld(*old_app, *new_app, sticky, drained);
  if (anyHealthy(*old_app) || anyHealthy(*new_app)) {
    for (const App* app : members) {
      if (app == old_app || app == new_app) continue;
      for (const Task& t : app->tasks) drained.insert(t.id);
    }
  }
  GroupState g{mergedApp(*new_app, ordered), {}, {}};
  g.info = conf::DeploymentGroupInfo{group,
                                     old_app->id,
                                     new_app->id,
                                     static_cast<uint32_t>(old_app->tasks.size()),
                                     static_cast<uint32_t>(new_app->tasks.size()),
                                     0,
                                     static_cast<uint32_t>(healthyNew(*new_app)),
                                     targetInstances(*new_app)};
  for (const Task& t : old_app->tasks) g.old_ids.push_back(t.id);
  return g;
}

// The group's versions for asset pinning (`ordered`: version order).
GroupPin pinGroup(const std::string& group, const std::vector<const App*>& ordered) {
  GroupPin pin;
  pin.spec.group = group;
  const PinGroupLabels labels = readPinGroupLabels(*ordered.back(), pin.issues);
  pin.spec.mode = labels.mode;
  pin.spec.cache_cap = labels.cache_cap;
  pin.spec.cdn_version = labels.cdn_version;
  pin.spec.cdn_max_fresh_ms = labels.cdn_max_fresh_ms.value_or(-1);
  for (const App* app : ordered) {
    PinVersionLabels v = readPinVersionLabels(*app, pin.issues);
    std::string id = v.version.empty()
                         ? routing::pin::derivedVersionId(app->id, app->last_config_change_at)
                         : std::move(v.version);
    pin.app_versions[app->id] = id;
    const auto& versions = pin.spec.versions;
    if (std::any_of(versions.begin(), versions.end(),
                    [&](const conf::PinVersionSpec& known) { return known.id == id; })) {
      continue;  // the same build again: one version
    }
    pin.spec.versions.push_back(conf::PinVersionSpec{
        std::move(id), app->id, label(*app, "HAPROXY_DEPLOYMENT_COLOUR"), std::move(v.manifest)});
    pin.spec.versions.back().started_ms = versionStartedMs(*app);
  }
  if (!labels.cdn_version.empty() &&
      std::none_of(pin.spec.versions.begin(), pin.spec.versions.end(),
                   [&](const conf::PinVersionSpec& v) { return v.id == labels.cdn_version; })) {
    pin.issues.push_back(
        conf::DiscoveryIssue{ordered.back()->id, "BATON_PIN_CDN_VERSION",
                             "no version of group " + group + " is \"" + labels.cdn_version +
                                 "\"; the CDN version follows baton's rule until one is"});
  }
  return pin;
}

// Renames to "/<group>" and pins service port 0 to HAPROXY_0_PORT (zdd's original port).
void finishMerged(App& app, const std::string& group, std::vector<conf::DiscoveryIssue>& issues) {
  app.id = group.starts_with('/') ? group : "/" + group;
  if (!app.labels.contains("HAPROXY_0_PORT") || app.service_ports.empty()) return;
  const auto port = intLabel(app, "HAPROXY_0_PORT");
  if (!port || *port <= 0 || *port > 65535) {
    issues.push_back({app.id, "HAPROXY_0_PORT", "not a port number; service port kept"});
    return;
  }
  app.service_ports[0] = static_cast<uint16_t>(*port);
}

// Only the (few) sticky ids are looked up: no set of every task id is built.
void updateSticky(const std::vector<const App*>& apps,
                  const std::unordered_set<std::string>& drained,
                  std::unordered_set<std::string>& sticky) {
  std::unordered_set<std::string> present;
  if (!sticky.empty()) {
    for (const App* app : apps) {
      for (const Task& t : app->tasks) {
        if (sticky.contains(t.id)) present.insert(t.id);
      }
    }
  }
  std::erase_if(sticky, [&](const std::string& id) { return !present.contains(id); });
  sticky.insert(drained.begin(), drained.end());
}

}  // namespace

uint32_t deploymentDrainCount(const App& old_app, const App& new_app) {
  const int64_t healthy_new = healthyNew(new_app);
  const int64_t target = intLabel(new_app, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES").value_or(1);
  const int64_t drainable = std::max<int64_t>(0, healthy_new + old_app.instances - target);
  const int64_t n = std::min({static_cast<int64_t>(old_app.tasks.size()), healthy_new, drainable});
  return static_cast<uint32_t>(std::max<int64_t>(0, n));
}

DeploymentMerge mergeDeploymentGroups(const std::vector<const App*>& apps,
                                      std::unordered_set<std::string>* sticky,
                                      std::vector<conf::DiscoveryIssue>& issues) {
  DeploymentMerge out;
  std::map<std::string, std::vector<const App*>> members;  // ordered: deterministic output
  for (const App* app : apps) {
    const std::string group = label(*app, kGroupLabel);
    if (group.empty()) {
      out.others.push_back(app);
      continue;
    }
    members[group].push_back(app);
  }
  std::map<std::string, GroupState> groups;
  for (const auto& [group, list] : members) {
    std::vector<const App*> ordered = list;
    std::sort(ordered.begin(), ordered.end(), olderVersion);
    out.pins.push_back(pinGroup(group, ordered));
    if (list.size() == 1) {
      groups.emplace(group, startGroup(group, *list.front()));
    } else {
      groups.emplace(group, mergeGroup(group, list, ordered, sticky, out.drained));
    }
  }
  if (sticky != nullptr) {
    updateSticky(apps, out.drained, *sticky);
    out.drained.insert(sticky->begin(), sticky->end());
  }
  for (auto& [group, g] : groups) {
    finishMerged(g.app, group, issues);
    g.info.old_drained = static_cast<uint32_t>(
        std::count_if(g.old_ids.begin(), g.old_ids.end(),
                      [&](const std::string& id) { return out.drained.contains(id); }));
    out.merged.push_back(std::move(g.app));
    out.groups.push_back(std::move(g.info));
  }
  return out;
}

}  // namespace baton::discovery
