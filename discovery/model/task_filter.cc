#include "discovery/model/task_filter.h"

#include <algorithm>

namespace baton::discovery {

bool isRoutable(TaskState state) {
  switch (state) {
    case TaskState::Running:
    case TaskState::Lost:
    case TaskState::Unreachable:
      return true;
    case TaskState::Staging:
    case TaskState::Starting:
    case TaskState::Killing:
    case TaskState::Finished:
    case TaskState::Failed:
    case TaskState::Killed:
    case TaskState::Error:
    case TaskState::Dropped:
    case TaskState::Gone:
    case TaskState::GoneByOperator:
    case TaskState::Unknown:
      return false;
  }
  return false;
}

HealthCache::HealthCache(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
  map_.reserve(std::min(capacity_, kDefaultCapacity));
}

bool HealthCache::passes(const App& app, const Task& task) {
  if (app.health_checks.empty()) return true;
  if (task.health.empty()) {
    const bool* cached = lookup(task.id);
    return cached != nullptr && *cached;
  }
  bool alive = std::ranges::any_of(task.health, [](const HealthCheckResult& r) { return r.alive; });
  store(task.id, alive);
  return alive;
}

const bool* HealthCache::lookup(std::string_view task_id) {
  auto it = map_.find(task_id);
  if (it == map_.end()) return nullptr;
  // A read refreshes the entry: a task still listed in Marathon's documents stays cached.
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->second;
}

void HealthCache::store(std::string_view task_id, bool verdict) {
  if (auto it = map_.find(task_id); it != map_.end()) {
    it->second->second = verdict;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  if (map_.size() >= capacity_) {
    map_.erase(std::string_view(lru_.back().first));  // before the node owning the key goes
    lru_.pop_back();
  }
  lru_.emplace_front(std::string(task_id), verdict);
  map_.emplace(lru_.front().first, lru_.begin());
}

}  // namespace baton::discovery
