#include "discovery/model/deployment_group.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

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

App mergePair(const App& prev, const App& cur, const std::unordered_set<std::string>* sticky,
              std::unordered_set<std::string>& drained) {
  const auto [old_app, new_app] = orderPair(prev, cur);
  drainOld(*old_app, *new_app, sticky, drained);
  App merged = *new_app;
  merged.instances = old_app->instances + new_app->instances;
  merged.deploying = old_app->deploying || new_app->deploying;
  merged.tasks = old_app->tasks;
  merged.tasks.insert(merged.tasks.end(), new_app->tasks.begin(), new_app->tasks.end());
  return merged;
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
  int64_t healthy_new = 0;
  if (new_app.health_checks.empty()) {
    healthy_new = new_app.instances;
  } else {
    healthy_new = std::count_if(new_app.tasks.begin(), new_app.tasks.end(), alive);
  }
  const int64_t target = intLabel(new_app, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES").value_or(1);
  const int64_t drainable = std::max<int64_t>(0, healthy_new + old_app.instances - target);
  const int64_t n = std::min({static_cast<int64_t>(old_app.tasks.size()), healthy_new, drainable});
  return static_cast<uint32_t>(std::max<int64_t>(0, n));
}

DeploymentMerge mergeDeploymentGroups(const std::vector<const App*>& apps,
                                      std::unordered_set<std::string>* sticky,
                                      std::vector<conf::DiscoveryIssue>& issues) {
  DeploymentMerge out;
  std::map<std::string, App> groups;  // ordered: deterministic output
  for (const App* app : apps) {
    const std::string group = label(*app, kGroupLabel);
    if (group.empty()) {
      out.others.push_back(app);
      continue;
    }
    auto it = groups.find(group);
    if (it == groups.end()) {
      groups.emplace(group, *app);
    } else {
      it->second = mergePair(it->second, *app, sticky, out.drained);
    }
  }
  for (auto& [group, app] : groups) {
    finishMerged(app, group, issues);
    out.merged.push_back(std::move(app));
  }
  if (sticky != nullptr) {
    updateSticky(apps, out.drained, *sticky);
    out.drained.insert(sticky->begin(), sticky->end());
  }
  return out;
}

}  // namespace baton::discovery
