// Which Marathon tasks may receive traffic (marathon.md §1.4 task states, §4.3 health).
//
// translate.h calls isRoutable() and, when `[marathon] health_check` is on,
// HealthVerdicts::passes() once per task and service port, on the control thread; the discovery
// manager calls HealthVerdicts::carryOver() with each document it accepts. The verdicts live as
// long as the manager (across documents), which is the whole point: see HealthVerdicts.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "discovery/model/app.h"

namespace baton::discovery {

// marathon-lb's rule (EXCLUDED_TASK_STATES): Running, Lost and Unreachable are routable — a
// partitioned task may still be serving — and every other state, Unknown included, is not.
bool isRoutable(TaskState state);

// Marathon's health filter with the last known verdict of each task, as marathon-lb's
// `--health-check` (PR #148).
//
// Why remember: Marathon keeps health-check results only in memory, so after a leader failover
// every task comes back with NO healthCheckResults until its next check runs (up to
// intervalSeconds later). Trusting that literally empties every backend of every app with health
// checks at once (marathon/issues/3419, #4220). A task without results keeps the verdict it had
// in the previous accepted document: from that document's results, or carried there in turn, for
// as many documents as the results stay missing.
//
// carryOver() works that out when a document is accepted, visiting only the tasks without
// results (between failovers: none), so a resync's per-task cost is reading the task's own
// results: no table of 100,000 task ids to probe and refresh on every resync, and nothing to
// outgrow (the LRU this replaced was sized for 100,000 tasks). A task missing from the previous
// document has nothing to carry and is excluded until its first check, as a new task should be.
//
// Not thread-safe: one instance, used on the control thread.
class HealthVerdicts {
 public:
  // `next` replaces `previous` as the accepted document: remembers, for each task of `next` with
  // health checks and no results, its verdict in `previous` (if it has one).
  void carryOver(std::span<const std::shared_ptr<const App>> previous,
                 std::span<const std::shared_ptr<const App>> next);

  // Apps without health checks: true. Otherwise, a task with results passes when ANY result is
  // alive; a task without results gets its carried verdict (none → false).
  bool passes(const App& app, const Task& task) const;

  size_t carried() const { return carried_.size(); }

 private:
  // The verdict `task` had, as an entry of the accepted document; nullopt: none known.
  std::optional<bool> verdictOf(const Task& task) const;

  std::unordered_map<std::string, bool> carried_;  // task id → verdict, tasks without results
};

}  // namespace baton::discovery
