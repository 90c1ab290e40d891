// Passive outlier ejection, the control thread's half (issue 8; Envoy's outlier detection is
// the model). Workers count each host's failed requests in a row (outlier_streak.h) and report
// a streak that reached the cluster's threshold; the detector ejects the host for
// base_ejection x (its ejections in a row), at most max_ejection, unless that would put more
// than max_ejected_percent of the cluster's hosts out at once (floor(hosts x percent / 100):
// with the default 50 %, 1 of 2 or 3 hosts, 5 of 10; a single host is never ejected). When the
// time is over the host is back; the first success a worker then reports resets its count, so
// its next ejection starts again from the base time, while a host that fails again at once is
// ejected for longer each time.
//
// Like the health checker's verdicts, ejections are applied to the clusters the server
// publishes (Host::ejected, a memoised copy of each affected cluster) and kept by cluster name +
// host address across reloads and Marathon resyncs; a host (or cluster) that disappears is
// forgotten. Panic: when every Active host of a cluster is unhealthy or ejected, and the cluster
// has panic on (the default), every host serves (the cap already keeps ejection alone from
// taking them all).
//
// Pure logic: the caller passes the time, so it is unit-tested with simulated time; the server
// owns the timer (nextExpiry) and the publish.
//
// Threading: control thread only (the server's loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/admin/status.h"
#include "proxy/core/string_keyed.h"
#include "proxy/health/outlier_streak.h"
#include "upstream/cluster.h"

namespace baton::proxy::health {

class OutlierDetector {
 public:
  using Clock = std::chrono::steady_clock;
  using Clusters = std::vector<std::shared_ptr<const upstream::Cluster>>;

  struct HostState {
    bool ejected = false;
    bool recovering = false;  // back from an ejection, no success reported yet
    Clock::time_point until{};
    uint32_t ejections = 0;  // in a row (reset by a success after coming back)
    uint64_t ejections_total = 0;
  };

  // Adopts the clusters about to be published: takes their settings and host counts, forgets
  // hosts and clusters that are gone (or whose detection is off).
  void sync(const Clusters& clusters);
  // A worker's report. True when the published clusters must change (a host was ejected).
  bool onReport(const OutlierReport& report, Clock::time_point now);
  // Ends the ejections due by `now`. True when any did (publish).
  bool expire(Clock::time_point now);
  // When the next ejection ends, if any host is out.
  std::optional<Clock::time_point> nextExpiry() const;
  // `clusters` with Host::ejected / outlier_recovering set (unchanged pointers where nothing
  // is ejected or recovering). Apply after the health checker: panic sees both.
  Clusters apply(const Clusters& clusters);
  // Ejection state of every known host, into `status` (by cluster name and host address).
  void fillStatus(admin::EdgeStatus& status, Clock::time_point now) const;

  // Tests and status: the state of a host, nullptr when it never was ejected.
  const HostState* find(const std::string& cluster, const std::string& address) const;

 private:
  struct ClusterState {
    conf::OutlierSpec spec;
    size_t host_count = 0;
    // As last synced: a late report about a host that has left is ignored.
    std::shared_ptr<const upstream::Cluster> cluster;
    // Only hosts that were ejected at least once since their last recovery (most have none).
    core::StringMap<HostState> hosts;
    uint64_t epoch = 1;  // bumped when what apply() writes changes
    uint64_t capped = 0;
    bool panic = false;   // as last applied
    uint64_t synced = 0;  // the sync() round that last saw the cluster
    bool marks() const;   // any host ejected or recovering
  };
  bool eject(const std::string& name, ClusterState& cluster, const std::string& address,
             OutlierSignal signal, Clock::time_point now);
  std::shared_ptr<const upstream::Cluster> adjusted(ClusterState& state,
                                                    const upstream::Cluster& cluster) const;

  std::unordered_map<std::string, ClusterState> clusters_;  // by cluster name
  uint64_t sync_round_ = 0;
  struct Memo {
    std::shared_ptr<const upstream::Cluster> base;  // held: its address stays unique
    std::shared_ptr<const upstream::Cluster> adjusted;
    uint64_t epoch = 0;
  };
  std::unordered_map<const upstream::Cluster*, Memo> memo_;
};

// The ejection time of a host's n-th ejection in a row: base x n, at most max.
conf::Duration ejectionTime(const conf::OutlierSpec& spec, uint32_t ejections);
// How many of `hosts` may be out at once: floor(hosts x percent / 100).
size_t maxEjected(const conf::OutlierSpec& spec, size_t hosts);

}  // namespace baton::proxy::health
