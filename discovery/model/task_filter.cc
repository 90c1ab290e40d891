#include "discovery/model/task_filter.h"

#include <algorithm>
#include <functional>

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
  // The unordered_map this replaced reserved up front; the flat layout grows instead (a small
  // cluster should not carry a 100,000-task table).
  table_.assign(16, kNone);
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

uint32_t HealthCache::hashOf(std::string_view task_id) {
  const uint64_t h = std::hash<std::string_view>{}(task_id);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

size_t HealthCache::probe(std::string_view task_id, uint32_t hash) const {
  const size_t mask = table_.size() - 1;
  for (size_t pos = hash & mask;; pos = (pos + 1) & mask) {
    const uint32_t index = table_[pos];
    if (index == kNone) return pos;
    const Entry& e = entries_[index];
    if (e.hash == hash && e.task_id == task_id) return pos;
  }
}

const bool* HealthCache::lookup(std::string_view task_id) {
  const uint32_t index = table_[probe(task_id, hashOf(task_id))];
  if (index == kNone) return nullptr;
  // A read refreshes the entry: a task still listed in Marathon's documents stays cached.
  touch(index);
  return &entries_[index].verdict;
}

void HealthCache::store(std::string_view task_id, bool verdict) {
  const uint32_t hash = hashOf(task_id);
  size_t pos = probe(task_id, hash);
  if (table_[pos] != kNone) {
    entries_[table_[pos]].verdict = verdict;
    touch(table_[pos]);
    return;
  }
  uint32_t index = 0;
  if (entries_.size() >= capacity_) {
    index = oldest_;  // evicted: its slot (and its id's buffer) takes the new task
    unlink(index);
    eraseAt(probe(entries_[index].task_id, entries_[index].hash));
    pos = probe(task_id, hash);  // the deletion may have shifted the free position
  } else {
    if ((entries_.size() + 1) * 2 > table_.size()) {
      grow();
      pos = probe(task_id, hash);
    }
    index = static_cast<uint32_t>(entries_.size());
    if (entries_.size() == entries_.capacity()) {
      // Doubling, but never past the capacity: 100,000 tasks take 100,000 slots, not 131,072.
      entries_.reserve(std::min(capacity_, std::max<size_t>(16, entries_.size() * 2)));
    }
    entries_.emplace_back();
  }
  Entry& e = entries_[index];
  e.task_id.assign(task_id);
  e.hash = hash;
  e.verdict = verdict;
  table_[pos] = index;
  pushFront(index);
}

void HealthCache::eraseAt(size_t pos) {
  const size_t mask = table_.size() - 1;
  size_t hole = pos;
  for (size_t next = (hole + 1) & mask; table_[next] != kNone; next = (next + 1) & mask) {
    const size_t home = entries_[table_[next]].hash & mask;
    // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (stays) continue;
    table_[hole] = table_[next];
    hole = next;
  }
  table_[hole] = kNone;
}

void HealthCache::grow() {
  std::vector<uint32_t> old = std::move(table_);
  table_.assign(old.size() * 2, kNone);
  const size_t mask = table_.size() - 1;
  for (uint32_t index : old) {
    if (index == kNone) continue;
    size_t pos = entries_[index].hash & mask;
    while (table_[pos] != kNone) pos = (pos + 1) & mask;
    table_[pos] = index;
  }
}

void HealthCache::unlink(uint32_t index) {
  Entry& e = entries_[index];
  if (e.newer != kNone) entries_[e.newer].older = e.older;
  if (e.older != kNone) entries_[e.older].newer = e.newer;
  if (newest_ == index) newest_ = e.older;
  if (oldest_ == index) oldest_ = e.newer;
  e.newer = kNone;
  e.older = kNone;
}

void HealthCache::pushFront(uint32_t index) {
  Entry& e = entries_[index];
  e.newer = kNone;
  e.older = newest_;
  if (newest_ != kNone) entries_[newest_].newer = index;
  newest_ = index;
  if (oldest_ == kNone) oldest_ = index;
}

void HealthCache::touch(uint32_t index) {
  if (newest_ == index) return;
  unlink(index);
  pushFront(index);
}

}  // namespace baton::discovery
