#include "discovery/pipeline.h"

#include <chrono>
#include <functional>
#include <set>
#include <string_view>
#include <utility>

#include "discovery/host_resolver.h"
#include "discovery/state_store.h"
#include "proxy/core/log.h"

namespace baton::discovery {

namespace {

// Below this many tasks a large relative drop is normal operation (scaling 4 -> 1).
constexpr size_t kMinTasksForDropRule = 10;

size_t countTasks(const SharedApps& apps) {
  size_t n = 0;
  for (const auto& app : apps) n += app->tasks.size();
  return n;
}

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Agent host names of the apps' tasks (sorted, once each); numeric addresses need no lookup.
std::vector<std::string> hostNames(const SharedApps& apps) {
  std::set<std::string_view> names;
  for (const auto& app : apps) {
    for (const auto& task : app->tasks) {
      for (const auto& endpoint : task.endpoints) {
        if (endpoint.ipv4 || endpoint.host.empty()) continue;
        if (!isNumericAddress(endpoint.host)) names.insert(endpoint.host);
      }
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace

DiscoveryPipeline::DiscoveryPipeline(conf::MarathonSpec spec, TranslateOptions options,
                                     core::Reclaimer& reclaimer)
    : spec_(std::move(spec)), options_(std::move(options)), reclaimer_(reclaimer) {}

DiscoveryPipeline::~DiscoveryPipeline() = default;

PipelineStep DiscoveryPipeline::document(std::string body, bool from_disk) {
  PipelineStep step;
  const auto start = std::chrono::steady_clock::now();
  auto apps = parser_.parseShared(body);
  step.parse_ms = msSince(start);
  if (cancelled_.load(std::memory_order_relaxed)) return step;
  if (!apps) {
    if (from_disk) {
      core::logf(core::LogLevel::Warn, "discovery: ignoring saved state %s: %s",
                 spec_.state_file.c_str(), apps.error().detail.c_str());
    } else {
      step.refusal = "invalid app document: " + apps.error().detail;
    }
  } else if (from_disk) {
    core::logf(core::LogLevel::Info, "discovery: starting from saved state %s (%zu apps)",
               spec_.state_file.c_str(), apps->size());
    accept(std::move(*apps), body, /*from_disk=*/true, step);
  } else if (!shouldHold(*apps, step)) {
    accept(std::move(*apps), body, /*from_disk=*/false, step);
  }
  step.holding = holding_;
  step.body = std::move(body);
  return step;
}

// Whole-document safety rule: refuse an empty or mostly-empty document until it persists.
bool DiscoveryPipeline::shouldHold(const SharedApps& apps, PipelineStep& step) {
  const size_t current = countTasks(apps_);
  const size_t next = countTasks(apps);
  const bool emptied = !apps_.empty() && apps.empty();
  const bool collapsed = current >= kMinTasksForDropRule && next * 2 < current;
  if (!emptied && !collapsed) {
    holding_ = false;
    return false;
  }
  if (holding_) {
    // The previous resync said the same: it is real (an operator scaled everything down).
    holding_ = false;
    core::logf(core::LogLevel::Info, "discovery: %zu -> %zu tasks confirmed by a second resync",
               current, next);
    return false;
  }
  holding_ = true;
  step.hold = true;
  step.refusal = emptied ? "empty app list after a non-empty one: held until a resync confirms it"
                         : "task count fell from " + std::to_string(current) + " to " +
                               std::to_string(next) + ": held until a resync confirms it";
  return true;
}

void DiscoveryPipeline::accept(SharedApps apps, const std::string& body, bool from_disk,
                               PipelineStep& step) {
  if (spec_.health_check) health_.carryOver(apps_, apps);
  reclaimer_.dispose(std::exchange(apps_, std::move(apps)));
  // Fast-path drains end when the task is gone from Marathon.
  if (!killing_.empty()) {
    std::unordered_set<std::string_view> present;
    for (const auto& app : apps_) {
      for (const auto& task : app->tasks) present.insert(task.id);
    }
    std::erase_if(killing_, [&](const std::string& id) { return !present.contains(id); });
  }
  step.accepted = true;
  step.from_disk = from_disk;
  step.apps = apps_.size();
  step.tasks = countTasks(apps_);
  if (!from_disk && !spec_.state_file.empty()) {
    const uint64_t hash = std::hash<std::string_view>{}(body);
    if (hash != last_body_hash_) {
      auto saved = saveState(spec_.state_file, body);
      if (!saved) {
        core::logf(core::LogLevel::Error, "discovery: could not save state: %s",
                   saved.error().detail.c_str());
      } else {
        last_body_hash_ = hash;
      }
    }
  }
  // Agent host names are resolved on the control thread's loop before translating; numeric
  // addresses (the usual case) need no lookup.
  step.round = ++resolve_round_;
  step.resolve = hostNames(apps_);
  if (step.resolve.empty()) {
    lookups_.clear();
    translateInto(step);
  }
}

PipelineStep DiscoveryPipeline::resolved(uint64_t round, HostLookups lookups) {
  PipelineStep step;
  step.holding = holding_;
  if (round != resolve_round_) return step;  // a newer document is being resolved
  lookups_ = std::move(lookups);
  translateInto(step);
  return step;
}

PipelineStep DiscoveryPipeline::taskEnding(std::vector<std::string> task_ids) {
  PipelineStep step;
  step.holding = holding_;
  std::unordered_set<std::string_view> known;
  for (const auto& app : apps_) {
    for (const auto& task : app->tasks) known.insert(task.id);
  }
  bool any = false;
  for (const std::string& id : task_ids) {
    if (known.contains(id) && killing_.insert(id).second) any = true;
  }
  step.ended_tasks = std::move(task_ids);
  if (any) translateInto(step);
  return step;
}

std::optional<std::string> DiscoveryPipeline::lookup(std::string_view host) const {
  if (isNumericAddress(host)) return std::string(host);
  const auto found = lookups_.find(std::string(host));
  if (found == lookups_.end()) return std::nullopt;
  return found->second;
}

void DiscoveryPipeline::translateInto(PipelineStep& step) {
  if (cancelled_.load(std::memory_order_relaxed)) return;
  TranslateContext context;
  context.resolve = [this](std::string_view host) { return lookup(host); };
  context.include = [this](const App& app, const Task& task) {
    if (!isRoutable(task.state)) return false;
    return !spec_.health_check || health_.passes(app, task);
  };
  context.draining = &killing_;
  context.deployment_drained = &deployment_drained_;
  context.cache = &translate_cache_;
  const auto start = std::chrono::steady_clock::now();
  step.spec = std::make_shared<conf::DiscoveredSpec>(translate(apps_, options_, context));
  step.translate_ms = msSince(start);
  reclaimer_.dispose(std::move(translate_cache_.retired));
  reclaimer_.dispose(std::move(translate_cache_.retired_work));
}

}  // namespace baton::discovery
