// Which Marathon tasks may receive traffic (marathon.md §1.4 task states, §4.3 health).
//
// translate.h calls isRoutable() and, when `[marathon] health_check` is on, HealthCache::passes()
// once per task of every parsed document, on the control thread. The cache lives as long as the
// discovery manager (across documents), which is the whole point: see HealthCache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
//
// Laid out flat for 100,000 tasks (translate asks it about every task of every document): the
// entries live in one vector and link into the LRU order by index, and an open-addressing table
// of entry indices finds them. An evicted entry's slot, task id buffer included, takes the new
// task. About 60 bytes a task instead of ~150 for a std::list node, an unordered_map node and a
// bucket, and no allocation per new task once the cache is full.
class HealthCache {
 public:
  static constexpr size_t kDefaultCapacity = 100'000;

  explicit HealthCache(size_t capacity = kDefaultCapacity);

  // Apps without health checks: true. Otherwise, a task with results passes when ANY result is
  // alive, and that verdict is stored; a task without results gets its cached verdict (none
  // cached → false). O(1) expected.
  bool passes(const App& app, const Task& task);

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Entry {
    std::string task_id;
    uint32_t hash = 0;       // of task_id: probe start, and compared before the string
    uint32_t newer = kNone;  // LRU neighbours (entry indices)
    uint32_t older = kNone;
    bool verdict = false;
  };

  void store(std::string_view task_id, bool verdict);
  const bool* lookup(std::string_view task_id);

  static uint32_t hashOf(std::string_view task_id);
  // The table position holding the entry for `task_id`, or the empty position where it would go.
  size_t probe(std::string_view task_id, uint32_t hash) const;
  void eraseAt(size_t pos);  // backward-shift deletion: no tombstones
  void grow();
  void unlink(uint32_t index);
  void pushFront(uint32_t index);  // most recently used
  void touch(uint32_t index);

  size_t capacity_;
  std::vector<Entry> entries_;   // size() == number of cached tasks
  std::vector<uint32_t> table_;  // power of two, at most half full; kNone = empty
  uint32_t newest_ = kNone;
  uint32_t oldest_ = kNone;
};

}  // namespace baton::discovery
