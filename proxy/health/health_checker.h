// Active health checks of every cluster that has one ([[cluster]] health_check, or a Marathon
// app's healthChecks): one probe schedule (a min-heap of due times behind one timer) for every
// (cluster name, host address), jittered; the verdicts
// (host_health.h) handed out as immutable ClusterVerdicts (health_verdicts.h), which the control
// thread applies to the clusters it publishes.
//
// Verdicts are keyed by cluster name + host address, so they survive Marathon resyncs and
// reloads; a host (or a whole cluster, or its check) that disappears is forgotten with its
// timer and any probe in flight.
//
// Threading: the health thread only (health_service.h runs it there): 100,000 Marathon tasks
// mean ~100,000 probes per interval, which must not delay resyncs on the control thread.
// `on_change` is called (from a probe callback) when a host's routability flipped.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/admin/status.h"
#include "proxy/core/event_loop.h"
#include "proxy/health/health_verdicts.h"
#include "proxy/health/host_health.h"
#include "proxy/health/prober.h"
#include "upstream/cluster.h"

namespace baton::tls {
class ClientContext;
}

namespace baton::proxy::health {

class HealthChecker {
 public:
  using Clusters = std::vector<std::shared_ptr<const upstream::Cluster>>;

  HealthChecker(core::EventLoop& loop, std::function<void()> on_change);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Adopts the clusters about to be published: starts probing new hosts, forgets gone ones,
  // takes a changed check's new settings (keeping the verdicts).
  void sync(const Clusters& clusters);
  // The verdicts now, reusing `previous`'s ClusterVerdict of every cluster that did not change
  // since. `changed`: some cluster's set of unroutable hosts differs from `previous`'s.
  std::shared_ptr<const Verdicts> verdicts(const Verdicts* previous, bool& changed) const;
  // Health of every checked host and the per-cluster probe counters, into `status` (by cluster
  // name and host address; the panic flag is the control thread's, VerdictApplier).
  void fillStatus(admin::EdgeStatus& status) const;
  // Stops every timer and probe (shutdown).
  void stop();

 private:
  struct Target;
  struct ClusterChecks;
  struct Due {
    Clock::time_point at;
    Target* target;
    bool operator>(const Due& other) const { return at > other.at; }
  };
  void schedule(Target& target, conf::Duration delay);
  void onTimer();  // starts the probes that are due, re-arms for the next
  void armTimer();
  // Drops the schedule entries of targets about to be destroyed (they are still alive here,
  // so no address in the heap can belong to a newer target).
  void unschedule(const std::vector<std::unique_ptr<Target>>& leaving);
  void startProbe(Target& target);
  void onResult(Target& target, ProbeResult result);
  const tls::ClientContext* tlsContext();
  double unit();  // uniform in [0, 1)

  core::EventLoop& loop_;
  std::function<void()> on_change_;
  std::unordered_map<std::string, std::unique_ptr<ClusterChecks>> clusters_;
  std::shared_ptr<const tls::ClientContext> tls_;  // https probes (no verification: Marathon's)
  std::mt19937_64 random_;
  // One entry per target waiting for its next probe (none while a probe runs). A timer per host
  // was 272 of a target's 560 bytes: 100,000 checked Marathon tasks cost 80 MB; now ~25.
  std::vector<Due> due_;  // a min-heap (std::push_heap with std::greater)
  core::Timer timer_;
  Clock::time_point armed_for_ = Clock::time_point::max();
};

}  // namespace baton::proxy::health
