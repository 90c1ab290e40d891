#include "discovery/manager.h"

#include <chrono>
#include <set>
#include <utility>

#include "discovery/model/parse_apps.h"
#include "discovery/state_store.h"
#include "proxy/core/clock.h"
#include "proxy/core/log.h"

namespace baton::discovery {

namespace {

// A suspicious document (empty, or most tasks gone at once) is applied only when the next
// resync, this long after, says the same: a Marathon hiccup must not empty the edge.
constexpr std::chrono::milliseconds kConfirmDelay{1000};
// Below this many tasks a large relative drop is normal operation (scaling 4 -> 1).
constexpr size_t kMinTasksForDropRule = 10;

size_t countTasks(const SharedApps& apps) {
  size_t n = 0;
  for (const auto& app : apps) n += app->tasks.size();
  return n;
}

TranslateOptions optionsFrom(const conf::MarathonSpec& spec, std::string self_app_id) {
  TranslateOptions options;
  options.groups = spec.groups;
  options.strict_mode = spec.strict_mode;
  options.domain = spec.domain;
  options.bind_address = spec.bind_address;
  options.http_port = spec.http_port;
  options.app_id_port = spec.app_id_port;
  options.https_port = spec.https_port;
  options.bind_service_ports = spec.bind_service_ports;
  options.self_app_id = std::move(self_app_id);
  return options;
}

}  // namespace

DiscoveryManager::DiscoveryManager(core::EventLoop& loop, conf::MarathonSpec spec,
                                   std::string self_app_id, SpecCallback on_spec)
    : loop_(loop),
      spec_(std::move(spec)),
      options_(optionsFrom(spec_, std::move(self_app_id))),
      on_spec_(std::move(on_spec)),
      confirm_timer_(loop, [this] {
        if (source_) source_->resync();
      }) {}

DiscoveryManager::~DiscoveryManager() = default;

core::Result<void> DiscoveryManager::start() {
  resolver_ = std::make_unique<HostResolver>(loop_);
  if (!spec_.state_file.empty()) {
    auto saved = loadState(spec_.state_file);
    if (saved) {
      auto apps = parser_.parseShared(*saved);
      if (apps) {
        core::logf(core::LogLevel::Info, "discovery: starting from saved state %s (%zu apps)",
                   spec_.state_file.c_str(), apps->size());
        acceptApps(std::move(*apps), *saved, /*from_disk=*/true);
      } else {
        core::logf(core::LogLevel::Warn, "discovery: ignoring saved state %s: %s",
                   spec_.state_file.c_str(), apps.error().detail.c_str());
      }
    } else if (saved.error().code != core::ErrorCode::ConfigIo) {
      core::logf(core::LogLevel::Warn, "discovery: ignoring saved state %s: %s",
                 spec_.state_file.c_str(), saved.error().detail.c_str());
    }
  }
  Source::Callbacks callbacks;
  callbacks.on_document = [this](std::string body) { onDocument(std::move(body)); };
  callbacks.on_task_ending = [this](const std::string& task_id, const std::string& app_id) {
    onTaskEnding(task_id, app_id);
  };
  callbacks.on_error = [this](const std::string& error) { onSourceError(error); };
  auto source = createSource(loop_, spec_, std::move(callbacks));
  if (!source) return core::fail(std::move(source.error()));
  source_ = std::move(*source);
  source_->start();
  return {};
}

void DiscoveryManager::resync() {
  if (source_) source_->resync();
}

DiscoveryStatus DiscoveryManager::status() const {
  DiscoveryStatus out = status_;
  if (source_) out.source = source_->status();
  out.holding = holding_;
  return out;
}

int64_t DiscoveryManager::stalenessMs() const {
  if (status_.last_applied_unix_ms == 0) return -1;
  return core::unixNowMs() - status_.last_applied_unix_ms;
}

static double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void DiscoveryManager::onDocument(std::string body) {
  const auto start = std::chrono::steady_clock::now();
  auto apps = parser_.parseShared(body);
  status_.last_parse_ms = msSince(start);
  if (!apps) {
    refuse("invalid app document: " + apps.error().detail);
  } else if (!shouldHold(*apps)) {
    acceptApps(std::move(*apps), body, /*from_disk=*/false);
  }
  if (source_) source_->recycle(std::move(body));
}

bool DiscoveryManager::shouldHold(const SharedApps& apps) {
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
  held_task_count_ = next;
  refuse(emptied ? "empty app list after a non-empty one: held until a resync confirms it"
                 : "task count fell from " + std::to_string(current) + " to " +
                       std::to_string(next) + ": held until a resync confirms it");
  confirm_timer_.arm(kConfirmDelay);
  return true;
}

void DiscoveryManager::acceptApps(SharedApps apps, const std::string& body, bool from_disk) {
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
  status_.from_state_file = from_disk;
  status_.apps = apps_.size();
  status_.tasks = countTasks(apps_);
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

  // Agent host names are resolved off the loop's critical path before translating; numeric
  // addresses (the usual case) need no lookup.
  std::set<std::string> names;
  for (const auto& app : apps_) {
    for (const auto& task : app->tasks) {
      for (const auto& endpoint : task.endpoints) {
        if (endpoint.ipv4 || endpoint.host.empty()) continue;
        if (!isNumericAddress(endpoint.host)) names.insert(endpoint.host);
      }
    }
  }
  const uint64_t round = ++resolve_round_;
  if (names.empty()) {
    publish();
    return;
  }
  resolver_->resolveAll(std::vector<std::string>(names.begin(), names.end()), [this, round] {
    if (round == resolve_round_) publish();  // else a newer document is being resolved
  });
}

void DiscoveryManager::publish() {
  TranslateContext context;
  context.resolve = [this](std::string_view host) { return resolver_->lookup(host); };
  context.include = [this](const App& app, const Task& task) {
    if (!isRoutable(task.state)) return false;
    return !spec_.health_check || health_.passes(app, task);
  };
  context.draining = &killing_;
  context.deployment_drained = &deployment_drained_;
  context.cache = &translate_cache_;
  const auto start = std::chrono::steady_clock::now();
  auto spec = std::make_shared<conf::DiscoveredSpec>(translate(apps_, options_, context));
  status_.last_translate_ms = msSince(start);
  reclaimer_.dispose(std::move(translate_cache_.retired));
  reclaimer_.dispose(std::move(translate_cache_.retired_work));

  // Log issues once each, when they first appear; status keeps the full list.
  std::set<std::string> before;
  for (const auto& issue : status_.issues) before.insert(issue.text());
  for (const auto& issue : spec->issues) {
    if (!before.contains(issue.text())) {
      core::logf(core::LogLevel::Warn, "discovery: %s", issue.text().c_str());
    }
  }
  status_.issues = spec->issues;
  ++status_.documents_applied;
  status_.last_applied_unix_ms = core::unixNowMs();
  on_spec_(std::move(spec));
}

void DiscoveryManager::onTaskEnding(const std::string& task_id, const std::string&) {
  bool known = false;
  for (const auto& app : apps_) {
    for (const auto& task : app->tasks) known = known || task.id == task_id;
  }
  if (!known || !killing_.insert(task_id).second) return;
  core::logf(core::LogLevel::Info, "discovery: draining task %s (ending)", task_id.c_str());
  publish();
}

void DiscoveryManager::onSourceError(const std::string& error) {
  core::logf(core::LogLevel::Warn, "discovery: %s (keeping the last good state)", error.c_str());
}

void DiscoveryManager::refuse(const std::string& why) {
  ++status_.documents_refused;
  status_.last_refusal = why;
  core::logf(core::LogLevel::Warn, "discovery: refused: %s (keeping the last good state)",
             why.c_str());
}

}  // namespace baton::discovery
