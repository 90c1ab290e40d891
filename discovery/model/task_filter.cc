#include "discovery/model/task_filter.h"

#include <algorithm>
#include <utility>

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

namespace {

bool anyAlive(const Task& task) {
  return std::ranges::any_of(task.health, [](const HealthCheckResult& r) { return r.alive; });
}

// The task of `app` with id `id`, if any. An app's tasks are few, except while a large app has
// lost its results (a failover): then a map per app, not a scan per task.
class TaskFinder {
 public:
  explicit TaskFinder(const App& app) : app_(app) {
    if (app.tasks.size() <= kScanUpTo) return;
    by_id_.reserve(app.tasks.size());
    for (const Task& t : app.tasks) by_id_.emplace(t.id, &t);
  }
  const Task* find(std::string_view id) const {
    if (app_.tasks.size() <= kScanUpTo) {
      for (const Task& t : app_.tasks) {
        if (t.id == id) return &t;
      }
      return nullptr;
    }
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
  }

 private:
  static constexpr size_t kScanUpTo = 32;
  const App& app_;
  std::unordered_map<std::string_view, const Task*> by_id_;
};

}  // namespace

std::optional<bool> HealthVerdicts::verdictOf(const Task& task) const {
  if (!task.health.empty()) return anyAlive(task);
  const auto it = carried_.find(task.id);
  if (it == carried_.end()) return std::nullopt;
  return it->second;
}

void HealthVerdicts::carryOver(std::span<const std::shared_ptr<const App>> previous,
                               std::span<const std::shared_ptr<const App>> next) {
  std::unordered_map<std::string, bool> carried;
  std::unordered_map<std::string_view, const App*> previous_by_id;  // built on first need
  for (const auto& app : next) {
    if (app->health_checks.empty()) continue;
    std::optional<TaskFinder> before;
    for (const Task& task : app->tasks) {
      if (!task.health.empty()) continue;
      if (!before) {
        if (previous_by_id.empty()) {
          for (const auto& p : previous) previous_by_id.emplace(p->id, p.get());
        }
        const auto it = previous_by_id.find(app->id);
        if (it == previous_by_id.end()) break;  // a new app: nothing to carry
        before.emplace(*it->second);
      }
      const Task* was = before->find(task.id);
      if (was == nullptr) continue;
      if (const auto verdict = verdictOf(*was)) carried.emplace(task.id, *verdict);
    }
  }
  carried_ = std::move(carried);
}

bool HealthVerdicts::passes(const App& app, const Task& task) const {
  if (app.health_checks.empty()) return true;
  return verdictOf(task).value_or(false);
}

}  // namespace baton::discovery
