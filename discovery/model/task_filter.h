// Which Marathon tasks may receive traffic (marathon.md §1.4 task states, §4.3 health).
//
// translate.h calls isRoutable() and, when `[marathon] health_check` is on, HealthCache::passes()
// once per task of every parsed document, on the control thread. The cache lives as long as the
// discovery manager (across documents), which is the whole point: see HealthCache.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "discovery/model/app.h"

namespace baton::discovery {

// marathon-lb's rule (EXCLUDED_TASK_STATES): Running, Lost and Unreachable are routable — a
// partitioned task may still be serving — and every other state, Unknown included, is not.
bool isRoutable(TaskState state);

// Marathon's health filter with a last-known-verdict cache, exactly as marathon-lb's
// `--health-check` (PR #148).
//
// Why a cache: Marathon keeps health-check results only in memory, so after a leader failover
// every task comes back with NO healthCheckResults until its next check runs (up to
// intervalSeconds later). Trusting that literally empties every backend of every app with health
// checks at once (marathon/issues/3419, #4220). The cache remembers, per task id, the verdict of
// the last document that did carry results, and reuses it while results are missing.
//
// LRU by task id so it stays bounded; the capacity must cover every task of the cluster (a
// task evicted while its results are missing is excluded until its next check). Not
// thread-safe: one instance, used on the control thread.
class HealthCache {
 public:
  static constexpr size_t kDefaultCapacity = 100'000;

  explicit HealthCache(size_t capacity = kDefaultCapacity);

  // Apps without health checks: true. Otherwise, a task with results passes when ANY result is
  // alive, and that verdict is stored; a task without results gets its cached verdict (none
  // cached → false). O(1) expected.
  bool passes(const App& app, const Task& task);

  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Lru = std::list<std::pair<std::string, bool>>;  // most recently used first

  void store(std::string_view task_id, bool verdict);
  const bool* lookup(std::string_view task_id);

  size_t capacity_;
  Lru lru_;
  // Keys view the task id owned by the list node (list nodes never move): one copy of each of
  // up to 100,000 task ids instead of two, and half the allocations when ids turn over.
  std::unordered_map<std::string_view, Lru::iterator, Hash, std::equal_to<>> map_;
};

}  // namespace baton::discovery
