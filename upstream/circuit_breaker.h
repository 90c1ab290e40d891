// Circuit breaking (issue 8): per-cluster limits on upstream connections, requests waiting for a
// connection, and requests in flight, shared by every worker.
//
// One ClusterLoad per cluster name lives as long as any snapshot's Cluster refers to it: a
// cluster rebuilt from a changed spec (reload, Marathon update) adopts its predecessor's
// (Cluster::create), so requests and connections started under the old snapshot are still
// counted against the new limits. Counters are relaxed atomics on one cache line per cluster:
// workers take and return units without a lock, and an acquire that would pass the limit is
// undone at once (the limit is exact, never overshot by a race).
//
// A unit is taken only while the cluster has that limit set (0 = off costs nothing): a slot
// remembers whether it holds one, so turning a limit on or off by reload never unbalances the
// counts.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace baton::upstream {

enum class LoadKind : uint8_t { Connections, Pending, Requests };
inline constexpr size_t kLoadKinds = 3;

// "max_connections", "max_pending", "max_requests": the limit's config key (logs, metrics).
std::string_view loadLimitName(LoadKind kind);

class ClusterLoad {
 public:
  // Any thread. Takes one unit of `kind` unless that would exceed `limit` (> 0).
  bool tryAcquire(LoadKind kind, uint32_t limit) {
    std::atomic<uint32_t>& count = counts_[static_cast<size_t>(kind)];
    if (count.fetch_add(1, std::memory_order_relaxed) < limit) return true;
    count.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void release(LoadKind kind) {
    counts_[static_cast<size_t>(kind)].fetch_sub(1, std::memory_order_relaxed);
  }
  // Units held now (admin display; racy by nature).
  uint32_t current(LoadKind kind) const {
    return counts_[static_cast<size_t>(kind)].load(std::memory_order_relaxed);
  }

 private:
  alignas(64) std::array<std::atomic<uint32_t>, kLoadKinds> counts_{};
};

// One unit of a ClusterLoad, returned when the slot is destroyed or reset. Owned by one stream
// or one upstream connection on one worker; movable, not copyable.
class LoadSlot {
 public:
  LoadSlot() = default;
  LoadSlot(const LoadSlot&) = delete;
  LoadSlot& operator=(const LoadSlot&) = delete;
  LoadSlot(LoadSlot&& other) noexcept : load_(std::move(other.load_)), kind_(other.kind_) {}
  LoadSlot& operator=(LoadSlot&& other) noexcept {
    if (this != &other) {
      reset();
      load_ = std::move(other.load_);
      kind_ = other.kind_;
    }
    return *this;
  }
  ~LoadSlot() { reset(); }

  // limit 0: nothing is taken and the result is true. Otherwise true when a unit was taken (the
  // slot holds it; a unit already held is returned first).
  bool acquire(const std::shared_ptr<ClusterLoad>& load, LoadKind kind, uint32_t limit) {
    reset();
    if (limit == 0 || load == nullptr) return true;
    if (!load->tryAcquire(kind, limit)) return false;
    load_ = load;
    kind_ = kind;
    return true;
  }
  void reset() {
    if (load_ == nullptr) return;
    load_->release(kind_);
    load_.reset();
  }
  bool held() const { return load_ != nullptr; }

 private:
  std::shared_ptr<ClusterLoad> load_;
  LoadKind kind_ = LoadKind::Requests;
};

}  // namespace baton::upstream
